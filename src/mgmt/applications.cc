// /v1/environments/{envID}/applications[/{appID}[/secret]] (SPEC §6).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <thread>

#include "common/form.h"
#include "common/uuid.h"
#include "crypto/x509.h"
#include "jwt/jwk_set.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"
#include "mgmt/provisioning.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/grant.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using model::AppType;
using model::AuthMethod;

constexpr auto kMinPreviousLifetime = std::chrono::minutes(1);
constexpr auto kMaxPreviousLifetime = std::chrono::hours(24 * 30);

std::string AppHref(const Call& call, const model::Application& app) {
  return call.Href("/environments/" + app.environment_id.str() + "/applications/" + app.id.str());
}

json::object ApplicationJson(const Call& call, const model::Application& app) {
  json::object o;
  json::object links = Links(AppHref(call, app));
  links["secret"] = json::object{{"href", AppHref(call, app) + "/secret"}};
  links["grants"] = json::object{{"href", AppHref(call, app) + "/grants"}};
  links["roleAssignments"] = json::object{{"href", AppHref(call, app) + "/roleAssignments"}};
  o["_links"] = std::move(links);
  o["id"] = app.id.str();
  o["name"] = app.name;
  o["description"] = app.description;
  o["enabled"] = app.enabled;
  o["protocol"] = app.protocol;
  o["type"] = model::ToString(app.type);
  json::array grants;
  for (auto g : app.grant_types) grants.emplace_back(model::ToString(g));
  o["grantTypes"] = std::move(grants);
  o["tokenEndpointAuthMethod"] = model::ToString(app.token_endpoint_auth_method);
  json::array response_types;
  for (const auto& v : app.response_types) response_types.emplace_back(v);
  o["responseTypes"] = std::move(response_types);
  json::array redirect_uris;
  for (const auto& v : app.redirect_uris) redirect_uris.emplace_back(v);
  o["redirectUris"] = std::move(redirect_uris);
  if (!app.jwks.empty()) o["jwks"] = app.jwks;
  if (!app.jwks_url.empty()) o["jwksUrl"] = app.jwks_url;
  o["requestScopesForMultipleResourcesEnabled"] = app.request_scopes_for_multiple_resources_enabled;
  o["includeX5t"] = app.include_x5t;
  o["includeTyp"] = app.include_typ;
  o["dpopBoundAccessTokens"] = app.dpop_bound_access_tokens;  // ours (docs/dpop.md)
  // RFC 8705 §2.1.2 and §3.4's metadata, camel-cased (docs/client-authentication.md).
  if (app.tls_client_auth) {
    o[model::ToString(app.tls_client_auth->name)] = app.tls_client_auth->value;
  }
  o["tlsClientCertificateBoundAccessTokens"] = app.tls_client_certificate_bound_access_tokens;
  if (app.cors_settings) {
    json::object cors{{"behavior", model::ToString(app.cors_settings->behavior)}};
    if (app.cors_settings->behavior == model::CorsBehavior::kAllowSpecificOrigins) {
      json::array origins;
      for (const auto& v : app.cors_settings->origins) origins.emplace_back(v);
      cors["origins"] = std::move(origins);
    }
    o["corsSettings"] = std::move(cors);
  }
  o["environment"] = Ref(app.environment_id.str());
  o["createdAt"] = FormatRfc3339(app.created_at);
  o["updatedAt"] = FormatRfc3339(app.updated_at);
  return o;
}

AuthMethod DefaultAuthMethod(AppType type) {
  // PingOne: public client types default to NONE, the others to CLIENT_SECRET_BASIC.
  return type == AppType::kNativeApp || type == AppType::kSinglePageApp
             ? AuthMethod::kNone
             : AuthMethod::kClientSecretBasic;
}

constexpr size_t kMaxCorsOrigins = 100;
constexpr size_t kMaxOriginLength = 256;

