#include "testutil/mgmt_harness.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <stdexcept>

#include "common/base64.h"
#include "common/uuid.h"
#include "crypto/keys.h"
#include "mgmt/provisioning.h"
#include "testutil/fixtures.h"
#include "testutil/store_fixtures.h"

namespace tollgate::testutil {
namespace {

namespace json = boost::json;

constexpr char kOrgId[] = "0a0a0a0a-1111-4222-8333-444444444444";

// E and F as MakeEnvironment creates them, generated once per process.
const std::array<mgmt::NewEnvironment, 2>& Templates() {
  static const std::array<mgmt::NewEnvironment, 2> templates = [] {
    FakeClock clock(FromUnixMillis(MgmtHarness::kStartMillis));
    auto make = [&](const char* name, model::EnvironmentType type) {
      model::Environment env;
      env.organization_id = OrgId(kOrgId);
      env.name = name;
      env.type = type;
      auto made = mgmt::MakeEnvironment(std::move(env), kApiUrl, clock);
      if (!made) throw std::runtime_error("MakeEnvironment failed: " + made.error());
      return std::move(made).value();
    };
    mgmt::NewEnvironment e = make("Administrators", model::EnvironmentType::kProduction);
    clock.Advance(std::chrono::seconds(1));  // F after E in every list
    mgmt::NewEnvironment f = make("Other", model::EnvironmentType::kSandbox);
    return std::array<mgmt::NewEnvironment, 2>{std::move(e), std::move(f)};
  }();
  return templates;
}

std::string Ms(TimePoint t) { return std::to_string(ToUnixMillis(t)); }
std::string Ms(const std::optional<TimePoint>& t) { return t ? Ms(*t) : "-"; }
std::string Opt(const std::optional<std::string>& s) { return s ? "'" + *s + "'" : "-"; }
std::string TlsClientAuthText(const std::optional<model::TlsClientAuth>& t) {
  return t ? std::string(model::ToString(t->name)) + ":'" + t->value + "'" : "-";
}
std::string Digest(std::string_view material) {
  return material.empty() ? "-" : Base64UrlEncode(crypto::Sha256(material));
}

template <class T>
std::string Join(const std::vector<T>& items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ",";
    if constexpr (std::is_same_v<T, std::string>) {
      out += item;
    } else if constexpr (std::is_enum_v<T>) {
      out += std::string(model::ToString(item));
    } else {
      out += item.str();
    }
  }
  return out + "]";
}

[[noreturn]] void Unexpected(const std::string& what, const ApiReply& reply) {
  throw std::runtime_error(what + ": " + std::to_string(reply.status) + " " + reply.body);
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kOrganizationAdmin:
      return "Organization Admin";
    case Role::kEnvironmentAdmin:
      return "Environment Admin";
    case Role::kAppDeveloper:
      return "Client Application Developer";
    case Role::kReadOnly:
      return "Configuration Read Only";
  }
  return "?";
}

const RoleId& RoleIdOf(Role role) {
  switch (role) {
    case Role::kOrganizationAdmin:
      return model::kOrganizationAdminRoleId;
    case Role::kEnvironmentAdmin:
      return model::kEnvironmentAdminRoleId;
    case Role::kAppDeveloper:
      return model::kClientApplicationDeveloperRoleId;
    case Role::kReadOnly:
      break;
  }
  return model::kConfigurationReadOnlyRoleId;
}

