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

// A next key that can still become the default.
bool Usable(const model::SigningKey* key, TimePoint now) {
  return key != nullptr && !key->is_default && !key->revoked && now >= key->starts_at &&
         now < key->expires_at;
}

}  // namespace

std::optional<TimePoint> NextRotationAt(const model::KeyRotationPolicy& policy,
                                        const std::vector<model::SigningKey>& keys) {
  const model::SigningKey* current = Find(keys, policy.state.current_key_id);
  if (!policy.enabled || current == nullptr || !policy.state.rotated_at) return std::nullopt;
  return std::min(*policy.state.rotated_at + Days(policy.rotation_period_days),
                  current->expires_at);
}

RotationStep PlanKeyRotation(const model::KeyRotationPolicy& policy,
                             const std::vector<model::SigningKey>& keys, TimePoint now) {
  RotationStep step;
  const model::SigningKey* current = DefaultKey(keys);
  if (!policy.enabled || current == nullptr) return step;
  const model::SigningKey* next = Find(keys, policy.state.next_key_id);
  if (policy.state.current_key_id != current->id || !policy.state.rotated_at) {
    step.kind = RotationStep::Kind::kAdopt;
    step.next = {current->id, Usable(next, now) ? policy.state.next_key_id : std::nullopt, now};
    return step;
  }
  const TimePoint due = *NextRotationAt(policy, keys);
  const Days overlap(policy.overlap_days);
  if (!Usable(next, now)) {
    if (now < due - overlap) return step;
    step.kind = RotationStep::Kind::kCreateNext;
    step.next = policy.state;
    step.next.next_key_id.reset();
    return step;
  }
  // Resource servers cache the JWKS: a key signs only once it has been published for `overlap`.
  if (now >= due && now >= next->created_at + overlap) {
    step.kind = RotationStep::Kind::kRotate;
    step.next = {next->id, std::nullopt, now};
  }
  return step;
}

KeyRotator::KeyRotator(storage::Store& store, config::ConfigHolder& config, const Clock& clock)
    : store_(store), config_(config), clock_(clock) {}

storage::StoreResult<void> KeyRotator::EnsurePolicies() {
  const auto snapshot = config_.Current();
  for (const auto& [id, env] : snapshot->environments) {
    if (env->data->key_rotation_policy) continue;
    const model::KeyRotationPolicy policy =
        MakeKeyRotationPolicy(env->environment, /*enabled=*/false, clock_.Now());
    auto written = store_.Write([&](storage::Transaction& tx) { return tx.Insert(policy); });
    // kConflict: another node starting at the same time gave it one first.
    if (!written && written.error().code != storage::StoreErrorCode::kConflict) return written;
    if (auto refreshed = config_.RefreshEnvironment(env->environment.id); !refreshed) {
      return refreshed;
    }
  }
  return {};
}

int KeyRotator::RunOnce() {
  const auto snapshot = config_.Current();
  int applied = 0;
  for (const auto& [id, env] : snapshot->environments) {
    const auto& policy = env->data->key_rotation_policy;
    if (!policy) continue;
    RotationStep step = PlanKeyRotation(*policy, env->data->signing_keys, clock_.Now());
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
    if (auto r = tx.SetKeyRotationState(policy.id, policy.state, step.next); !r) return r;
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
  if (conflict) return false;  // another node (or an administrator) changed the policy first
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