// An IPv6 address as the WHATWG URL standard serializes it in a host (the form browsers send
// in `Origin`): lower-case hex pieces without leading zeros, the first longest run of two or
// more zero pieces as "::", never a dotted quad. std::nullopt if `text` is no IPv6 address.
std::optional<std::string> SerializedIpv6(std::string_view text) {
  in6_addr address{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), &address) != 1) return std::nullopt;
  std::array<unsigned, 8> pieces{};
  for (size_t i = 0; i < pieces.size(); ++i) {
    pieces[i] = (unsigned{address.s6_addr[2 * i]} << 8) | address.s6_addr[2 * i + 1];
  }
  size_t compress = pieces.size();  // none
  size_t longest = 1;
  for (size_t i = 0; i < pieces.size();) {
    size_t j = i;
    while (j < pieces.size() && pieces[j] == 0) ++j;
    if (j - i > longest) {
      compress = i;
      longest = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i == compress) {
      out += i == 0 ? "::" : ":";
      i += longest - 1;
      continue;
    }
    const size_t start = out.size();
    for (int shift = 12; shift >= 0; shift -= 4) {  // hex without leading zeros
      const unsigned digit = (pieces[i] >> shift) & 0xF;
      if (digit != 0 || shift == 0 || out.size() > start) out += "0123456789abcdef"[digit];
    }
    if (i + 1 < pieces.size()) out += ':';
  }
  return out;
}

// True for a host the WHATWG URL parser reads as an IPv4 address: its last label is a number.
bool EndsInANumber(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  const std::string_view last = host.substr(host.rfind('.') + 1);
  if (last.empty()) return false;
  if (last.starts_with("0x")) return true;
  return std::all_of(last.begin(), last.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// True for four decimal numbers 0..255 without leading zeros: the form browsers send.
bool IsDottedQuad(std::string_view host) {
  int parts = 0;
  while (true) {
    const size_t dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (char c : part) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) return parts == 4;
    host.remove_prefix(dot + 1);
  }
}

// `text` as a browser serializes an origin in `Origin` (RFC 6454 §6.2, the WHATWG URL
// standard): "http" or "https", "://", a host (a DNS name of ASCII letters, digits, '-', '_'
// and '.'; an IPv4 address in dotted-decimal form; or a bracketed IPv6 address), and a port
// unless it is the scheme's default; lower case. An error message for anything else (a path,
// a query, user information, a wildcard, a non-ASCII name, a port out of range).
Result<std::string, std::string> SerializedOrigin(std::string_view text) {
  const std::string shape =
      "an origin is http(s)://host[:port], with no path, query, user or wildcard";
  if (text.size() > kMaxOriginLength) return Fail("it is longer than 256 characters");
  std::string lower;
  lower.reserve(text.size());
  for (char c : text) {
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view rest = lower;
  std::string out;
  std::string_view default_port;
  if (rest.starts_with("http://")) {
    out = "http://";
    default_port = "80";
  } else if (rest.starts_with("https://")) {
    out = "https://";
    default_port = "443";
  } else {
    return Fail(shape);
  }
  rest.remove_prefix(out.size());
  std::string_view port;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Fail(shape);
    auto ipv6 = SerializedIpv6(rest.substr(1, close - 1));
    if (!ipv6) return Fail("the IPv6 address is not valid");
    out += '[' + *ipv6 + ']';
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return Fail(shape);
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const size_t colon = rest.find(':');
    const std::string_view host = rest.substr(0, colon);
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (host.empty()) return Fail(shape);
    for (char c : host) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return Fail("a non-ASCII host name must be written in its xn-- (punycode) form");
      }
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
        return Fail(shape);
      }
    }
    if (EndsInANumber(host) && !IsDottedQuad(host)) {
      return Fail("an IPv4 address must be written as four decimal numbers, as in 192.0.2.1");
    }
    out += host;
  }
  if (!port.empty()) {  // "host:" is the default port too (WHATWG)
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return Fail(shape);
    }
    int value = 0;
    for (char c : port) value = value * 10 + (c - '0');
    if (value > 65535) return Fail("the port is above 65535");
    const std::string canonical = std::to_string(value);  // no leading zeros
    if (canonical != default_port) out += ':' + canonical;
  }
  return out;
}