std::optional<std::string> ApiReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string ApiReply::Str(std::string_view key) const {
  if (!json.is_object()) return "";
  const auto* v = json.as_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

const json::object& ApiReply::Object() const {
  if (!json.is_object()) throw std::runtime_error("not a JSON object: " + body);
  return json.as_object();
}

MgmtHarness::MgmtHarness()
    : clock_(FromUnixMillis(kStartMillis)), store_(OpenMemoryStore()), issuer_(clock_) {
  const auto& templates = Templates();
  org_id_ = kOrgId;
  env_e_ = templates[0].environment.id.str();
  env_f_ = templates[1].environment.id.str();
  const TimePoint now = clock_.Now();
  const EnvId e(env_e_);
  auto written = store_->Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    if (auto r = tx.Insert(model::Organization{OrgId(kOrgId), "Tollgate", now}); !r) return r;
    for (const auto& t : templates) {
      if (auto r = mgmt::InsertEnvironment(tx, t); !r) return r;
    }
    for (Role role : kAllRoles) {
      model::Application app;
      app.id = AppId(NewUuid());
      app.environment_id = e;
      app.name = std::string(RoleName(role)) + " worker";
      app.type = model::AppType::kWorker;
      app.grant_types = {model::GrantType::kClientCredentials};
      app.created_at = app.updated_at = now;
      if (auto r = tx.Insert(app); !r) return r;
      if (auto r = tx.Put(model::ApplicationSecret{app.id, e, mgmt::NewClientSecret(), std::nullopt,
                                                   std::nullopt});
          !r) {
        return r;
      }
      model::RoleAssignment ra;
      ra.id = RoleAssignmentId(NewUuid());
      ra.environment_id = e;
      ra.application_id = app.id;
      ra.role_id = RoleIdOf(role);
      ra.scope_type = role == Role::kOrganizationAdmin ? model::RoleScopeType::kOrganization
                                                       : model::RoleScopeType::kEnvironment;
      ra.scope_id = role == Role::kOrganizationAdmin ? org_id_ : env_e_;
      ra.created_at = now;
      if (auto r = tx.Insert(ra); !r) return r;
      callers_.push_back(app.id.str());
    }
    return {};
  });
  if (!written) throw std::runtime_error("cannot seed the store: " + written.error().message);
  config_ = std::make_unique<config::ConfigHolder>(*store_, config::Urls{kAuthUrl, kApiUrl});
  if (auto loaded = config_->LoadAll(); !loaded) {
    throw std::runtime_error("LoadAll failed: " + loaded.error().message);
  }
  activity_store_ = std::make_unique<StoreActivities>(*store_);
  activities_ = std::make_unique<audit::ActivityLog>(*activity_store_, 100'000);
  api_ = std::make_unique<mgmt::ManagementApi>(*store_, *config_, clock_, nullptr, nullptr,
                                               activities_.get());
}

MgmtHarness::~MgmtHarness() = default;

Result<void, audit::ActivityStore::Error> MgmtHarness::StoreActivities::Append(
    const std::vector<model::Activity>& batch) {
  auto appended = store_.AppendActivities(batch);
  if (!appended) return Fail(Error{Refusal::kRejected, std::move(appended).error().message});
  return {};
}

const std::string& MgmtHarness::caller_id(Role role) const {
  return callers_.at(static_cast<size_t>(role));
}

std::string MgmtHarness::Bearer(const std::string& env_id, const std::string& app_id,
                                std::vector<std::string> audiences, int64_t lifetime_seconds) {
  auto snapshot = config_->Current();
  const config::EnvironmentSnapshot* env = snapshot->FindEnvironment(env_id);
  const config::AppEntry* app = env != nullptr ? env->FindApp(app_id) : nullptr;
  if (app == nullptr) throw std::runtime_error("Bearer: no application " + app_id);
  oauth::ScopeDecision decision;
  decision.audiences = audiences.empty() ? std::vector<std::string>{kApiUrl} : std::move(audiences);
  decision.lifetime_seconds = lifetime_seconds;
  auto token = issuer_.Issue(*env, *app, decision);
  if (!token) throw std::runtime_error("Bearer: cannot issue a token");
  return "Bearer " + token->jwt;
}

ApiReply MgmtHarness::Send(mgmt::ApiRequest request) {
  if (request.base_url.empty()) request.base_url = kApiUrl;
  mgmt::ApiResponse response = api_->Handle(request);
  ApiReply reply;
  reply.status = response.status;
  reply.body = std::move(response.body);
  reply.headers = std::move(response.headers);
  if (!reply.body.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(reply.body, ec);
    if (!ec) reply.json = std::move(v);
  }
  return reply;
}

ApiReply MgmtHarness::Call(Role as, std::string_view method, std::string_view path,
                           std::string_view body) {
  const std::string bearer = Bearer(as);
  mgmt::ApiRequest request;
  request.method = method;
  request.path = path;
  request.body = body;
  if (!body.empty()) request.content_type = "application/json";
  request.authorization = bearer;
  return Send(std::move(request));
}

ApiReply MgmtHarness::Call(Role as, std::string_view method, std::string_view path,
                           const json::value& body) {
  return Call(as, method, path, json::serialize(body));
}

std::string MgmtHarness::CreateApp(const std::string& env, const json::object& body) {
  ApiReply r = Call(Role::kOrganizationAdmin, "POST", AppsPath(env), body);
  if (r.status != 201) Unexpected("CreateApp", r);
  return r.Str("id");
}

