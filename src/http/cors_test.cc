// CORS on the auth surface (http/cors.h): which preflights pass, and which answers a page may
// read, from the environment's applications' corsSettings.
#include "http/cors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "testutil/fixtures.h"

namespace tollgate::http {
namespace {

using testutil::EnvBuilder;

constexpr std::string_view kListed = "https://app.example";

std::shared_ptr<const config::EnvironmentSnapshot> Env(bool listed_app_enabled = true) {
  EnvBuilder b;
  b.App("browser").LastApp().cors_settings =
      model::CorsSettings{.behavior = model::CorsBehavior::kAllowSpecificOrigins,
                          .origins = {std::string(kListed), "http://127.0.0.1:3000"}};
  b.LastApp().enabled = listed_app_enabled;
  b.App("none").LastApp().cors_settings = model::CorsSettings{};  // ALLOW_NO_ORIGINS
  b.App("default");                                               // no corsSettings
  return b.Build();
}

Request Preflighted(std::string_view origin, std::string_view method = "POST") {
  Request r;
  r.method = "OPTIONS";
  r.origin = origin;
  r.access_control_request_method = method;
  return r;
}

const std::string* Header(const Response& r, std::string_view name) {
  auto it = std::find_if(r.headers.begin(), r.headers.end(),
                         [&](const auto& h) { return h.first == name; });
  return it == r.headers.end() ? nullptr : &it->second;
}

TEST(Cors, APreflightFromAListedOriginPasses) {
  auto env = Env();
  auto r = Preflight(Preflighted(kListed), *env);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_TRUE(r->body.empty());
  ASSERT_NE(Header(*r, "Access-Control-Allow-Origin"), nullptr);
  EXPECT_EQ(*Header(*r, "Access-Control-Allow-Origin"), kListed);
  EXPECT_EQ(*Header(*r, "Access-Control-Allow-Methods"), "POST");
  const std::string& headers = *Header(*r, "Access-Control-Allow-Headers");
  EXPECT_NE(headers.find("Authorization"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type"), std::string::npos);
  EXPECT_EQ(*Header(*r, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(*Header(*r, "Vary"), "Origin");
  EXPECT_EQ(Header(*r, "Access-Control-Allow-Credentials"), nullptr);
}

TEST(Cors, OtherPreflightsAre403WithoutCorsHeaders) {
  auto env = Env();
  for (const Request& req :
       {Preflighted("https://evil.example"), Preflighted("https://app.example:444"),
        Preflighted("HTTPS://APP.EXAMPLE"), Preflighted("null"), Preflighted(kListed, "PUT"),
        Preflighted(kListed, "post")}) {
    auto r = Preflight(req, *env);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << *req.origin << " " << *req.access_control_request_method;
    EXPECT_EQ(Header(*r, "Access-Control-Allow-Origin"), nullptr);
  }
  // A disabled application's origins are not the environment's.
  EXPECT_EQ(Preflight(Preflighted(kListed), *Env(false))->status, 403);
}

TEST(Cors, AnOptionsRequestThatIsNoPreflightIsLeftToTheRouter) {
  auto env = Env();
  Request plain;
  plain.method = "OPTIONS";
  EXPECT_FALSE(Preflight(plain, *env));
  Request no_method = Preflighted(kListed);
  no_method.access_control_request_method.reset();
  EXPECT_FALSE(Preflight(no_method, *env));
  Request post = Preflighted(kListed);
  post.method = "POST";
  EXPECT_FALSE(Preflight(post, *env));
}

TEST(Cors, AnAnswerToAListedOriginCanBeRead) {
  auto env = Env();
  Request req;
  req.method = "POST";
  req.origin = kListed;
  Response r = WithCors(Response{}, req, *env);
  EXPECT_EQ(*Header(r, "Access-Control-Allow-Origin"), kListed);
  EXPECT_NE(Header(r, "Access-Control-Expose-Headers")->find("Correlation-Id"), std::string::npos);
  EXPECT_EQ(*Header(r, "Vary"), "Origin");

  req.origin = "https://evil.example";
  r = WithCors(Response{}, req, *env);
  EXPECT_EQ(Header(r, "Access-Control-Allow-Origin"), nullptr);
  EXPECT_EQ(*Header(r, "Vary"), "Origin");
  req.origin.reset();  // not a browser
  r = WithCors(Response{}, req, *env);
  EXPECT_EQ(Header(r, "Access-Control-Allow-Origin"), nullptr);
}

TEST(Cors, TheAnswerAfterABlockingStepOrAWaitCarriesTheHeaders) {
  auto env = Env();
  Request req;
  req.method = "POST";
  req.origin = kListed;
  Response blocking;
  blocking.then_blocking = [] {
    Response r;
    r.status = 200;
    return r;
  };
  Response later = WithCors(std::move(blocking), req, *env);
  EXPECT_EQ(Header(later, "Access-Control-Allow-Origin"), nullptr);  // not the answer yet
  ASSERT_TRUE(later.then_blocking);
  Response answer = later.then_blocking();
  EXPECT_EQ(*Header(answer, "Access-Control-Allow-Origin"), kListed);

  // On the heap: GCC's -O2 ASan build otherwise warns (maybe-uninitialized) in the Pending.
  auto waiting = std::make_unique<Response>();
  waiting->pending = oauth::Pending(nullptr, nullptr);
  waiting->resume = [](const config::EnvironmentSnapshot&) { return Response{}; };
  Response resumed = WithCors(std::move(*waiting), req, *env);
  ASSERT_TRUE(resumed.resume);
  EXPECT_EQ(*Header(resumed.resume(*env), "Access-Control-Allow-Origin"), kListed);
}

}  // namespace
}  // namespace tollgate::http