// PingOne's corsSettings: {behavior, origins}; null or absent: none.
std::optional<model::CorsSettings> ReadCorsSettings(BodyReader& r) {
  const json::value* v = r.Raw("corsSettings");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_object()) {
    r.Invalid("corsSettings", "corsSettings must be an object.");
    return std::nullopt;
  }
  const json::object& cors = v->get_object();
  const json::value* behavior_value = cors.if_contains("behavior");
  const std::optional<model::CorsBehavior> behavior =
      behavior_value != nullptr && behavior_value->is_string()
          ? model::ParseCorsBehavior(behavior_value->get_string())
          : std::nullopt;
  if (!behavior) {
    r.Invalid("corsSettings.behavior",
              "The behavior must be ALLOW_NO_ORIGINS or ALLOW_SPECIFIC_ORIGINS.");
    return std::nullopt;
  }
  std::vector<std::string> listed;
  if (const json::value* origins = cors.if_contains("origins");
      origins != nullptr && !origins->is_null()) {
    const json::array* array = origins->if_array();
    if (array == nullptr || !std::all_of(array->begin(), array->end(),
                                         [](const json::value& o) { return o.is_string(); })) {
      r.Invalid("corsSettings.origins", "origins must be an array of strings.");
      return std::nullopt;
    }
    for (const json::value& o : *array) listed.emplace_back(o.get_string());
  }
  model::CorsSettings out{.behavior = *behavior, .origins = {}};
  if (*behavior == model::CorsBehavior::kAllowNoOrigins) {
    if (!listed.empty()) r.Invalid("corsSettings.origins", "ALLOW_NO_ORIGINS takes no origins.");
    return out;
  }
  if (listed.empty() || listed.size() > kMaxCorsOrigins) {
    r.Invalid("corsSettings.origins",
              "ALLOW_SPECIFIC_ORIGINS needs 1 to " + std::to_string(kMaxCorsOrigins) + " origins.");
    return std::nullopt;
  }
  for (size_t i = 0; i < listed.size(); ++i) {
    auto origin = SerializedOrigin(listed[i]);
    if (!origin) {
      r.Invalid("corsSettings.origins",
                "origins[" + std::to_string(i) + "] is not an origin: " + origin.error() + ".");
      return std::nullopt;
    }
    if (std::find(out.origins.begin(), out.origins.end(), *origin) == out.origins.end()) {
      out.origins.push_back(std::move(*origin));
    }
  }
  return out;
}

// "NONE, CLIENT_SECRET_BASIC, ...": the tokenEndpointAuthMethods the token endpoint serves.
std::string AuthMethodNames() {
  std::string out;
  for (const oauth::Authenticator* a : oauth::Authenticators()) {
    if (!out.empty()) out += ", ";
    out += model::ToString(a->method);
  }
  return out;
}

// The rules the registries put on an application's grants and method; the first one broken.
std::optional<ApiError> CheckGrantsAndMethod(const std::vector<model::GrantType>& grants,
                                             const oauth::Authenticator& method, bool has_jwks,
                                             bool has_url) {
  const std::string method_name(model::ToString(method.method));
  for (const oauth::Grant* g : oauth::Grants()) {
    const bool listed = std::find(grants.begin(), grants.end(), g->app_grant) != grants.end();
    // PingOne: a public client can never use client_credentials.
    if (listed && g->confidential_only && !method.confidential) {
      return InvalidValue("tokenEndpointAuthMethod", std::string(model::ToString(g->app_grant)) +
                                                         " requires a confidential client; " +
                                                         method_name + " is not allowed.");
    }
  }
  if (method.needs_keys && has_jwks == has_url) {
    return InvalidValue("jwks", method_name + " needs exactly one of jwks and jwksUrl.");
  }
  return std::nullopt;
}

// The tlsClientAuth* fields (RFC 8705 §2.1.2): at most one may be sent, and it must be a name a
// certificate can carry. Marks `r` invalid otherwise.
std::optional<model::TlsClientAuth> ReadTlsClientAuth(BodyReader& r) {
  constexpr model::TlsClientAuthName kNames[] = {
      model::TlsClientAuthName::kSubjectDn, model::TlsClientAuthName::kSanDns,
      model::TlsClientAuthName::kSanUri, model::TlsClientAuthName::kSanIp,
      model::TlsClientAuthName::kSanEmail};
  std::optional<model::TlsClientAuth> out;
  for (model::TlsClientAuthName name : kNames) {
    const std::string field(model::ToString(name));
    auto value = r.String(field, false);
    if (!value) continue;
    if (out) {
      r.Invalid(field, "Only one of the tlsClientAuth* fields may be set.");
      return std::nullopt;
    }
    const bool printable = !value->empty() && value->size() <= 2048 &&
                           std::all_of(value->begin(), value->end(), [](char c) {
                             return static_cast<unsigned char>(c) >= 0x20 && c != 0x7F;
                           });
    bool valid = printable;
    if (valid && name == model::TlsClientAuthName::kSubjectDn) {
      valid = crypto::NormalizeDn(*value).has_value();
    } else if (valid && name == model::TlsClientAuthName::kSanIp) {
      valid = crypto::ParseIpAddress(*value).has_value();
    } else if (valid) {
      valid = value->find(' ') == std::string::npos;
    }
    if (!valid) {
      r.Invalid(field, name == model::TlsClientAuthName::kSubjectDn
                           ? "The value must be an RFC 4514 distinguished name."
                       : name == model::TlsClientAuthName::kSanIp
                           ? "The value must be an IPv4 or IPv6 address."
                           : "The value must be 1 to 2048 printable characters without spaces.");
      return std::nullopt;
    }
    out = model::TlsClientAuth{name, std::move(*value)};
  }
  return out;
}

