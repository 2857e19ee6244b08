#include "oauth/auth_activities.h"

#include <algorithm>
#include <chrono>

#include "common/form.h"
#include "common/uuid.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

struct ActionText {
  std::string_view type;
  std::string_view description;
};

ActionText TextOf(AuthAction action) {
  switch (action) {
    case AuthAction::kToken:
      return {"ACCESS_TOKEN.ISSUED", "Access Token Issued"};
    case AuthAction::kIntrospection:
      return {"ACCESS_TOKEN.INTROSPECTED", "Access Token Introspected"};
    case AuthAction::kRevocation:
      break;
  }
  return {"ACCESS_TOKEN.REVOKED", "Access Token Revoked"};
}

constexpr size_t kMaxDescription = 256;

// The longest prefix of UTF-8 `text` of at most `max` bytes that ends on a character boundary.
std::string_view Utf8Prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

void Member(std::string& out, std::string_view name, std::string_view value) {
  out += '"';
  out += name;  // a literal
  out += "\":";
  AppendJsonString(out, value);
}

// {"id":"...","environment":{"id":"..."}} without the closing brace.
void OpenRef(std::string& out, std::string_view id, const EnvId& env) {
  out += '{';
  Member(out, "id", id);
  out += R"(,"environment":{)";
  Member(out, "id", env.str());
  out += '}';
}

}  // namespace

std::optional<AuthActivityLevel> ParseAuthActivityLevel(std::string_view text) {
  if (text == "none") return AuthActivityLevel::kNone;
  if (text == "failures") return AuthActivityLevel::kFailures;
  if (text == "all") return AuthActivityLevel::kAll;
  return std::nullopt;
}

bool AuthActivities::TakeUnauthenticated(const EnvId& env, std::string_view app) {
  std::string key = env.str();
  key += '/';
  key += app;
  const TimePoint now = clock_.Now();
  common::MutexLock lock(mu_);
  if (buckets_.size() >= kMaxBuckets && !buckets_.contains(key)) buckets_.clear();
  auto [it, added] = buckets_.try_emplace(std::move(key));
  Bucket& b = it->second;
  if (added) b.refilled = now;
  const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
  if (elapsed > 0) {
    b.tokens =
        std::min<double>(kUnauthenticatedBurst, b.tokens + elapsed * kUnauthenticatedPerSecond);
    b.refilled = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void AuthActivities::Record(const AuthOutcome& outcome) {
  const bool ok = outcome.error == nullptr;
  if (level_ == AuthActivityLevel::kNone || (ok && level_ == AuthActivityLevel::kFailures)) return;
  const EnvId& env = outcome.env.environment.id;

  // The caller: the authenticated one, else the application the request names, if it is one
  // of this environment (a name an attacker made up is not repeated into the audit).
  std::string_view client_id = outcome.client_id;
  std::string_view client_name = outcome.client_name;
  if (client_id.empty()) {
    const config::AppEntry* named = nullptr;
    if (auto presented = Present(outcome.request)) {
      named = outcome.env.FindApp(presented->client_id);
    }
    if (!TakeUnauthenticated(env, named != nullptr ? named->app.id.str() : "")) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (named != nullptr) {
      client_id = named->app.id.str();
      client_name = named->app.name;
    }
  }

  model::Activity a;
  a.recorded_at = clock_.Now();
  a.id = NewTimeOrderedUuid(ToUnixMillis(a.recorded_at));  // the store's index grows at its end
  a.environment_id = env;
  const ActionText action = TextOf(outcome.action);
  a.action_type = action.type;
  a.success = ok;
  a.client_id = client_id;
  a.correlation_id = outcome.request.correlation_id;
  if (!outcome.jti.empty()) a.resource_ids.emplace_back(outcome.jti);

  std::string& o = a.json;
  o.reserve(640);
  o += '{';
  Member(o, "id", a.id);
  const std::string at = FormatRfc3339(a.recorded_at);
  o += ',';
  Member(o, "recordedAt", at);
  o += ',';
  Member(o, "createdAt", at);
  o += ',';
  Member(o, "correlationId", a.correlation_id);
  o += R"(,"actors":{"client":)";
  if (client_id.empty()) {
    o += R"({"type":"CLIENT"})";
  } else {
    OpenRef(o, client_id, env);
    o += R"(,"type":"CLIENT")";
    if (!client_name.empty()) {
      o += ',';
      Member(o, "name", client_name);
    }
    o += '}';
  }
  o += R"(},"action":{)";
  Member(o, "type", action.type);
  o += ',';
  Member(o, "description", action.description);
  o += R"(},"resources":[)";
  if (!outcome.jti.empty()) {
    OpenRef(o, outcome.jti, env);
    o += R"(,"type":"ACCESS_TOKEN"})";
  }
  o += R"(],"result":{)";
  if (ok) {
    o += R"("status":"SUCCESS")";
    if (!outcome.detail.empty()) {
      o += ',';
      Member(o, "description", outcome.detail);
    }
  } else {
    o += R"("status":"FAILED",)";
    // The code and the client-safe description the caller was answered; never the debug text.
    // Cut short: a description may repeat what the client sent (4 KiB of scope names).
    std::string why(outcome.error->WireCode());
    if (!outcome.error->description.empty()) {
      why += ": ";
      why += outcome.error->description;
    }
    Member(o, "description", Utf8Prefix(why, kMaxDescription));
  }
  o += '}';
  if (!outcome.request.remote_address.empty()) {
    o += R"(,"source":{)";
    Member(o, "ipAddress", outcome.request.remote_address);
    o += '}';
  }
  o += '}';
  log_.Record(std::move(a));
}

}  // namespace tollgate::oauth
