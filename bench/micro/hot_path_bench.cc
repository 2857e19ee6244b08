// Micro-benchmarks of the token endpoint's hot path, one per piece, so a regression shows where
// it happened (issue 5). Built only with -DTOLLGATE_BENCH=ON; run by bench/run.sh. Timing goals
// are never asserted here: these print figures only.
//
// Pieces, in request order:
//   form parse            tollgate::ParseForm on the peers' body, and the auth handler's
//                         ParseTokenRequest (content type, duplicates, sizes) on top of it
//   client auth           Present (Basic header decode) / FindApp (1 and 10,000 apps) /
//                         CheckClientSecret (constant-time compare of a 64-char secret)
//   scopes                ResolveScopes (SPEC §2.4 table)
//   claims + encoding     Base64UrlEncode of a 300-byte payload; TokenIssuer::Issue per alg
//                         (claims JSON, base64url, signature); PrivateKey::Sign alone per alg
//   whole request         TokenEndpoint::Handle and http::handlers::Token (form to JSON answer)
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/base64.h"
#include "common/clock.h"
#include "common/form.h"
#include "config/snapshot.h"
#include "crypto/keys.h"
#include "http/handlers/auth_handlers.h"
#include "http/message.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/scope_resolver.h"
#include "oauth/token_endpoint.h"
#include "oauth/token_issuer.h"
#include "testutil/fixtures.h"