// The writable fields (create and PUT alike, SPEC §6): PUT replaces the whole object.
Result<model::Application, ApiError> ReadApplication(const ApiRequest& request,
                                                     model::Application app) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  auto name = r.String("name", true);
  auto description = r.String("description", false);
  auto enabled = r.Bool("enabled", true);
  auto protocol = r.String("protocol", true);
  auto type = r.String("type", true);
  auto grant_types = r.StringArray("grantTypes", true);
  auto method = r.String("tokenEndpointAuthMethod", false);
  auto response_types = r.StringArray("responseTypes", false);
  auto redirect_uris = r.StringArray("redirectUris", false);
  auto multi = r.Bool("requestScopesForMultipleResourcesEnabled", false);
  auto x5t = r.Bool("includeX5t", false);
  auto typ = r.Bool("includeTyp", false);
  auto dpop = r.Bool("dpopBoundAccessTokens", false);
  auto bound_to_certificate = r.Bool("tlsClientCertificateBoundAccessTokens", false);
  auto tls_name = ReadTlsClientAuth(r);
  auto jwks_url = r.String("jwksUrl", false);
  auto cors = ReadCorsSettings(r);

  if (name && Utf8Length(*name) > 256) {
    r.Invalid("name", "The name must be at most 256 characters.");
  }
  if (protocol && *protocol != "OPENID_CONNECT") {
    r.Invalid("protocol", "The protocol must be OPENID_CONNECT.");
  }
  std::optional<AppType> parsed_type;
  if (type) {
    parsed_type = model::ParseAppType(*type);
    if (!parsed_type) {
      r.Invalid("type",
                "The type must be one of WORKER, SERVICE, WEB_APP, NATIVE_APP, SINGLE_PAGE_APP, "
                "CUSTOM_APP.");
    }
  }
  std::vector<model::GrantType> grants;
  if (grant_types) {
    for (const auto& g : *grant_types) {
      auto parsed = model::ParseGrantType(g);
      if (!parsed) {
        r.Invalid("grantTypes", "Unknown grant type '" + g + "'.");
        break;
      }
      if (std::find(grants.begin(), grants.end(), *parsed) == grants.end())
        grants.push_back(*parsed);
    }
  }
  std::optional<AuthMethod> parsed_method;
  if (method) {
    parsed_method = model::ParseAuthMethod(*method);
    if (!parsed_method || oauth::FindAuthenticator(*parsed_method) == nullptr) {
      r.Invalid("tokenEndpointAuthMethod", "The method must be one of " + AuthMethodNames() + ".");
    }
  }
  // jwks: a string holding a JWK Set (PingOne), or the JSON object itself.
  // Every key must be a usable public signing key (jwt::ParseJwkSet, strict): a set the token
  // endpoint would partly ignore is refused here, where the administrator sees why.
  std::optional<std::string> jwks;
  if (const auto* v = r.Raw("jwks"); v != nullptr && !v->is_null()) {
    std::string text = v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
    if (auto set = jwt::ParseJwkSet(text, jwt::JwkSetMode::kStrict); set) {
      jwks = std::move(text);
    } else {
      r.Invalid("jwks", set.error());
    }
  }
  if (jwks_url && !jwks_url->empty() && !IsHttpUrl(*jwks_url)) {
    r.Invalid("jwksUrl", "The value must be an http(s) URL.");
  }
  if (!r.ok()) return Fail(r.Error());

  const AuthMethod final_method = parsed_method.value_or(DefaultAuthMethod(*parsed_type));
  const oauth::Authenticator* authenticator = oauth::FindAuthenticator(final_method);
  const bool has_url = jwks_url.has_value() && !jwks_url->empty();
  if (authenticator == nullptr) {  // a default the token endpoint does not serve
    return Fail(InvalidValue("tokenEndpointAuthMethod",
                             "The method must be one of " + AuthMethodNames() + "."));
  }
  if (auto broken = CheckGrantsAndMethod(grants, *authenticator, jwks.has_value(), has_url)) {
    return Fail(std::move(*broken));
  }
  // RFC 8705 §2.1.2: a TLS_CLIENT_AUTH client is known by exactly one name of its certificate,
  // and only such a client has one.
  if (final_method == AuthMethod::kTlsClientAuth && !tls_name) {
    return Fail(InvalidValue("tlsClientAuthSubjectDn",
                             "TLS_CLIENT_AUTH needs exactly one of tlsClientAuthSubjectDn, "
                             "tlsClientAuthSanDns, tlsClientAuthSanUri, tlsClientAuthSanIp and "
                             "tlsClientAuthSanEmail."));
  }
  if (final_method != AuthMethod::kTlsClientAuth && tls_name) {
    return Fail(InvalidValue(std::string(model::ToString(tls_name->name)),
                             "Only a TLS_CLIENT_AUTH application has a certificate name."));
  }

  app.name = *name;
  app.description = description.value_or("");
  app.enabled = *enabled;
  app.protocol = *protocol;
  app.type = *parsed_type;
  app.grant_types = std::move(grants);
  app.token_endpoint_auth_method = final_method;
  app.response_types = response_types.value_or(std::vector<std::string>{});
  app.redirect_uris = redirect_uris.value_or(std::vector<std::string>{});
  app.request_scopes_for_multiple_resources_enabled = multi.value_or(false);
  app.include_x5t = x5t.value_or(false);
  app.include_typ = typ.value_or(true);
  app.dpop_bound_access_tokens = dpop.value_or(false);
  app.tls_client_auth = std::move(tls_name);
  app.tls_client_certificate_bound_access_tokens = bound_to_certificate.value_or(false);
  app.jwks = jwks.value_or("");
  app.jwks_url = has_url ? *jwks_url : "";
  app.cors_settings = std::move(cors);
  return app;
}

