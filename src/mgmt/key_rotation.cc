#include "mgmt/key_rotation.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "common/log.h"
#include "mgmt/provisioning.h"

namespace tollgate::mgmt {
namespace {

using Days = std::chrono::duration<int64_t, std::ratio<86400>>;

const model::SigningKey* Find(const std::vector<model::SigningKey>& keys,
                              const std::optional<KeyId>& id) {
  if (!id) return nullptr;
  auto it = std::find_if(keys.begin(), keys.end(),
                         [&](const model::SigningKey& k) { return k.id == *id; });
  return it == keys.end() ? nullptr : &*it;
}

const model::SigningKey* DefaultKey(const std::vector<model::SigningKey>& keys) {
  auto it = std::find_if(keys.begin(), keys.end(),
                         [](const model::SigningKey& k) { return k.is_default; });
  return it == keys.end() ? nullptr : &*it;
}

// A key that can sign tokens of the longest lifetime now and still expire after them.
bool CanSign(const model::SigningKey* key, std::chrono::seconds lifetime, TimePoint now) {
  return key != nullptr && !key->revoked && now >= key->starts_at &&
         now < key->expires_at - lifetime;
}

}  // namespace

std::optional<TimePoint> NextRotationAt(const model::KeyRotationPolicy& policy,
                                        const std::vector<model::SigningKey>& keys,
                                        std::chrono::seconds max_token_lifetime) {
  const model::SigningKey* current = Find(keys, policy.state.current_key_id);
  if (!policy.enabled || current == nullptr || !policy.state.rotated_at) return std::nullopt;
  return std::min(*policy.state.rotated_at + Days(policy.rotation_period_days),
                  current->expires_at - max_token_lifetime);
}

RotationStep PlanKeyRotation(const model::KeyRotationPolicy& policy,
                             const std::vector<model::SigningKey>& keys,
                             std::chrono::seconds max_token_lifetime, TimePoint now) {
  RotationStep step;
  const model::SigningKey* current = DefaultKey(keys);
  if (!policy.enabled || current == nullptr) return step;
  const model::SigningKey* next = Find(keys, policy.state.next_key_id);
  const bool next_usable =
      next != nullptr && !next->is_default && CanSign(next, max_token_lifetime, now);
  if (policy.state.current_key_id != current->id || !policy.state.rotated_at) {
    step.kind = RotationStep::Kind::kAdopt;
    step.next = {current->id, next_usable ? policy.state.next_key_id : std::nullopt, now};
    return step;
  }
  const TimePoint due = *NextRotationAt(policy, keys, max_token_lifetime);
  const Days overlap(policy.overlap_days);
  if (!next_usable) {
    if (now < due - overlap) return step;
    step.kind = RotationStep::Kind::kCreateNext;
    step.next = policy.state;
    step.next.next_key_id.reset();
    return step;
  }
  // Resource servers cache the JWKS: a key signs only once it has been published for `overlap`,
  // unless the current key would otherwise outlive its tokens' verification.
  const bool current_must_go = !CanSign(current, max_token_lifetime, now);
  if (now >= due && (now >= next->created_at + overlap || current_must_go)) {
    step.kind = RotationStep::Kind::kRotate;
    step.next = {next->id, std::nullopt, now};
  }
  return step;
}

KeyRotator::KeyRotator(storage::Store& store, config::ConfigHolder& config, const Clock& clock)
    : store_(store), config_(config), clock_(clock) {}

int KeyRotator::EnsurePolicies() {
  const auto snapshot = config_.Current();
  int given = 0;
  for (const auto& [id, env] : snapshot->environments) {
    if (env->data->key_rotation_policy) continue;
    const EnvId& env_id = env->environment.id;
    const model::KeyRotationPolicy policy =
        MakeKeyRotationPolicy(env->environment, /*enabled=*/false, clock_.Now());
    auto written = store_.Write([&](storage::Transaction& tx) { return tx.Insert(policy); });
    // kConflict: another node gave it one first; kNotFound: the environment is gone.
    if (written) {
      ++given;
    } else if (written.error().code != storage::StoreErrorCode::kConflict &&
               written.error().code != storage::StoreErrorCode::kNotFound) {
      log::Warn("key rotation: environment {}: cannot give it a policy: {}", env_id.str(),
                written.error().message);
      continue;
    }
    if (auto refreshed = config_.RefreshEnvironment(env_id); !refreshed) {
      log::Warn("key rotation: environment {}: cannot refresh: {}", env_id.str(),
                refreshed.error().message);
    }
  }
  return given;
}

int KeyRotator::RunOnce() {
  EnsurePolicies();
  const auto snapshot = config_.Current();
  int applied = 0;
  for (const auto& [id, env] : snapshot->environments) {
    const auto& policy = env->data->key_rotation_policy;
    if (!policy) continue;
    RotationStep step =
        PlanKeyRotation(*policy, env->data->signing_keys,
                        std::chrono::seconds(env->max_token_lifetime_seconds), clock_.Now());
    if (step.kind != RotationStep::Kind::kNone && Apply(*env, *policy, std::move(step))) {
      ++applied;
    }
  }
  return applied;
}

bool KeyRotator::Apply(const config::EnvironmentSnapshot& env,
                       const model::KeyRotationPolicy& policy, RotationStep step) {
  const EnvId& env_id = env.environment.id;
  std::optional<model::SigningKey> created;
  if (step.kind == RotationStep::Kind::kCreateNext) {
    KeySpec spec = KeySpecOf(policy);
    spec.name = policy.name + " key " + FormatRfc3339(clock_.Now());
    auto key = MakeSigningKey(env.environment, spec, clock_);
    if (!key) {
      log::Warn("key rotation: environment {}: {}", env_id.str(), key.error());
      return false;
    }
    created = std::move(key).value();
    step.next.next_key_id = created->id;
  }
  auto written = store_.Write([&](storage::Transaction& tx) -> storage::StoreResult<void> {
    if (created) {
      if (auto r = tx.Insert(*created); !r) return r;
    }
    if (auto r = tx.SetKeyRotationState(policy, step.next); !r) return r;
    // The old key retires at the rotation's instant, the one the policy records.
    if (step.kind == RotationStep::Kind::kRotate) {
      return tx.MakeDefaultKey(*step.next.current_key_id, *step.next.rotated_at);
    }
    return {};
  });
  const bool conflict = !written && written.error().code == storage::StoreErrorCode::kConflict;
  if (!written && !conflict) {
    log::Warn("key rotation: environment {}: {}", env_id.str(), written.error().message);
    return false;
  }
  // Either way this node's snapshot is behind: refresh it now rather than wait for the feed.
  if (auto refreshed = config_.RefreshEnvironment(env_id); !refreshed) {
    log::Warn("key rotation: environment {}: cannot refresh: {}", env_id.str(),
              refreshed.error().message);
  }
  if (conflict) {
    log::Info(
        "key rotation: environment {}: the policy changed meanwhile (another node or an "
        "administrator); nothing applied here",
        env_id.str());
    return false;
  }
  switch (step.kind) {
    case RotationStep::Kind::kCreateNext:
      log::Info("key rotation: environment {}: published the next key {}", env_id.str(),
                step.next.next_key_id->str());
      break;
    case RotationStep::Kind::kRotate:
      log::Info("key rotation: environment {}: key {} is now the default", env_id.str(),
                step.next.current_key_id->str());
      break;
    case RotationStep::Kind::kAdopt:
    case RotationStep::Kind::kNone:
      break;
  }
  return true;
}

}  // namespace tollgate::mgmt
