#pragma once
// Builders for in-memory environments used by unit tests of oauth/ and http/.

#include <memory>
#include <string>
#include <vector>

#include "common/thread_annotations.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "crypto/keys.h"

namespace tollgate::testutil {

inline constexpr char kApiUrl[] = "https://api.tollgate.test";
inline constexpr char kAuthUrl[] = "https://auth.tollgate.test";

// A fluent builder of model::EnvironmentData with one RSA-2048 default key.
class EnvBuilder {
 public:
  EnvBuilder();

  // Adds a CUSTOM resource with the given scopes; returns its index for grants.
  EnvBuilder& Resource(const std::string& name, const std::string& audience, int validity,
                       const std::vector<std::string>& scopes);
  // Adds an application with CLIENT_CREDENTIALS; `id` is used as its client_id.
  EnvBuilder& App(const std::string& id, model::AppType type = model::AppType::kService,
                  model::AuthMethod method = model::AuthMethod::kClientSecretBasic,
                  const std::string& secret = "s3cret");
  // Adds a CUSTOM attribute (claim `name`, static or "${...}" `value`) to the resource named
  // `resource_name`, which must have been added before.
  EnvBuilder& Attribute(const std::string& resource_name, const std::string& name,
                        const std::string& value);
  // Adds an enabled trusted issuer (docs/token-exchange.md) whose tokens have `iss` = `issuer`
  // and whose keys are at `jwks_url`; `audience` is what their `aud` must contain.
  EnvBuilder& TrustedIssuer(const std::string& name, const std::string& issuer,
                            const std::string& jwks_url, const std::string& audience);
  // Adds a trusted CA (RFC 8705 §2.1) named `name` whose PEM certificate is `certificate_pem`.
  EnvBuilder& TrustedCa(const std::string& name, const std::string& certificate_pem);
  EnvBuilder& Grant(const std::string& app_id, const std::string& resource_name,
                    const std::vector<std::string>& scopes);
  EnvBuilder& Role(const std::string& app_id);
  model::Environment& Environment() { return data_.environment; }
  model::Application& LastApp() { return data_.applications.back(); }
  model::ApplicationSecret& LastSecret() { return data_.secrets.back(); }

  const model::EnvironmentData& data() const { return data_; }
  std::shared_ptr<const config::EnvironmentSnapshot> Build() const;

 private:
  model::EnvironmentData data_;
  int seq_ = 0;
};

// JtiCache's port to the store, kept in memory: what the Store's jti calls do, without a store.
// Thread-safe.
class MemoryJtiStore final : public config::JtiStore {
 public:
  config::JtiResult<bool> Remember(const model::RememberedJti& jti, TimePoint now) override;
  config::JtiResult<void> RememberAll(const std::vector<model::RememberedJti>& jtis,
                                      TimePoint now) override;
  config::JtiResult<std::vector<model::RememberedJti>> Load(model::JtiKind kind,
                                                            TimePoint now) override;
  config::JtiResult<void> PurgeExpired(TimePoint now) override;

 private:
  common::Mutex mu_;
  std::vector<model::RememberedJti> jtis_ GUARDED_BY(mu_);
};

// The JWK Set JSON text {"keys":[...]} of the public halves of `keys`, the i-th with kid
// kids[i] (no "kid" member when it is empty).
// A key of `kind`, made once per (kind, slot) in the process (RSA generation is slow) and shared
// by every caller. Throws std::runtime_error when generation fails. Not thread-safe.
std::shared_ptr<const crypto::PrivateKey> SharedKey(crypto::KeyKind kind, int slot = 0);

std::string JwkSetJson(const std::vector<const crypto::PrivateKey*>& keys,
                       const std::vector<std::string>& kids);

}  // namespace tollgate::testutil