namespace tollgate {
namespace {

constexpr char kBody[] = "grant_type=client_credentials&scope=read%20write";  // peers' bench.lua
// A 64-character secret like the ones the management API generates.
constexpr char kSecret[] = "UfebQdiQHHH7Iw5FXWKnfoW0~MhWv.Fd0htnwenKgUrCYzyVlxziwgTDhnD_c7Pz";
constexpr char kClient[] = "432693af-0373-4450-b0b2-3d067ef57511";

const char* AlgName(crypto::KeyKind kind) {
  switch (kind) {
    case crypto::KeyKind::kRsa:
      return "RS256";
    case crypto::KeyKind::kEcP256:
      return "ES256";
    case crypto::KeyKind::kEd25519:
      return "EdDSA";
  }
  return "?";
}

// One environment: a CUSTOM resource with read/write, the benchmark client with a grant of both,
// `extra_apps` more SERVICE apps, and a default key of `kind`. Built once per (kind, extra_apps).
std::shared_ptr<const config::EnvironmentSnapshot> Env(crypto::KeyKind kind, int extra_apps = 0) {
  static std::map<std::pair<int, int>, std::shared_ptr<const config::EnvironmentSnapshot>> cache;
  auto& slot = cache[{static_cast<int>(kind), extra_apps}];
  if (slot) return slot;
  testutil::EnvBuilder b;
  b.Resource("Bench API", "https://api.bench.example", 3600, {"read", "write"})
      .App(kClient, model::AppType::kService, model::AuthMethod::kClientSecretBasic, kSecret)
      .Grant(kClient, "Bench API", {"read", "write"});
  for (int i = 0; i < extra_apps; ++i) {
    b.App("grow-app-" + std::to_string(i), model::AppType::kService,
          model::AuthMethod::kClientSecretBasic, kSecret);
  }
  model::EnvironmentData data = b.data();
  if (kind != crypto::KeyKind::kRsa) {
    auto key = crypto::PrivateKey::Generate(kind);
    if (!key) throw std::runtime_error("key generation failed");
    auto& k = data.signing_keys.front();
    k.private_key_pem = (*key)->ToPem();
    k.algorithm =
        kind == crypto::KeyKind::kEcP256 ? model::KeyAlgorithm::kEc : model::KeyAlgorithm::kEdDsa;
    k.key_length = 256;
  }
  auto built =
      config::BuildEnvironmentSnapshot(std::move(data), {testutil::kAuthUrl, testutil::kApiUrl});
  if (!built) throw std::runtime_error("snapshot build failed: " + built.error().message);
  slot = std::move(built).value();
  return slot;
}

std::string BasicHeader() { return "Basic " + Base64Encode(std::string(kClient) + ":" + kSecret); }

oauth::TokenRequest Request() {
  oauth::TokenRequest req;
  req.remote_address = "127.0.0.1";
  req.authorization = BasicHeader();
  req.grant_type = "client_credentials";
  req.Add("scope", "read write");
  return req;
}

// --- form parse -------------------------------------------------------------------------------

void BM_ParseForm(benchmark::State& state) {
  for (auto _ : state) {
    auto form = ParseForm(kBody);
    benchmark::DoNotOptimize(form);
  }
}
BENCHMARK(BM_ParseForm);

void BM_ParseTokenRequest(benchmark::State& state) {
  const std::string auth = BasicHeader();
  http::Request req;
  req.method = "POST";
  req.path = "/11111111-2222-4333-8444-555555555555/as/token";
  req.body = kBody;
  req.content_type = "application/x-www-form-urlencoded";
  req.authorization = auth;
  req.remote_address = "127.0.0.1";
  for (auto _ : state) {
    auto parsed = http::handlers::ParseTokenRequest(req, oauth::TokenEndpoint::Params());
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseTokenRequest);

// --- client authentication --------------------------------------------------------------------

void BM_PresentBasic(benchmark::State& state) {
  const oauth::TokenRequest req = Request();
  for (auto _ : state) {
    auto presented = oauth::Present(req);
    benchmark::DoNotOptimize(presented);
  }
}
BENCHMARK(BM_PresentBasic);

// Arg: applications in the environment besides the client (0 and 10,000: the lookup is a hash).
void BM_FindApp(benchmark::State& state) {
  auto env = Env(crypto::KeyKind::kRsa, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const config::AppEntry* app = env->FindApp(kClient);
    benchmark::DoNotOptimize(app);
  }
  state.counters["apps"] = static_cast<double>(env->apps.size());
}
BENCHMARK(BM_FindApp)->Arg(0)->Arg(10000);

void BM_CheckClientSecret(benchmark::State& state) {
  auto env = Env(crypto::KeyKind::kRsa);
  const config::AppEntry* app = env->FindApp(kClient);
  const std::string presented = kSecret;
  const TimePoint now = SystemClock().Now();
  for (auto _ : state) {
    bool ok = oauth::CheckClientSecret(*app, presented, now);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_CheckClientSecret);

void BM_FindAppAndCheckSecret(benchmark::State& state) {
  auto env = Env(crypto::KeyKind::kRsa, static_cast<int>(state.range(0)));
  const std::string presented = kSecret;
  const TimePoint now = SystemClock().Now();
  for (auto _ : state) {
    const config::AppEntry* app = env->FindApp(kClient);
    bool ok = app != nullptr && oauth::CheckClientSecret(*app, presented, now);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_FindAppAndCheckSecret)->Arg(0)->Arg(10000);

void BM_Authenticate(benchmark::State& state) {
  auto env = Env(crypto::KeyKind::kRsa);
  SystemClock clock;
  oauth::FailureThrottle throttle(clock);
  const oauth::ClientAuthServices services{clock, throttle};
  auto presented = oauth::Present(Request());
  if (!presented) throw std::runtime_error("Present failed");
  for (auto _ : state) {
    auto app = oauth::Authenticate(*presented, *env, services);
    benchmark::DoNotOptimize(app);
  }
}
BENCHMARK(BM_Authenticate);

// --- scopes -----------------------------------------------------------------------------------

void BM_ResolveScopes(benchmark::State& state) {
  auto env = Env(crypto::KeyKind::kRsa);
  const config::AppEntry* app = env->FindApp(kClient);
  const std::optional<std::string> scope = "read write";
  const std::vector<std::string> resources;
  for (auto _ : state) {
    auto decision = oauth::ResolveScopes(*app, scope, resources, testutil::kApiUrl);
    benchmark::DoNotOptimize(decision);
  }
}
BENCHMARK(BM_ResolveScopes);

// --- claims JSON, base64url, signing ----------------------------------------------------------

void BM_Base64UrlEncode300(benchmark::State& state) {
  const std::string payload(300, 'x');  // about the size of the claims JSON
  for (auto _ : state) {
    std::string out = Base64UrlEncode(payload);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 300);
}
BENCHMARK(BM_Base64UrlEncode300);

// Arg: crypto::KeyKind. Signing input of a typical token's size (header.claims, ~560 bytes).
void BM_Sign(benchmark::State& state) {
  const auto kind = static_cast<crypto::KeyKind>(state.range(0));
  auto env = Env(kind);
  const crypto::PrivateKey& key = *env->default_key->signer;
  const std::string input(560, 'e');
  for (auto _ : state) {
    auto sig = key.Sign(input);
    if (!sig) state.SkipWithError("sign failed");
    benchmark::DoNotOptimize(sig);
  }
  state.SetLabel(AlgName(kind));
}
BENCHMARK(BM_Sign)
    ->Arg(static_cast<int>(crypto::KeyKind::kRsa))
    ->Arg(static_cast<int>(crypto::KeyKind::kEcP256))
    ->Arg(static_cast<int>(crypto::KeyKind::kEd25519))
    ->Unit(benchmark::kMicrosecond);

// Claims JSON + header JSON + base64url + signature: Issue() minus Sign() is the JSON/encoding
// share (subtract BM_Sign of the same alg).
void BM_Issue(benchmark::State& state) {
  const auto kind = static_cast<crypto::KeyKind>(state.range(0));
  auto env = Env(kind);
  SystemClock clock;
  oauth::TokenIssuer issuer(clock);
  const config::AppEntry* app = env->FindApp(kClient);
  auto decision = oauth::ResolveScopes(*app, std::string("read write"), {}, testutil::kApiUrl);
  if (!decision) throw std::runtime_error("ResolveScopes failed");
  for (auto _ : state) {
    auto token = issuer.Issue(*env, *app, *decision);
    if (!token) state.SkipWithError("issue failed");
    benchmark::DoNotOptimize(token);
  }
  state.SetLabel(AlgName(kind));
}
BENCHMARK(BM_Issue)
    ->Arg(static_cast<int>(crypto::KeyKind::kRsa))
    ->Arg(static_cast<int>(crypto::KeyKind::kEcP256))
    ->Arg(static_cast<int>(crypto::KeyKind::kEd25519))
    ->Unit(benchmark::kMicrosecond);

// --- whole request (no HTTP framing) ----------------------------------------------------------

void BM_TokenEndpointHandle(benchmark::State& state) {
  const auto kind = static_cast<crypto::KeyKind>(state.range(0));
  auto env = Env(kind);
  SystemClock clock;
  oauth::FailureThrottle throttle(clock);
  oauth::TokenEndpoint endpoint(oauth::ClientAuthServices{clock, throttle}, testutil::kApiUrl);
  const oauth::TokenRequest req = Request();
  for (auto _ : state) {
    auto r = endpoint.Handle(req, *env);
    if (!r) state.SkipWithError("token request failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(AlgName(kind));
}
BENCHMARK(BM_TokenEndpointHandle)
    ->Arg(static_cast<int>(crypto::KeyKind::kRsa))
    ->Arg(static_cast<int>(crypto::KeyKind::kEcP256))
    ->Arg(static_cast<int>(crypto::KeyKind::kEd25519))
    ->Unit(benchmark::kMicrosecond);

// The auth handler: form decoding, TokenEndpoint::Handle and the JSON answer; what the Beast
// session adds on top is HTTP parsing, serialization and the socket.
void BM_TokenHandler(benchmark::State& state) {
  const auto kind = static_cast<crypto::KeyKind>(state.range(0));
  auto env = Env(kind);
  SystemClock clock;
  oauth::FailureThrottle throttle(clock);
  oauth::TokenEndpoint endpoint(oauth::ClientAuthServices{clock, throttle}, testutil::kApiUrl);
  const std::string auth = BasicHeader();
  http::Request req;
  req.method = "POST";
  req.path = "/11111111-2222-4333-8444-555555555555/as/token";
  req.body = kBody;
  req.content_type = "application/x-www-form-urlencoded";
  req.authorization = auth;
  req.remote_address = "127.0.0.1";
  req.correlation_id = "bench";
  for (auto _ : state) {
    http::Response r = http::handlers::Token(req, *env, endpoint);
    if (r.status != 200) state.SkipWithError("token handler did not answer 200");
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(AlgName(kind));
}
BENCHMARK(BM_TokenHandler)
    ->Arg(static_cast<int>(crypto::KeyKind::kRsa))
    ->Arg(static_cast<int>(crypto::KeyKind::kEcP256))
    ->Arg(static_cast<int>(crypto::KeyKind::kEd25519))
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tollgate

BENCHMARK_MAIN();