std::string MgmtHarness::CreateResource(const std::string& env, const std::string& name,
                                        const std::vector<std::string>& scopes) {
  ApiReply r = Call(Role::kOrganizationAdmin, "POST", ResourcesPath(env),
                    json::object{{"name", name}, {"audience", "https://" + name + ".example"}});
  if (r.status != 201) Unexpected("CreateResource", r);
  const std::string id = r.Str("id");
  for (const auto& s : scopes) CreateScope(env, id, s);
  return id;
}

std::string MgmtHarness::CreateScope(const std::string& env, const std::string& resource,
                                     const std::string& name) {
  ApiReply r = Call(Role::kOrganizationAdmin, "POST", ScopesPath(env, resource),
                    json::object{{"name", name}});
  if (r.status != 201) Unexpected("CreateScope", r);
  return r.Str("id");
}

std::string MgmtHarness::CreateGrant(const std::string& env, const std::string& app,
                                     const std::string& resource,
                                     const std::vector<std::string>& scopes) {
  json::array refs;
  for (const auto& s : scopes) refs.push_back(json::object{{"id", s}});
  ApiReply r = Call(Role::kOrganizationAdmin, "POST", GrantsPath(env, app),
                    json::object{{"resource", json::object{{"id", resource}}}, {"scopes", refs}});
  if (r.status != 201) Unexpected("CreateGrant", r);
  return r.Str("id");
}

std::string MgmtHarness::AssignRole(const std::string& env, const std::string& app, Role role,
                                    const std::string& scope_id) {
  const char* type = role == Role::kOrganizationAdmin ? "ORGANIZATION" : "ENVIRONMENT";
  ApiReply r = Call(Role::kOrganizationAdmin, "POST", RoleAssignmentsPath(env, app),
                    json::object{{"role", json::object{{"id", RoleIdOf(role).str()}}},
                                 {"scope", json::object{{"id", scope_id}, {"type", type}}}});
  if (r.status != 201) Unexpected("AssignRole", r);
  return r.Str("id");
}

std::string MgmtHarness::CreateWorker(const std::string& env, const std::string& name,
                                      const std::vector<std::pair<Role, std::string>>& roles) {
  const std::string id = CreateApp(env, AppBody(name, "WORKER"));
  for (const auto& [role, scope] : roles) AssignRole(env, id, role, scope);
  return id;
}

std::string MgmtHarness::ScopeId(const std::string& env, const std::string& resource,
                                 const std::string& name) const {
  const auto* e = config_->Current()->FindEnvironment(env);
  if (e != nullptr) {
    for (const auto& s : e->data->scopes) {
      if (s.resource_id.str() == resource && s.name == name) return s.id.str();
    }
  }
  throw std::runtime_error("no scope " + name);
}

std::string MgmtHarness::BuiltinResource(const std::string& env, model::ResourceType type) const {
  const auto* e = config_->Current()->FindEnvironment(env);
  if (e != nullptr) {
    for (const auto& r : e->data->resources) {
      if (r.type == type) return r.id.str();
    }
  }
  throw std::runtime_error("no built-in resource");
}

std::string MgmtHarness::DefaultKey(const std::string& env) const {
  const auto* e = config_->Current()->FindEnvironment(env);
  if (e == nullptr || e->default_key == nullptr) throw std::runtime_error("no default key");
  return e->default_key->key.id.str();
}

