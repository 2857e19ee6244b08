// Fuzz target: the management API (/v1) on arbitrary requests from an authenticated Organization
// Admin, against a real (in-memory SQLite) store made by `tollgate init`'s bootstrap. The input
// is METHOD ' ' PATH '\n' BODY; "ENV" in the path stands for the Administrators environment's ID
// (a fuzzer cannot guess a UUID). Every answer must be a status of SPEC §6 with a JSON body
// (empty for 204) and no 5xx; after every successful write the whole store must still load into
// a snapshot, so nothing a client sends leaves data the server cannot read back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "config/snapshot.h"
#include "config/store/holder.h"
#include "mgmt/api.h"
#include "oauth/token_issuer.h"
#include "server/bootstrap.h"
#include "testutil/fixtures.h"
#include "testutil/store_fixtures.h"

namespace {

using namespace tollgate;

struct Fixture {
  FakeClock clock{FromUnixMillis(1'800'000'000'000)};
  std::unique_ptr<storage::Store> store = testutil::OpenMemoryStore();
  config::Urls urls{testutil::kAuthUrl, testutil::kApiUrl};
  std::unique_ptr<config::ConfigHolder> config;
  std::unique_ptr<mgmt::ManagementApi> api;
  std::string env_id;
  std::string authorization;

  Fixture() {
    auto init = server::InitializeDeployment(*store, testutil::kApiUrl, clock);
    if (!init) std::abort();
    env_id = init->environment_id;
    config = std::make_unique<config::ConfigHolder>(*store, urls);
    if (!config->LoadAll()) std::abort();
    api = std::make_unique<mgmt::ManagementApi>(*store, *config, clock);
    const auto env = config->Current()->GetEnvironment(env_id);
    oauth::ScopeDecision decision;
    decision.audiences = {testutil::kApiUrl};
    auto token = oauth::TokenIssuer(clock).Issue(*env, *env->FindApp(init->client_id), decision);
    if (!token) std::abort();
    authorization = "Bearer " + token->jwt;
  }
};

bool Allowed(int status) {
  switch (status) {
    case 200:
    case 201:
    case 204:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 413:
    case 415:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view line = in.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  const std::string method(line.substr(0, sp));
  std::string path = "/v1" + std::string(line.substr(sp + 1));
  for (size_t at; (at = path.find("ENV")) != std::string::npos;) path.replace(at, 3, f.env_id);
  const size_t q = path.find('?');

  mgmt::ApiRequest req;
  req.method = method;
  req.path = std::string_view(path).substr(0, q);
  if (q != std::string::npos) req.query = std::string_view(path).substr(q + 1);
  req.body = body;
  req.content_type = "application/json";
  req.authorization = f.authorization;
  req.base_url = "http://127.0.0.1:8080";

  const mgmt::ApiResponse r = f.api->Handle(req);
  if (!Allowed(r.status)) __builtin_trap();
  if (r.status == 204 ? !r.body.empty() : (r.body.empty() || r.body.front() != '{')) {
    __builtin_trap();
  }
  if (r.status < 300 && method != "GET") {
    config::ConfigHolder fresh(*f.store, f.urls);
    if (!fresh.LoadAll()) __builtin_trap();
  }
  return 0;
}
