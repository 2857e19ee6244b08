// Routing (SPEC §1, §2.1): 404 for unknown paths and environments, 405 with Allow.
#include "http/router.h"

#include <gtest/gtest.h>

#include <cctype>

#include "common/base64.h"
#include "testutil/fixtures.h"

namespace tollgate::http {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : clock_(FromUnixMillis(1'800'000'000'000)),
        throttle_(clock_),
        endpoint_(oauth::ClientAuthServices{clock_, throttle_}, testutil::kApiUrl) {
    testutil::EnvBuilder b;
    b.Resource("one", "https://api.one", 600, {"read"}).App("svc").Grant("svc", "one", {"read"});
    data_ = b.data();
  }

  // Routes through a snapshot built from `data_` via a throwaway store-less holder.
  Response Send(std::string method, std::string path, std::string body = "",
                std::optional<std::string> auth = std::nullopt) {
    Request r;
    method_ = std::move(method);
    path_ = std::move(path);
    body_ = std::move(body);
    auth_ = std::move(auth);
    r.method = method_;
    r.path = path_;
    r.body = body_;
    r.content_type = "application/x-www-form-urlencoded";
    if (auth_) r.authorization = *auth_;
    r.correlation_id = "corr";
    return router_->Handle(r);
  }

  void SetUp() override {
    struct NullStore final : storage::Store {
      storage::StoreResult<void> Write(
          const std::function<storage::StoreResult<void>(storage::Transaction&)>&) override {
        return Fail(storage::StoreError{});
      }
      storage::StoreResult<storage::Deployment> LoadAll() override { return deployment; }
      storage::StoreResult<model::EnvironmentData> LoadEnvironment(const EnvId&) override {
        return Fail(storage::StoreError{});
      }
      storage::StoreResult<bool> RememberJti(const model::RememberedJti&, TimePoint) override {
        return Fail(storage::StoreError{});
      }
      storage::StoreResult<std::vector<model::RememberedJti>> LoadJtis(model::JtiKind,
                                                                       TimePoint) override {
        return std::vector<model::RememberedJti>{};
      }
      storage::StoreResult<void> PurgeExpiredJtis(TimePoint) override { return {}; }
      storage::StoreResult<void> AppendActivities(const std::vector<model::Activity>&) override {
        return Fail(storage::StoreError{});
      }
      storage::StoreResult<std::vector<model::Activity>> LoadActivities(
          const model::ActivityQuery&) override {
        return Fail(storage::StoreError{});
      }
      storage::StoreResult<int64_t> PurgeActivities(TimePoint) override {
        return Fail(storage::StoreError{});
      }
      storage::Deployment deployment;
    };
    store_ = std::make_unique<NullStore>();
    static_cast<NullStore*>(store_.get())->deployment.organization =
        model::Organization{data_.environment.organization_id, "org", {}};
    static_cast<NullStore*>(store_.get())->deployment.environments.push_back(data_);
    holder_ = std::make_unique<config::ConfigHolder>(
        *store_, config::Urls{testutil::kAuthUrl, testutil::kApiUrl});
    ASSERT_TRUE(holder_->LoadAll().ok());
    Services s{.config = *holder_, .token_endpoint = endpoint_, .clock = clock_};
    router_ = std::make_unique<Router>(std::move(s));
  }

  std::string EnvPath(const std::string& rest) {
    return "/" + data_.environment.id.str() + "/as/" + rest;
  }

  static std::string HeaderValue(const Response& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }

  FakeClock clock_;
  oauth::FailureThrottle throttle_;
  oauth::TokenEndpoint endpoint_;
  model::EnvironmentData data_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<config::ConfigHolder> holder_;
  std::unique_ptr<Router> router_;
  std::string method_, path_, body_;
  std::optional<std::string> auth_;
};