std::string MgmtHarness::DumpStore(const std::string& env) {
  auto loaded = store_->LoadEnvironment(EnvId(env));
  if (!loaded) return "no environment " + env + " (" + loaded.error().message + ")\n";
  const model::EnvironmentData& d = *loaded;
  std::ostringstream out;
  const auto& e = d.environment;
  out << "environment " << e.id.str() << " org=" << e.organization_id.str() << " name='" << e.name
      << "' description='" << e.description << "' type=" << model::ToString(e.type)
      << " region=" << model::ToString(e.region) << " created=" << Ms(e.created_at)
      << " updated=" << Ms(e.updated_at) << "\n";
  for (const auto& a : d.applications) {
    out << "application " << a.id.str() << " name='" << a.name << "' description='" << a.description
        << "' enabled=" << a.enabled << " protocol=" << a.protocol
        << " type=" << model::ToString(a.type) << " grants=" << Join(a.grant_types)
        << " method=" << model::ToString(a.token_endpoint_auth_method) << " jwks='" << a.jwks
        << "' jwksUrl='" << a.jwks_url << "' responseTypes=" << Join(a.response_types)
        << " redirectUris=" << Join(a.redirect_uris)
        << " multi=" << a.request_scopes_for_multiple_resources_enabled << " x5t=" << a.include_x5t
        << " typ=" << a.include_typ << " dpop=" << a.dpop_bound_access_tokens
        << " tlsClientAuth=" << TlsClientAuthText(a.tls_client_auth)
        << " tlsBound=" << a.tls_client_certificate_bound_access_tokens
        << " created=" << Ms(a.created_at) << " updated=" << Ms(a.updated_at) << "\n";
  }
  for (const auto& s : d.secrets) {
    out << "secret " << s.application_id.str() << " '" << s.secret
        << "' previous=" << Opt(s.previous) << " until=" << Ms(s.previous_expires_at) << "\n";
  }
  for (const auto& r : d.resources) {
    out << "resource " << r.id.str() << " name='" << r.name << "' description='" << r.description
        << "' type=" << model::ToString(r.type) << " audience='" << r.audience
        << "' validity=" << r.access_token_validity_seconds
        << " introspect=" << model::ToString(r.introspect_endpoint_auth_method) << " secret='"
        << r.secret << "' created=" << Ms(r.created_at) << " updated=" << Ms(r.updated_at) << "\n";
  }
  for (const auto& s : d.scopes) {
    out << "scope " << s.id.str() << " resource=" << s.resource_id.str() << " name='" << s.name
        << "' description='" << s.description << "' created=" << Ms(s.created_at)
        << " updated=" << Ms(s.updated_at) << "\n";
  }
  for (const auto& a : d.resource_attributes) {
    out << "attribute " << a.id.str() << " resource=" << a.resource_id.str() << " name='" << a.name
        << "' value='" << a.value << "' type=" << model::ToString(a.type)
        << " created=" << Ms(a.created_at) << " updated=" << Ms(a.updated_at) << "\n";
  }
  for (const auto& t : d.trusted_issuers) {
    out << "trusted issuer " << t.id.str() << " name='" << t.name << "' issuer='" << t.issuer
        << "' jwksUrl='" << t.jwks_url << "' audience='" << t.audience << "' enabled=" << t.enabled
        << " created=" << Ms(t.created_at) << " updated=" << Ms(t.updated_at) << "\n";
  }
  for (const auto& c : d.trusted_cas) {
    out << "trusted CA " << c.id.str() << " name='" << c.name
        << "' certificate=" << Digest(c.certificate) << " created=" << Ms(c.created_at)
        << " updated=" << Ms(c.updated_at) << "\n";
  }
  for (const auto& g : d.grants) {
    out << "grant " << g.id.str() << " app=" << g.application_id.str()
        << " resource=" << g.resource_id.str() << " scopes=" << Join(g.scopes)
        << " created=" << Ms(g.created_at) << " updated=" << Ms(g.updated_at) << "\n";
  }
  for (const auto& ra : d.role_assignments) {
    out << "role " << ra.id.str() << " app=" << ra.application_id.str()
        << " role=" << ra.role_id.str() << " scope=" << model::ToString(ra.scope_type) << ":"
        << ra.scope_id << " created=" << Ms(ra.created_at) << "\n";
  }
  for (const auto& k : d.signing_keys) {
    out << "key " << k.id.str() << " name='" << k.name << "' alg=" << model::ToString(k.algorithm)
        << " length=" << k.key_length << " dn='" << k.subject_dn
        << "' validity=" << k.validity_period_days << " default=" << k.is_default
        << " revoked=" << k.revoked << " private=" << Digest(k.private_key_pem)
        << " cert=" << Digest(k.certificate_der) << " created=" << Ms(k.created_at)
        << " starts=" << Ms(k.starts_at) << " expires=" << Ms(k.expires_at)
        << " retired=" << Ms(k.retired_at) << "\n";
  }
  return out.str();
}