json::object SecretJson(const model::ApplicationSecret& s, TimePoint now) {
  json::object o;
  o["secret"] = s.secret;
  if (s.previous && s.previous_expires_at && now < *s.previous_expires_at) {
    o["previous"] =
        json::object{{"secret", *s.previous}, {"expiresAt", FormatRfc3339(*s.previous_expires_at)}};
  }
  return o;
}

const model::ApplicationSecret* FindSecret(const config::EnvironmentSnapshot& env,
                                           const AppId& id) {
  for (const auto& s : env.data->secrets) {
    if (s.application_id == id) return &s;
  }
  return nullptr;
}

ApiResult HandleSecret(const Services& s, const Call& call, const config::EnvironmentSnapshot& env,
                       const config::AppEntry& entry) {
  const model::Application& app = entry.app;
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const model::ApplicationSecret* current = FindSecret(env, app.id);
  if (method == "GET") {
    if (!call.caller.Can(Permission::kReadSecrets, env_id) || !call.caller.MayControl(entry)) {
      return Fail(Forbidden());
    }
    if (current == nullptr) return Fail(NotFound());
    return JsonResponse(200, SecretJson(*current, s.clock.Now()));
  }
  if (method != "POST" && method != "DELETE") return Fail(MethodNotAllowed("GET, POST, DELETE"));
  if (!call.caller.Can(Permission::kManageApps, env_id) || !call.caller.MayControl(entry)) {
    return Fail(Forbidden());
  }

  model::ApplicationSecret next{app.id, env_id, "", std::nullopt, std::nullopt};
  const TimePoint now = s.clock.Now();
  if (method == "POST") {
    auto body = ParseJsonBody(call.request, /*allow_empty=*/true);
    if (!body) return Fail(std::move(body).error());
    next.secret = NewClientSecret();
    if (const auto* prev = body->if_contains("previous"); prev != nullptr && !prev->is_null()) {
      const auto* at = prev->is_object() ? prev->as_object().if_contains("expiresAt") : nullptr;
      TimePoint expires;
      if (at == nullptr || !at->is_string() || !ParseRfc3339(at->as_string(), expires)) {
        return Fail(InvalidValue("previous.expiresAt", "The value must be an RFC 3339 date-time."));
      }
      if (expires < now + kMinPreviousLifetime || expires > now + kMaxPreviousLifetime) {
        return Fail(
            InvalidData({{"OUT_OF_RANGE", "previous.expiresAt",
                          "The previous secret may stay valid from 1 minute to 30 days."}}));
      }
      // The replaced secret stays valid until then; an older previous one dies now.
      if (current != nullptr) {
        next.previous = current->secret;
        next.previous_expires_at = expires;
      }
    }
  } else {
    if (current == nullptr) return Fail(NotFound());
    next.secret = current->secret;  // DELETE drops the previous secret at once
  }
  auto written = WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Put(next); });
  if (!written) return Fail(std::move(written).error());
  if (method == "DELETE") return NoContent();
  return JsonResponse(200, SecretJson(next, now));
}

