#include "oauth/discovery.h"

#include <boost/json.hpp>

#include "jwt/dpop.h"
#include "oauth/client_auth/client_auth.h"
#include "oauth/grants/grant.h"

namespace tollgate::oauth {
namespace {

// SPEC §3: revoked and expired keys are withdrawn; a key that stopped being the default stays
// until every token it signed has expired.
bool Published(const config::EnvironmentSnapshot& env, const config::KeyEntry& k, TimePoint now) {
  if (k.key.revoked || now >= k.key.expires_at) return false;
  if (&k == env.default_key || !k.key.retired_at) return true;
  return now < *k.key.retired_at + std::chrono::seconds(env.max_token_lifetime_seconds);
}

boost::json::object Jwk(const config::KeyEntry& k) {
  crypto::PublicJwk pub = k.signer->Public();
  boost::json::object o;
  o["kty"] = pub.kty;
  o["kid"] = k.key.id.str();
  o["use"] = "sig";
  o["alg"] = pub.alg;
  if (pub.kty == "RSA") {
    o["n"] = pub.n;
    o["e"] = pub.e;
  } else {
    o["crv"] = pub.crv;
    o["x"] = pub.x;
    if (!pub.y.empty()) o["y"] = pub.y;
  }
  if (!k.x5t.empty()) o["x5t"] = k.x5t;
  return o;
}

boost::json::array Strings(std::initializer_list<std::string_view> values) {
  boost::json::array a;
  for (auto v : values) a.emplace_back(v);
  return a;
}

}  // namespace

std::string JwksJson(const config::EnvironmentSnapshot& env, TimePoint now) {
  boost::json::array keys;
  if (env.default_key != nullptr && Published(env, *env.default_key, now)) {
    keys.push_back(Jwk(*env.default_key));
  }
  for (const auto& k : env.keys) {
    if (&k != env.default_key && Published(env, k, now)) keys.push_back(Jwk(k));
  }
  boost::json::object o;
  o["keys"] = std::move(keys);
  return boost::json::serialize(o);
}

std::string DiscoveryJson(const config::EnvironmentSnapshot& env) {
  boost::json::object o;
  o["issuer"] = env.issuer;
  o["token_endpoint"] = env.token_endpoint;
  o["jwks_uri"] = env.issuer + "/jwks";
  o["introspection_endpoint"] = env.issuer + "/introspect";
  o["revocation_endpoint"] = env.issuer + "/revoke";
  // RFC 8414 §2, from the registries: the grants, the client-authentication methods and the
  // assertion algorithms those methods accept.
  boost::json::array grants;
  for (const Grant* g : Grants()) grants.emplace_back(g->grant_type);
  o["grant_types_supported"] = std::move(grants);
  boost::json::array methods;
  boost::json::array assertion_algs;
  for (const Authenticator* a : Authenticators()) {
    if (!a->discovery_name.empty()) methods.emplace_back(a->discovery_name);
    for (std::string_view alg : a->signing_algs) assertion_algs.emplace_back(alg);
  }
  for (std::string_view endpoint :
       {"token_endpoint", "introspection_endpoint", "revocation_endpoint"}) {
    o[std::string(endpoint) + "_auth_methods_supported"] = methods;
    o[std::string(endpoint) + "_auth_signing_alg_values_supported"] = assertion_algs;
  }
  boost::json::array dpop_algs;  // RFC 9449 §5.1
  for (std::string_view alg : jwt::DpopAlgorithms()) dpop_algs.emplace_back(alg);
  o["dpop_signing_alg_values_supported"] = std::move(dpop_algs);
  o["tls_client_certificate_bound_access_tokens"] = true;  // RFC 8705 §3.3
  if (!env.mtls_issuer.empty()) {                          // RFC 8705 §5
    o["mtls_endpoint_aliases"] =
        boost::json::object{{"token_endpoint", env.mtls_issuer + "/token"},
                            {"introspection_endpoint", env.mtls_issuer + "/introspect"},
                            {"revocation_endpoint", env.mtls_issuer + "/revoke"}};
  }
  o["scopes_supported"] = Strings({"openid", "profile", "email", "address", "phone"});
  o["response_types_supported"] = boost::json::array();
  o["subject_types_supported"] = Strings({"public"});
  boost::json::array algs;
  for (const auto& k : env.keys) {
    boost::json::string alg(k.signer->JwsAlg());
    if (std::find(algs.begin(), algs.end(), boost::json::value(alg)) == algs.end()) {
      algs.emplace_back(alg);
    }
  }
  if (algs.empty()) algs.emplace_back("RS256");
  o["id_token_signing_alg_values_supported"] = std::move(algs);
  return boost::json::serialize(o);
}

}  // namespace tollgate::oauth
