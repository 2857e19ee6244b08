#pragma once
// Key rotation policies at work (PingOne's KRP): when to publish an environment's next signing key
// and when to make it the default, decided from the policy, the keys and the time alone
// (PlanKeyRotation), then applied by KeyRotator on every node, each step once across nodes.
//
// Timeline of one rotation, `due` = NextRotationAt:
//   due - overlap: a next key is created from the policy's spec and published in the JWKS;
//   due:           once that key has been published for `overlap`, it becomes the default; the old
//                  key is retired and stays published until the tokens it signed have expired.
// `due` is never later than the current key's expiry less the longest token lifetime, so every
// token the old key signed expires before the key does; once that point has passed the next key
// becomes the default without waiting out its overlap.

#include <optional>
#include <vector>

#include "common/clock.h"
#include "config/store/holder.h"
#include "model/model.h"
#include "storage/store.h"

namespace tollgate::mgmt {

struct RotationStep {
  enum class Kind {
    kNone,
    kAdopt,       // the policy takes the environment's default key as its current key
    kCreateNext,  // a next key is due: create one (the caller fills in next.next_key_id)
    kRotate,      // the next key becomes the default
  };
  Kind kind = Kind::kNone;
  model::KeyRotationState next;  // the policy's state after the step
};

// When the policy replaces its current key: the earlier of rotated_at + rotation period and the
// current key's expiry less `max_token_lifetime` (the environment's longest). std::nullopt while
// the policy is disabled or has no current key.
std::optional<TimePoint> NextRotationAt(const model::KeyRotationPolicy& policy,
                                        const std::vector<model::SigningKey>& keys,
                                        std::chrono::seconds max_token_lifetime);

// The step `policy` calls for at `now`, given the environment's `keys`. Pure.
RotationStep PlanKeyRotation(const model::KeyRotationPolicy& policy,
                             const std::vector<model::SigningKey>& keys,
                             std::chrono::seconds max_token_lifetime, TimePoint now);

// Applies the planned steps. Each step is one store transaction that compare-and-sets the policy
// state (Transaction::SetKeyRotationState), so a step that another node applied first changes
// nothing here. Not thread-safe: one thread drives it.
class KeyRotator {
 public:
  KeyRotator(storage::Store& store, config::ConfigHolder& config, const Clock& clock);

  // Gives each environment without a policy (stored before policies existed, or by a node of an
  // older version) a disabled one, so that upgrading never starts rotating keys by itself.
  // Returns how many it gave; failures are logged and tried again next time.
  int EnsurePolicies();
  // EnsurePolicies, then one pass over every environment of the current snapshot. Returns how
  // many rotation steps this node applied; a step that fails (store unreachable) is logged and
  // tried again next pass.
  int RunOnce();

 private:
  // True when the step was applied here.
  bool Apply(const config::EnvironmentSnapshot& env, const model::KeyRotationPolicy& policy,
             RotationStep step);

  storage::Store& store_;
  config::ConfigHolder& config_;
  const Clock& clock_;
};

}  // namespace tollgate::mgmt