// POST .../applications/{appID}/revokeTokens: every token issued to the application before the
// call is inactive at introspection and /v1 once a node has the change; tokens issued after the
// answer are not affected. Tokens carry `iat` in whole seconds, so the instant is the next whole
// second, and the answer waits for it (less than a second, on the blocking pool).
ApiResult HandleRevokeTokens(const Services& s, const Call& call,
                             const config::EnvironmentSnapshot& env,
                             const config::AppEntry& entry) {
  const EnvId& env_id = env.environment.id;
  if (call.request.method != "POST") return Fail(MethodNotAllowed("POST"));
  if (!call.caller.Can(Permission::kManageApps, env_id) || !call.caller.MayControl(entry)) {
    return Fail(Forbidden());
  }
  if (auto body = ParseJsonBody(call.request, /*allow_empty=*/true); !body) {
    return Fail(std::move(body).error());
  }
  const TimePoint now = s.clock.Now();
  const TimePoint not_before = std::chrono::ceil<std::chrono::seconds>(now);
  const AppId id = entry.app.id;
  auto written = WriteAndRefresh(
      s, env_id, [&](storage::Transaction& tx) { return tx.RevokeTokensBefore(id, not_before); });
  if (!written) return Fail(std::move(written).error());
  // Measured after the write, which may have taken part of the second already.
  if (const TimePoint after = s.clock.Now(); not_before > after) {
    std::this_thread::sleep_for(not_before - after);
  }
  json::object out;
  out["application"] = Ref(id.str());
  out["tokensNotBefore"] = FormatRfc3339(not_before);
  return JsonResponse(200, out);
}

const config::AppEntry* FindApplication(const config::EnvironmentSnapshot& env,
                                        std::string_view segment) {
  auto id = PathId(segment);
  return id ? env.FindApp(*id) : nullptr;
}

}  // namespace

ApiResult HandleApplications(const Services& s, const Call& call,
                             const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const std::string base = call.Href("/environments/" + env_id.str() + "/applications");
  if (call.segments.size() == 3) {
    if (method == "GET") {
      std::vector<json::object> items;
      for (const auto& app : env.data->applications) items.push_back(ApplicationJson(call, app));
      return ListResponse(call, "applications", std::move(items), base);
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
    model::Application app;
    app.id = AppId(NewUuid());
    app.environment_id = env_id;
    app.created_at = app.updated_at = s.clock.Now();
    auto read = ReadApplication(call.request, std::move(app));
    if (!read) return Fail(std::move(read).error());
    model::ApplicationSecret secret{read->id, env_id, NewClientSecret(), std::nullopt,
                                    std::nullopt};
    auto written = WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) {
      if (auto r = tx.Insert(*read); !r) return r;
      return tx.Put(secret);
    });
    if (!written) return Fail(std::move(written).error());
    return Created(ApplicationJson(call, *read), AppHref(call, *read));
  }

  const config::AppEntry* entry = FindApplication(env, call.segments[3]);
  if (entry == nullptr) return Fail(NotFound());
  const model::Application* app = &entry->app;
  if (call.segments.size() > 4) {
    std::string_view sub = call.segments[4];
    if (sub == "secret" && call.segments.size() == 5) return HandleSecret(s, call, env, *entry);
    if (sub == "revokeTokens" && call.segments.size() == 5) {
      return HandleRevokeTokens(s, call, env, *entry);
    }
    if (sub == "grants") return HandleGrants(s, call, env, *app);
    if (sub == "roleAssignments") return HandleRoleAssignments(s, call, env, *app);
    return Fail(NotFound());
  }
  if (method == "GET") return JsonResponse(200, ApplicationJson(call, *app));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  // SPEC §6: managing applications is not enough for one that holds more power than the caller.
  if (!call.caller.Can(Permission::kManageApps, env_id) || !call.caller.MayControl(*entry)) {
    return Fail(Forbidden());
  }
  if (method == "DELETE") {
    const AppId id = app->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(id); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadApplication(call.request, *app);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, ApplicationJson(call, *updated));
}

}  // namespace tollgate::mgmt
