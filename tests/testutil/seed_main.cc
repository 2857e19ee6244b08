// tollgate_seed: a test-only tool that writes resources, scopes, applications, secrets, grants
// and role assignments into a store through the storage API (never through the server), for
// integration tests that run before the management API exists. Reads one JSON document on
// stdin, prints the created IDs and secrets as JSON on stdout.
//
//   {"environmentId": "...",                         (default: the first environment)
//    "resources": [{"name", "audience"?, "accessTokenValiditySeconds"?, "scopes": ["a", ...]}],
//    "applications": [{"name", "type"?, "tokenEndpointAuthMethod"?, "grantTypes"?, "enabled"?,
//                      "requestScopesForMultipleResourcesEnabled"?, "includeX5t"?,
//                      "grants": [{"resource": "<name>", "scopes": ["a"]}],
//                      "roles": ["Organization Admin", ...],
//                      "previousSecret"?: "...", "previousExpiresIn"?: seconds}]}
#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>

#include "common/clock.h"
#include "common/uuid.h"
#include "mgmt/provisioning.h"
#include "server/master_key.h"
#include "storage/store.h"

using namespace tollgate;
namespace json = boost::json;

namespace {

int Die(const std::string& message) {
  std::cerr << "tollgate_seed: " << message << std::endl;
  return 1;
}

std::string Str(const json::object& o, std::string_view key, std::string fallback = "") {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : fallback;
}

bool Bool(const json::object& o, std::string_view key, bool fallback) {
  auto* v = o.if_contains(key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_uri;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--store") store_uri = argv[i + 1];
  }
  if (store_uri.empty()) return Die("usage: tollgate_seed --store URI < spec.json");
  const char* env_key = std::getenv("TOLLGATE_MASTER_KEY");
  auto key =
      server::LoadMasterKey(env_key ? env_key : "", server::DefaultKeyFile(store_uri), false);
  if (!key) return Die(key.error());
  auto store = storage::OpenStore(store_uri, server::MakeSecretCodec(*key));
  if (!store) return Die("cannot open store: " + store.error().message);

  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json::object spec = json::parse(input).as_object();
  auto all = (*store)->LoadAll();
  if (!all || all->environments.empty()) return Die("store has no environment");
  const std::string env_text =
      Str(spec, "environmentId", all->environments.front().environment.id.str());
  EnvId env_id(env_text);

  SystemClock clock;
  TimePoint now = clock.Now();
  json::object out_resources, out_apps;
  std::map<std::string, model::Resource> resources;
  std::map<std::string, std::map<std::string, ScopeId>> scope_ids;

  auto written = (*store)->Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    int seq = 0;
    if (auto* rs = spec.if_contains("resources")) {
      for (const auto& rv : rs->as_array()) {
        const auto& r = rv.as_object();
        model::Resource res;
        res.id = ResourceId(NewUuid());
        res.environment_id = env_id;
        res.name = Str(r, "name");
        res.audience = Str(r, "audience", res.name);
        res.type = model::ResourceType::kCustom;
        if (auto* v = r.if_contains("accessTokenValiditySeconds")) {
          res.access_token_validity_seconds = static_cast<int32_t>(v->as_int64());
        }
        // Distinct creation times keep the order of the spec.
        res.created_at = res.updated_at = now + std::chrono::milliseconds(seq++);
        if (auto s = tx.Insert(res); !s) return s;
        json::object scopes_out;
        for (const auto& sv : r.at("scopes").as_array()) {
          model::Scope scope;
          scope.id = ScopeId(NewUuid());
          scope.resource_id = res.id;
          scope.environment_id = env_id;
          scope.name = std::string(sv.as_string());
          scope.created_at = scope.updated_at = now + std::chrono::milliseconds(seq++);
          if (auto s = tx.Insert(scope); !s) return s;
          scope_ids[res.name][scope.name] = scope.id;
          scopes_out[scope.name] = scope.id.str();
        }
        resources[res.name] = res;
        out_resources[res.name] = json::object{{"id", res.id.str()}, {"scopes", scopes_out}};
      }
    }
    if (auto* as = spec.if_contains("applications")) {
      for (const auto& av : as->as_array()) {
        const auto& a = av.as_object();
        model::Application app;
        app.id = AppId(NewUuid());
        app.environment_id = env_id;
        app.name = Str(a, "name");
        app.enabled = Bool(a, "enabled", true);
        app.type =
            model::ParseAppType(Str(a, "type", "SERVICE")).value_or(model::AppType::kService);
        app.token_endpoint_auth_method =
            model::ParseAuthMethod(Str(a, "tokenEndpointAuthMethod", "CLIENT_SECRET_BASIC"))
                .value_or(model::AuthMethod::kClientSecretBasic);
        app.grant_types = {model::GrantType::kClientCredentials};
        if (auto* g = a.if_contains("grantTypes")) {
          app.grant_types.clear();
          for (const auto& gv : g->as_array()) {
            if (auto t = model::ParseGrantType(std::string(gv.as_string())))
              app.grant_types.push_back(*t);
          }
        }
        app.request_scopes_for_multiple_resources_enabled =
            Bool(a, "requestScopesForMultipleResourcesEnabled", false);
        app.include_x5t = Bool(a, "includeX5t", false);
        app.created_at = app.updated_at = now + std::chrono::milliseconds(seq++);
        if (auto s = tx.Insert(app); !s) return s;
        model::ApplicationSecret secret{app.id, env_id, mgmt::NewClientSecret(), std::nullopt,
                                        std::nullopt};
        if (a.if_contains("previousSecret")) {
          secret.previous = Str(a, "previousSecret");
          int64_t in = a.at("previousExpiresIn").as_int64();
          secret.previous_expires_at = now + std::chrono::seconds(in);
        }
        if (auto s = tx.Put(secret); !s) return s;
        if (auto* gs = a.if_contains("grants")) {
          for (const auto& gv : gs->as_array()) {
            const auto& g = gv.as_object();
            model::Grant grant;
            grant.id = GrantId(NewUuid());
            grant.environment_id = env_id;
            grant.application_id = app.id;
            const std::string rname = Str(g, "resource");
            grant.resource_id = resources.at(rname).id;
            for (const auto& sv : g.at("scopes").as_array()) {
              grant.scopes.push_back(scope_ids.at(rname).at(std::string(sv.as_string())));
            }
            grant.created_at = grant.updated_at = now;
            if (auto s = tx.Insert(grant); !s) return s;
          }
        }
        if (auto* roles = a.if_contains("roles")) {
          for (const auto& rv : roles->as_array()) {
            for (const auto& role : model::BuiltinRoles()) {
              if (role.name != rv.as_string()) continue;
              model::RoleAssignment ra;
              ra.id = RoleAssignmentId(NewUuid());
              ra.environment_id = env_id;
              ra.application_id = app.id;
              ra.role_id = role.id;
              ra.scope_type = role.applicable_to;
              ra.scope_id = role.applicable_to == model::RoleScopeType::kOrganization
                                ? all->organization->id.str()
                                : env_id.str();
              ra.created_at = now;
              if (auto s = tx.Insert(ra); !s) return s;
            }
          }
        }
        out_apps[app.name] = json::object{{"id", app.id.str()}, {"secret", secret.secret}};
      }
    }
    return {};
  });
  if (!written) return Die("write failed: " + written.error().message);
  std::cout << json::serialize(json::object{{"environmentId", env_text},
                                            {"resources", out_resources},
                                            {"applications", out_apps}})
            << std::endl;
  return 0;
}