::testing::AssertionResult IsApiError(const ApiReply& reply, int status, std::string_view code,
                                      std::vector<Detail> details) {
  auto fail = [&]() {
    return ::testing::AssertionFailure() << "status " << reply.status << " body " << reply.body
                                         << "\n  expected " << status << " " << code << ": ";
  };
  if (reply.status != status) return fail() << "wrong status";
  if (!reply.json.is_object()) return fail() << "the body is not a JSON object";
  const json::object& o = reply.json.as_object();
  for (const auto& member : o) {
    const std::string_view key = member.key();
    if (key != "id" && key != "code" && key != "message" && key != "details") {
      return fail() << "unexpected member " << key;
    }
  }
  const auto* id = o.if_contains("id");
  if (id == nullptr || !id->is_string() ||
      NormalizeUuid(std::string_view(id->as_string())) != std::string(id->as_string())) {
    return fail() << "id is not a lower-case UUID";
  }
  const auto* c = o.if_contains("code");
  if (c == nullptr || !c->is_string() || c->as_string() != code) return fail() << "wrong code";
  const auto* message = o.if_contains("message");
  if (message == nullptr || !message->is_string() || message->as_string().empty()) {
    return fail() << "no message";
  }
  std::vector<std::pair<std::string, std::string>> got, want;
  for (const auto& d : details) want.emplace_back(d.code, d.target);
  if (const auto* ds = o.if_contains("details")) {
    if (!ds->is_array() || ds->as_array().empty())
      return fail() << "details is not a non-empty array";
    for (const auto& d : ds->as_array()) {
      if (!d.is_object()) return fail() << "a detail is not an object";
      const json::object& dob = d.as_object();
      for (const auto& member : dob) {
        const std::string_view key = member.key();
        if (key != "code" && key != "target" && key != "message") {
          return fail() << "unexpected detail member " << key;
        }
      }
      const auto* dc = dob.if_contains("code");
      const auto* dt = dob.if_contains("target");
      const auto* dm = dob.if_contains("message");
      if (dc == nullptr || !dc->is_string()) return fail() << "a detail has no code";
      if (dt != nullptr && (!dt->is_string() || dt->as_string().empty())) {
        return fail() << "a detail's target is not a non-empty string";
      }
      if (dm == nullptr || !dm->is_string() || dm->as_string().empty()) {
        return fail() << "a detail has no message";
      }
      got.emplace_back(std::string(dc->as_string()), dt ? std::string(dt->as_string()) : "");
    }
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  if (got != want) {
    ::testing::AssertionResult f = fail();
    f << "details differ; want";
    for (const auto& [dc, dt] : want) f << " (" << dc << ", " << dt << ")";
    return f;
  }
  const bool challenge = reply.Header("WWW-Authenticate") == std::optional<std::string>("Bearer");
  if ((status == 401) != challenge) return fail() << "WWW-Authenticate: Bearer only with 401";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsForbidden(const ApiReply& reply) {
  return IsApiError(reply, 403, "ACCESS_FAILED", {{"INSUFFICIENT_PERMISSIONS", ""}});
}

::testing::AssertionResult IsNotFound(const ApiReply& reply) {
  return IsApiError(reply, 404, "NOT_FOUND");
}

::testing::AssertionResult IsUnauthorized(const ApiReply& reply) {
  return IsApiError(reply, 401, "ACCESS_FAILED");
}

::testing::AssertionResult IsInvalidData(const ApiReply& reply, std::string_view detail,
                                         std::string_view target) {
  return IsApiError(reply, 400, "INVALID_DATA", {{std::string(detail), std::string(target)}});
}

std::string EnvPath(const std::string& env) { return "/v1/environments/" + env; }
std::string AppsPath(const std::string& env) { return EnvPath(env) + "/applications"; }
std::string AppPath(const std::string& env, const std::string& app) {
  return AppsPath(env) + "/" + app;
}
std::string ResourcesPath(const std::string& env) { return EnvPath(env) + "/resources"; }
std::string ResourcePath(const std::string& env, const std::string& resource) {
  return ResourcesPath(env) + "/" + resource;
}
std::string ScopesPath(const std::string& env, const std::string& resource) {
  return ResourcePath(env, resource) + "/scopes";
}
std::string GrantsPath(const std::string& env, const std::string& app) {
  return AppPath(env, app) + "/grants";
}
std::string RoleAssignmentsPath(const std::string& env, const std::string& app) {
  return AppPath(env, app) + "/roleAssignments";
}
std::string KeysPath(const std::string& env) { return EnvPath(env) + "/keys"; }

std::string TwoByteCharacters(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += "\xc3\xa9";
  return out;
}

json::object AppBody(const std::string& name, const std::string& type) {
  return json::object{{"name", name},
                      {"enabled", true},
                      {"protocol", "OPENID_CONNECT"},
                      {"type", type},
                      {"grantTypes", json::array{"CLIENT_CREDENTIALS"}},
                      {"tokenEndpointAuthMethod", "CLIENT_SECRET_BASIC"}};
}

}  // namespace tollgate::testutil
