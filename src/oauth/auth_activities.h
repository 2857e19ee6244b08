#pragma once
// The audit activities of the auth surface (docs/management-api.md, "Audit activities"): each
// answer of the token, introspection and revocation endpoints, as the management API's
// activities are shaped. An activity names the client and the token (by its jti), never a
// secret, a token or a request body.
//
// Cost: building one activity takes a few microseconds on the answering thread and never waits
// for the store (audit::ActivityLog queues it; a full queue drops it and counts the drop).
// Outcomes of callers that did not authenticate (a wrong secret, an unknown client, a request
// that is not even well-formed) cost an attacker nothing to send: per node, each application
// has a budget for those that name it, and each environment one for those that name none of
// its applications, each at most kUnauthenticatedBurst at once and kUnauthenticatedPerSecond on
// average; the rest are counted (suppressed()) and not stored. Junk sent under made-up names
// therefore never hides the failures of a real application.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "audit/activity_log.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/thread_annotations.h"
#include "config/snapshot.h"
#include "oauth/oauth_error.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

// Which outcomes become activities (--token-activities).
enum class AuthActivityLevel {
  kNone,      // none
  kFailures,  // errors only
  kAll,       // every answer
};
std::optional<AuthActivityLevel> ParseAuthActivityLevel(std::string_view text);

// The endpoint an outcome was answered by; its action type.
enum class AuthAction {
  kToken,          // ACCESS_TOKEN.ISSUED
  kIntrospection,  // ACCESS_TOKEN.INTROSPECTED
  kRevocation,     // ACCESS_TOKEN.REVOKED
};

// One answer. The views only need to live for the Record() call.
struct AuthOutcome {
  AuthAction action = AuthAction::kToken;
  const config::EnvironmentSnapshot& env;
  const TokenRequest& request;  // its remote address, correlation ID and presented client ID
  // The authenticated caller: an application, or (introspection) a resource by its ID and
  // name. Empty: none authenticated (then the client ID the request presents is named when it
  // is an application of the environment).
  std::string_view client_id = {};
  std::string_view client_name = {};
  const OAuthError* error = nullptr;  // null: a success
  std::string_view jti = {};          // the token issued, found active, or revoked; empty: none
  std::string_view detail = {};       // success: a short result description ("active", ...)
};

// Thread-safe.
class AuthActivities {
 public:
  static constexpr int kUnauthenticatedBurst = 100;
  static constexpr int kUnauthenticatedPerSecond = 10;

  AuthActivities(audit::ActivityLog& log, const Clock& clock, AuthActivityLevel level)
      : log_(log), clock_(clock), level_(level) {}

  // Queues the activity of `outcome`, unless the level leaves it out or the environment's
  // budget for unauthenticated outcomes is spent. Never blocks on the store.
  void Record(const AuthOutcome& outcome) EXCLUDES(mu_);

  // Unauthenticated outcomes not stored because their environment's budget was spent.
  uint64_t suppressed() const { return suppressed_.load(std::memory_order_relaxed); }

 private:
  // Takes one unit of the budget for unauthenticated outcomes naming application `app` of
  // `env` (empty: none of its applications); false when it is spent.
  bool TakeUnauthenticated(const EnvId& env, std::string_view app) EXCLUDES(mu_);

  struct Bucket {
    double tokens = kUnauthenticatedBurst;
    TimePoint refilled{};
  };
  // Beyond this many (about 100 bytes each), all are forgotten (and so refilled).
  static constexpr size_t kMaxBuckets = 100'000;

  audit::ActivityLog& log_;
  const Clock& clock_;
  const AuthActivityLevel level_;
  common::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);  // by "<env>/<app>"
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace tollgate::oauth
