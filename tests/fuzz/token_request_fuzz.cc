// Fuzz target: the token endpoint's handler on arbitrary bytes. The input is
// AUTHORIZATION '\n' CONTENT-TYPE '\n' BODY (a part that is missing is an absent header), so the
// form decoder, Basic decoding (RFC 6749 §2.3.1), client assertions, the scope and resource rules
// and the JSON answer all see attacker-controlled text; so do token exchange's subject and actor
// tokens, local or of a trusted issuer whose keys a fake fetcher serves at once. Every answer
// must be 200 or an OAuth error of SPEC §2.7 (400, 401, 429) with a JSON body; anything else, a
// crash, a leak or a sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/clock.h"
#include "crypto/keys.h"
#include "http/handlers/auth_handlers.h"
#include "http/message.h"
#include "oauth/brute_force.h"
#include "oauth/client_auth/remote_jwks.h"
#include "oauth/token_endpoint.h"
#include "testutil/fixtures.h"

namespace {

using namespace tollgate;

std::shared_ptr<const config::EnvironmentSnapshot> Env() {
  testutil::EnvBuilder b;
  b.Resource("orders", "https://orders.fuzz.test", 900, {"orders:read", "orders:write"})
      .App("basic-client", model::AppType::kService, model::AuthMethod::kClientSecretBasic,
           "s3cret")
      .Grant("basic-client", "orders", {"orders:read", "orders:write"})
      .App("post-client", model::AppType::kService, model::AuthMethod::kClientSecretPost, "s3cret")
      .Grant("post-client", "orders", {"orders:read"})
      .App("jwt-client", model::AppType::kService, model::AuthMethod::kClientSecretJwt, "s3cret")
      .Grant("jwt-client", "orders", {"orders:write"})
      .App("admin-worker", model::AppType::kWorker, model::AuthMethod::kClientSecretBasic, "s3cret")
      .Role("admin-worker")
      .App("exchanger", model::AppType::kService, model::AuthMethod::kClientSecretBasic, "s3cret")
      .Grant("exchanger", "orders", {"orders:read"})
      .TrustedIssuer("idp", "https://idp.fuzz.test", "https://idp.fuzz.test/jwks",
                     "https://tollgate.fuzz.test");
  b.LastApp().grant_types = {model::GrantType::kTokenExchange};
  return b.Build();
}

std::string_view TakeLine(std::string_view& in, bool& present) {
  const size_t nl = in.find('\n');
  present = nl != std::string_view::npos;
  std::string_view line = in.substr(0, present ? nl : in.size());
  in.remove_prefix(present ? nl + 1 : in.size());
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto env = Env();
  static const FakeClock clock(FromUnixMillis(1'800'000'000'000));
  // A fresh throttle per input, so one input's failures do not change how the next one runs.
  oauth::FailureThrottle throttle(clock);
  // The trusted issuer's keys: one P-256 key, made once, served at once by a fake fetcher.
  static const auto idp_key = *crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
  static oauth::RemoteJwks remote(
      [](const std::string&) -> Result<std::string, std::string> {
        return testutil::JwkSetJson({idp_key.get()}, {"idp-1"});
      },
      [](const std::function<void()>& job) { job(); }, clock);
  const oauth::TokenEndpoint endpoint(oauth::ClientAuthServices{clock, throttle, nullptr, &remote},
                                      testutil::kApiUrl);

  std::string_view in(reinterpret_cast<const char*>(data), size);
  bool has_auth = false, has_type = false;
  const std::string_view auth = TakeLine(in, has_auth);
  const std::string_view type = TakeLine(in, has_type);
  http::Request req;
  req.method = "POST";
  req.path = "/as/token";
  req.body = in;
  if (has_auth && !auth.empty()) req.authorization = auth;
  if (has_type) req.content_type = type;
  req.remote_address = "127.0.0.1";
  req.correlation_id = "fuzz";

  const http::Response r = http::handlers::Token(req, *env, endpoint);
  const bool allowed = r.status == 200 || r.status == 400 || r.status == 401 || r.status == 429;
  if (!allowed || r.body.empty() || r.body.front() != '{' || r.body.back() != '}') __builtin_trap();
  return 0;
}