TEST_F(RouterTest, TokenSuccess) {
  Response r = Send("POST", EnvPath("token"), "grant_type=client_credentials",
                    "Basic " + Base64Encode("svc:s3cret"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("{\"access_token\":\"ey"), 0u);
  EXPECT_NE(r.body.find("\"token_type\":\"Bearer\",\"expires_in\":600,\"scope\":\"read\"}"),
            std::string::npos);
  EXPECT_EQ(HeaderValue(r, "Cache-Control"), "no-store");
  EXPECT_EQ(HeaderValue(r, "Pragma"), "no-cache");
}

TEST_F(RouterTest, UpperCaseEnvironmentIdIsAccepted) {
  std::string upper = data_.environment.id.str();
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  Response r = Send("GET", "/" + upper + "/as/jwks");
  EXPECT_EQ(r.status, 200);
}

TEST_F(RouterTest, UnknownPathsAndEnvironmentsAre404) {
  EXPECT_EQ(Send("POST", "/00000000-0000-4000-8000-000000000000/as/token").status, 404);
  EXPECT_EQ(Send("POST", "/not-a-uuid/as/token").status, 404);
  EXPECT_EQ(Send("GET", EnvPath("nothing")).status, 404);
  EXPECT_EQ(Send("GET", EnvPath("token/")).status, 404);
  EXPECT_EQ(Send("GET", "/").status, 404);
  EXPECT_EQ(Send("GET", "/v1/environments").status, 404);
  Response r = Send("GET", "/nothing");
  EXPECT_NE(r.body.find("\"code\":\"NOT_FOUND\""), std::string::npos);
}

// SPEC §6: a /v1 request without a usable bearer token is answered from its header alone, with
// the body the management API writes after reading the whole request.
TEST_F(RouterTest, ManagementRequestsAreRefusedFromTheHeader) {
  mgmt::ManagementApi api(*store_, *holder_, clock_);
  Services s{.config = *holder_, .token_endpoint = endpoint_, .clock = clock_};
  s.management = &api;
  Router router(std::move(s));

  EXPECT_TRUE(MatchRoute("/v1").route->header_first);
  EXPECT_TRUE(MatchRoute("/v1/environments").route->header_first);
  EXPECT_FALSE(MatchRoute("/v1x").route->header_first);
  EXPECT_FALSE(MatchRoute(EnvPath("token")).route->header_first);

  auto id_free = [](std::string body) {  // the error's "id" differs from answer to answer
    size_t at = body.find("\"id\":\"");
    if (at != std::string::npos) body.erase(at, body.find('"', at + 6) + 2 - at);
    return body;
  };
  for (std::optional<std::string_view> auth :
       {std::optional<std::string_view>(), std::optional<std::string_view>("Basic abc"),
        std::optional<std::string_view>("Bearer x.y.z")}) {
    Request header;
    header.method = "POST";
    header.path = "/v1/environments";
    header.content_type = "application/json";
    header.authorization = auth;
    header.correlation_id = "corr";
    auto early = router.HandleHeader(header);
    ASSERT_TRUE(early.has_value()) << auth.value_or("(none)");
    Response full = router.Handle(header);
    EXPECT_EQ(early->status, 401);
    EXPECT_EQ(early->status, full.status);
    EXPECT_EQ(early->headers, full.headers);
    EXPECT_EQ(HeaderValue(*early, "WWW-Authenticate"), "Bearer");
    EXPECT_EQ(id_free(early->body), id_free(full.body));
    EXPECT_NE(early->body.find("\"code\":\"ACCESS_FAILED\""), std::string::npos);
  }
  const std::string token_path = EnvPath("token");  // Request::path is a view
  Request token;
  token.method = "POST";
  token.path = token_path;
  EXPECT_FALSE(router.HandleHeader(token).has_value());
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  Response r = Send("GET", EnvPath("token"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderValue(r, "Allow"), "POST");
  r = Send("POST", EnvPath("jwks"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderValue(r, "Allow"), "GET");
  r = Send("DELETE", EnvPath(".well-known/openid-configuration"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(HeaderValue(r, "Allow"), "GET");
}

TEST_F(RouterTest, JwksAndDiscovery) {
  Response jwks = Send("GET", EnvPath("jwks"));
  EXPECT_EQ(jwks.status, 200);
  EXPECT_NE(jwks.body.find("\"kid\":\"" + data_.signing_keys.front().id.str() + "\""),
            std::string::npos);
  EXPECT_EQ(jwks.body.find("\"d\""), std::string::npos) << "no private material";
  EXPECT_EQ(HeaderValue(jwks, "Cache-Control"), "public, max-age=300");
  for (auto doc : {"openid-configuration", "oauth-authorization-server"}) {
    Response d = Send("GET", EnvPath(std::string(".well-known/") + doc));
    EXPECT_EQ(d.status, 200);
    std::string issuer = std::string(testutil::kAuthUrl) + "/" + data_.environment.id.str() + "/as";
    EXPECT_NE(d.body.find("\"issuer\":\"" + issuer + "\""), std::string::npos);
    EXPECT_NE(d.body.find("\"token_endpoint\":\"" + issuer + "/token\""), std::string::npos);
    EXPECT_NE(d.body.find("\"jwks_uri\":\"" + issuer + "/jwks\""), std::string::npos);
  }
}

// RFC 8414 §3.1: the path-inserted locations serve the appended forms' document, with the same
// headers; an unknown or malformed environment is 404, another method 405.
TEST_F(RouterTest, PathInsertedDiscoveryIsTheSameDocument) {
  const std::string env = data_.environment.id.str();
  std::string upper = env;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string doc : {"openid-configuration", "oauth-authorization-server"}) {
    SCOPED_TRACE(doc);
    const Response appended = Send("GET", EnvPath(".well-known/" + doc));
    ASSERT_EQ(appended.status, 200);
    for (const std::string& id : {env, upper}) {
      const Response inserted = Send("GET", "/.well-known/" + doc + "/" + id + "/as");
      EXPECT_EQ(inserted.status, 200);
      EXPECT_EQ(inserted.body, appended.body);
      EXPECT_EQ(inserted.headers, appended.headers);
      EXPECT_EQ(HeaderValue(inserted, "Cache-Control"), "public, max-age=300");
    }
    const Response wrong_method = Send("POST", "/.well-known/" + doc + "/" + env + "/as");
    EXPECT_EQ(wrong_method.status, 405);
    EXPECT_EQ(HeaderValue(wrong_method, "Allow"), "GET");
    for (const std::string& path :
         {"/.well-known/" + doc + "/8a3b3c1e-1f2a-4b5c-9d8e-0123456789ab/as",
          "/.well-known/" + doc + "/not-a-uuid/as", "/.well-known/" + doc + "/" + env,
          "/.well-known/" + doc + "/" + env + "/as/", "/.well-known/" + doc}) {
      const Response missing = Send("GET", path);
      EXPECT_EQ(missing.status, 404) << path;
      EXPECT_NE(missing.body.find("\"code\":\"NOT_FOUND\""), std::string::npos) << path;
    }
  }
}

TEST_F(RouterTest, Operations) {
  EXPECT_EQ(Send("GET", "/healthz").status, 200);
  EXPECT_EQ(Send("GET", "/readyz").status, 200);
  router_->Record(Routes()[0], 200, std::chrono::microseconds(300));
  router_->Record(NoRoute(), 404, std::chrono::milliseconds(2));
  Response m = Send("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("tollgate_http_requests_total{route=\"/healthz\",code=\"200\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("tollgate_http_requests_total{route=\"unmatched\",code=\"404\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("tollgate_http_request_duration_seconds_bucket{route=\"/healthz\",le="
                        "\"0.0005\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("tollgate_tokens_issued_total 0\n"), std::string::npos) << m.body;

  // A token request that waited too long for jwksUrl keys is a token error; others are not.
  Request waited;
  waited.correlation_id = "c";
  EXPECT_EQ(router_->WaitedTooLong(MatchRoute(EnvPath("introspect")), waited).status, 503);
  EXPECT_EQ(router_->WaitedTooLong(MatchRoute(EnvPath("token")), waited).status, 503);
  m = Send("GET", "/metrics");
  EXPECT_NE(m.body.find("tollgate_token_errors_total{stage=\"client_authentication\",error="
                        "\"temporarily_unavailable\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_EQ(Send("POST", "/healthz").status, 405);
}

// Routes whose service the server runs without answer 404 for every method (no 405).
TEST_F(RouterTest, RoutesWithoutTheirServiceAre404) {
  for (const char* method : {"GET", "POST"}) {
    EXPECT_EQ(Send(method, EnvPath("introspect")).status, 404) << method;
    EXPECT_EQ(Send(method, EnvPath("revoke")).status, 404) << method;
    EXPECT_EQ(Send(method, "/v1").status, 404) << method;
  }
  EXPECT_EQ(Send("GET", "/healthz/").status, 200);
  EXPECT_EQ(Send("GET", "/healthz/x").status, 404);
}

// PingOne's platform error shape, written by mgmt::ToResponse for the router too: the same
// bytes as before (only the "id" differs from answer to answer).
TEST_F(RouterTest, PlatformErrorsKeepTheirBytes) {
  auto id_free = [](const std::string& body) {
    EXPECT_EQ(body.rfind("{\"id\":\"", 0), 0u) << body;
    return body.substr(body.find("\",\"code\":") + 2);
  };
  Response r = Send("GET", "/nothing");
  EXPECT_EQ(id_free(r.body),
            R"("code":"NOT_FOUND","message":"The requested resource was not found."})");
  EXPECT_TRUE(r.headers.empty());
  r = Send("GET", EnvPath("token"));
  EXPECT_EQ(
      id_free(r.body),
      R"("code":"METHOD_NOT_ALLOWED","message":"The request method is not supported for this resource."})");
  EXPECT_EQ(r.headers, (decltype(r.headers){{"Allow", "POST"}}));
  r = router_->FramingError(413, "/v1/environments", "corr");
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(r.close);
  EXPECT_EQ(id_free(r.body),
            R"("code":"REQUEST_TOO_LARGE","message":"The request body is too large."})");
  r = router_->FramingError(431, "", "corr");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(id_free(r.body),
            R"("code":"INVALID_REQUEST","message":"The request headers are too large."})");
  r = router_->FramingError(413, EnvPath("token"), "corr");
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("\"error\":\"invalid_request\""), std::string::npos);
  // The shape follows the route's surface, not the text of the path.
  r = router_->FramingError(413, "/v1/environments/x/as/token", "corr");
  EXPECT_EQ(id_free(r.body),
            R"("code":"REQUEST_TOO_LARGE","message":"The request body is too large."})");
  r = router_->FramingError(413, "/nothing/as/here", "corr");
  EXPECT_EQ(id_free(r.body),
            R"("code":"REQUEST_TOO_LARGE","message":"The request body is too large."})");
}

// Decision 0003: a request that waited resumes in its environment as the snapshot has it then,
// without being routed or parsed again; 404 when the environment is gone.
TEST_F(RouterTest, ResumeFindsTheEnvironmentAgain) {
  Response waiting;
  waiting.pending.emplace(std::make_shared<oauth::Flight>(), nullptr);
  const config::EnvironmentSnapshot* seen = nullptr;
  waiting.resume = [&seen](const config::EnvironmentSnapshot& env) {
    seen = &env;
    Response r;
    r.then_blocking = [] { return Response{}; };
    return r;
  };
  const std::string path = EnvPath("token");
  Response r = router_->Resume(MatchRoute(path), waiting);
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->environment.id, data_.environment.id);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.then_blocking);
  r = router_->Resume(MatchRoute("/00000000-0000-4000-8000-000000000000/as/token"), waiting);
  EXPECT_EQ(r.status, 404);
}

TEST_F(RouterTest, BodyLimits) {
  EXPECT_EQ(MatchRoute("/x/as/token").route->body_limit, 16u * 1024);
  EXPECT_EQ(MatchRoute("/v1/environments").route->body_limit, 1024u * 1024);
}

}  // namespace
}  // namespace tollgate::http
