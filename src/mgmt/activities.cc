// Audit activities of the management API (PingOne's audit reporting model): every call that
// writes, or tries to (and every read of a secret), becomes an activity in the environment it
// names; GET /v1/environments/{envID}/activities reads them back with PingOne's SCIM filter.
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "common/base64.h"
#include "common/form.h"
#include "common/uuid.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;
constexpr size_t kMaxFilterLength = 2048;

// A path collection and the PingOne resource type its objects have.
struct Family {
  std::string_view collection;
  std::string_view type;
};
constexpr std::array<Family, 13> kFamilies{
    {{"environments", "ENVIRONMENT"},
     {"applications", "APPLICATION"},
     {"resources", "RESOURCE"},
     {"scopes", "SCOPE"},
     {"attributes", "RESOURCE_ATTRIBUTE"},
     {"grants", "GRANT"},
     {"roleAssignments", "ROLE_ASSIGNMENT"},
     {"keys", "KEY"},
     {"keyRotationPolicies", "KEY_ROTATION_POLICY"},
     {"trustedIssuers", "TRUSTED_ISSUER"},
     {"trustedCertificateAuthorities", "TRUSTED_CERTIFICATE_AUTHORITY"},
     {"secret", "SECRET"},
     {"revokeTokens", "APPLICATION"}}};

std::optional<std::string_view> TypeOf(std::string_view collection) {
  for (const Family& f : kFamilies) {
    if (f.collection == collection) return f.type;
  }
  return std::nullopt;
}

// "APPLICATION.CREATED" -> "Application Created".
std::string Describe(std::string_view action) {
  std::string out;
  bool start = true;
  for (char c : action) {
    if (c == '.' || c == '_') {
      out.push_back(' ');
      start = true;
    } else {
      out.push_back(start ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      start = false;
    }
  }
  return out;
}

struct Target {
  std::string type;
  std::string id;
};

}  // namespace

void RecordActivity(const Services& s, const Call& call, const ApiResponse& response) {
  const std::string_view method = call.request.method;
  const auto& segs = call.segments;
  if (segs.empty() || segs[0] != "environments") return;
  const bool secret_read = method == "GET" && segs.size() >= 5 && segs.back() == "secret";
  if (method != "POST" && method != "PUT" && method != "DELETE" && !secret_read) return;

  // The objects the path names: (collection, id) pairs, the last one perhaps without an id.
  // Ids as the handlers read them (lower case); a path that is not made of collections and ids
  // names no object (a 404): nothing to audit.
  std::vector<Target> path;
  for (size_t i = 0; i < segs.size(); i += 2) {
    auto type = TypeOf(segs[i]);
    if (!type) return;
    std::string id;
    if (i + 1 < segs.size()) {
      auto normalized = PathId(segs[i + 1]);
      if (!normalized) return;
      id = std::move(*normalized);
    }
    path.push_back({std::string(*type), std::move(id)});
  }
  json::value body;
  if (!response.body.empty()) {
    boost::system::error_code ec;
    body = json::parse(response.body, ec);
  }
  const json::object* answer = body.if_object();
  auto answered = [&](std::string_view key) -> std::string {
    const json::value* v = answer != nullptr ? answer->if_contains(key) : nullptr;
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const bool ok = response.status >= 200 && response.status < 300;

  std::string action;
  const std::string_view last = segs.size() % 2 == 1 ? segs.back() : segs[segs.size() - 2];
  if (last == "secret") {
    action = secret_read ? "SECRET.READ" : "SECRET.UPDATED";
    path.pop_back();  // the secret belongs to its application or resource
  } else if (last == "revokeTokens") {
    action = "APPLICATION.TOKENS_REVOKED";
    path.pop_back();
  } else {
    action = path.back().type + (method == "POST"  ? ".CREATED"
                                 : method == "PUT" ? ".UPDATED"
                                                   : ".DELETED");
    if (path.back().id.empty() && ok) path.back().id = answered("id");  // the created object
  }

  // Filed under the environment the path names when the caller reaches it and it exists, else
  // under the caller's own (so where a refused call lands tells nothing of environments the
  // caller cannot see). A new environment is not in the snapshot yet: its creation is filed in
  // it.
  EnvId env_id = call.caller.environment_id;
  const std::string& named_env = path.front().id;
  const bool created = segs.size() == 1 && ok && !named_env.empty();
  if (created || (!named_env.empty() && call.caller.Reaches(EnvId(named_env)) &&
                  call.snapshot->FindEnvironment(named_env) != nullptr)) {
    env_id = EnvId(named_env);
  }
  if (action == "ENVIRONMENT.DELETED" && ok) env_id = call.caller.environment_id;

  model::Activity a;
  a.recorded_at = s.clock.Now();
  a.id = NewTimeOrderedUuid(ToUnixMillis(a.recorded_at));
  a.environment_id = env_id;
  a.action_type = action;
  a.success = ok;
  a.client_id = call.caller.application_id.str();
  a.correlation_id =
      call.request.correlation_id.empty() ? NewUuid() : std::string(call.request.correlation_id);

  json::object o;
  o["id"] = a.id;
  o["recordedAt"] = FormatRfc3339(a.recorded_at);
  o["createdAt"] = FormatRfc3339(a.recorded_at);
  o["correlationId"] = a.correlation_id;
  json::object client{{"id", a.client_id},
                      {"type", "CLIENT"},
                      {"environment", Ref(call.caller.environment_id.str())}};
  if (const auto* caller_env = call.snapshot->FindEnvironment(call.caller.environment_id.str())) {
    if (const auto* app = caller_env->FindApp(a.client_id)) client["name"] = app->app.name;
  }
  o["actors"] = json::object{{"client", std::move(client)}};
  o["action"] = json::object{{"type", action}, {"description", Describe(action)}};
  json::array resources;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].id.empty()) continue;
    json::object r{{"type", path[i].type}, {"id", path[i].id}};
    // The object a POST created or a PUT changed is named as it is now.
    const bool named = action.ends_with(".CREATED") || method == "PUT";
    if (i + 1 == path.size() && named && !answered("name").empty()) r["name"] = answered("name");
    if (path[i].type != "ENVIRONMENT") r["environment"] = Ref(env_id.str());
    resources.push_back(std::move(r));
    a.resource_ids.push_back(path[i].id);
  }
  o["resources"] = std::move(resources);
  json::object result{{"status", ok ? "SUCCESS" : "FAILED"}};
  if (!ok) {
    std::string why = answered("message");
    result["description"] = why.empty() ? "HTTP " + std::to_string(response.status) : why;
  }
  o["result"] = std::move(result);
  if (!call.request.remote_address.empty()) {
    o["source"] = json::object{{"ipAddress", call.request.remote_address}};
  }
  a.json = json::serialize(o);
  if (!IsValidUtf8(a.json)) return;  // every part is checked text; never expected
  s.activities->Record(std::move(a));
}

namespace {

// PingOne's filter, the SCIM subset it documents for activities: clauses joined by `and`, each
// `attribute operator "value"`; recordedat with gt/ge/lt/le, the others with eq (action.type
// also with `in ["A", "B"]`). Attribute and operator names are case-insensitive.
constexpr const char* kInSyntax = R"('in' takes ["A", "B"])";

class FilterParser {
 public:
  explicit FilterParser(std::string_view text) : text_(text) {}

  // True when two clauses contradict each other (a = "x" and a = "y"): nothing matches.
  bool Impossible() const { return impossible_; }

  // An error message, or std::nullopt when `q` holds the criteria.
  std::optional<std::string> Parse(model::ActivityQuery& q) {
    while (true) {
      std::string attribute = Lower(Word());
      std::string op = Lower(Word());
      if (attribute.empty() || op.empty()) return Error("expected: attribute operator \"value\"");
      if (attribute == "action.type" && op == "in") {
        std::vector<std::string> values;
        if (auto e = ValueList(values)) return e;
        Narrow(q.action_types, std::move(values));
      } else {
        auto value = Quoted();
        if (!value) return Error("expected a double-quoted value");
        if (auto e = Apply(attribute, op, *value, q)) return e;
      }
      Space();
      if (pos_ == text_.size()) return std::nullopt;
      if (Lower(Word()) != "and") return Error("clauses are joined by 'and'");
    }
  }

 private:
  std::optional<std::string> Apply(const std::string& attribute, const std::string& op,
                                   const std::string& value, model::ActivityQuery& q) {
    if (attribute == "recordedat") {
      TimePoint t;
      if (!ParseRfc3339(value, t)) return Error("recordedAt needs an RFC 3339 date-time");
      const auto ms = std::chrono::milliseconds(1);
      if (op == "gt") {
        q.from = Later(q.from, t + ms);
      } else if (op == "ge") {
        q.from = Later(q.from, t);
      } else if (op == "lt") {
        q.to = Earlier(q.to, t);
      } else if (op == "le") {
        q.to = Earlier(q.to, t + ms);
      } else {
        return Error("recordedAt takes gt, ge, lt or le");
      }
      return std::nullopt;
    }
    if (op != "eq") return Error(attribute + " takes eq");
    if (attribute == "action.type") {
      Narrow(q.action_types, {value});
    } else if (attribute == "result.status") {
      if (value != "SUCCESS" && value != "FAILED") {
        return Error("result.status is SUCCESS or FAILED");
      }
      Require(q.success, value == "SUCCESS");
    } else if (attribute == "actors.client.id") {
      Require(q.client_id, value);
    } else if (attribute == "correlationid") {
      Require(q.correlation_id, value);
    } else if (attribute == "resources.id") {
      auto id = PathId(value);
      if (!id) return Error("resources.id needs an ID");
      Require(q.resource_id, *id);
    } else {
      return Error("unknown attribute '" + attribute +
                   "' (recordedAt, action.type, result.status, actors.client.id, correlationId, "
                   "resources.id)");
    }
    return std::nullopt;
  }

  std::optional<std::string> ValueList(std::vector<std::string>& out) {
    Space();
    if (pos_ >= text_.size() || text_[pos_] != '[') return Error(kInSyntax);
    ++pos_;
    out.clear();
    while (true) {
      auto v = Quoted();
      if (!v) return Error(kInSyntax);
      out.push_back(std::move(*v));
      Space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return std::nullopt;
      }
      return Error(kInSyntax);
    }
  }

  // `and` of two criteria on one attribute.
  template <class T>
  void Require(std::optional<T>& slot, T value) {
    if (slot && *slot != value) impossible_ = true;
    slot = std::move(value);
  }
  void Narrow(std::vector<std::string>& types, std::vector<std::string> values) {
    if (narrowed_) {
      std::erase_if(values, [&](const std::string& v) {
        return std::find(types.begin(), types.end(), v) == types.end();
      });
      if (values.empty()) impossible_ = true;
    }
    narrowed_ = true;
    types = std::move(values);
  }

  static std::optional<TimePoint> Later(std::optional<TimePoint> a, TimePoint b) {
    return a && *a > b ? *a : b;
  }
  static std::optional<TimePoint> Earlier(std::optional<TimePoint> a, TimePoint b) {
    return a && *a < b ? *a : b;
  }
  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }
  void Space() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }
  std::string_view Word() {
    Space();
    const size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '.' || text_[pos_] == '_')) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }
  std::optional<std::string> Quoted() {
    Space();
    if (pos_ >= text_.size() || text_[pos_] != '"') return std::nullopt;
    std::string out;
    for (++pos_; pos_ < text_.size(); ++pos_) {
      char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\' && pos_ + 1 < text_.size()) c = text_[++pos_];
      out.push_back(c);
    }
    return std::nullopt;
  }
  std::string Error(const std::string& what) const {
    return "Invalid filter at character " + std::to_string(pos_ + 1) + ": " + what + ".";
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool narrowed_ = false;  // action.type already constrained
  bool impossible_ = false;
};

ApiError FilterError(std::string message) {
  return InvalidData({{"INVALID_FILTER", "filter", std::move(message)}});
}

}  // namespace

ApiResult HandleActivities(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  if (call.segments.size() != 3) return Fail(NotFound());
  if (call.request.method != "GET") return Fail(MethodNotAllowed("GET"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());

  model::ActivityQuery q;
  bool impossible = false;  // contradictory clauses: nothing matches
  q.environment_id = env_id;
  q.limit = kDefaultLimit;
  const std::string_view query = call.request.query;
  if (auto raw = QueryParam(query, "filter")) {
    auto text = FormDecode(*raw);
    if (!text || text->size() > kMaxFilterLength || !IsValidUtf8(*text)) {
      return Fail(FilterError("The filter must be UTF-8 text of at most 2048 characters."));
    }
    FilterParser parser(*text);
    if (auto error = parser.Parse(q)) return Fail(FilterError(std::move(*error)));
    impossible = parser.Impossible();
  }
  if (auto raw = QueryParam(query, "limit")) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), n);
    if (ec != std::errc() || end != raw->data() + raw->size() || n < 1 || n > kMaxLimit) {
      return Fail(InvalidData({{"OUT_OF_RANGE", "limit", "limit must be between 1 and 1000."}}));
    }
    q.limit = n;
  }
  if (auto raw = QueryParam(query, "cursor")) {
    auto decoded = Base64UrlDecode(*raw);
    int64_t seq = -1;
    if (decoded) {
      auto [end, ec] = std::from_chars(decoded->data(), decoded->data() + decoded->size(), seq);
      if (ec != std::errc() || end != decoded->data() + decoded->size()) seq = -1;
    }
    if (seq < 0)
      return Fail(InvalidData({{"INVALID_VALUE", "cursor", "The cursor is not valid."}}));
    q.after_seq = seq;
  }

  // A caller reads its own writes: what this node recorded so far is stored first.
  if (s.activities != nullptr) s.activities->Flush();
  const size_t limit = q.limit;
  q.limit = limit + 1;  // one more tells whether there is a next page
  std::vector<model::Activity> rows;
  if (!impossible) {
    auto loaded = s.store.LoadActivities(q);
    if (!loaded) return Fail(FromStore(loaded.error()));
    rows = std::move(loaded).value();
  }
  const bool more = rows.size() > limit;
  if (more) rows.resize(limit);

  json::array items;
  for (const model::Activity& a : rows) {
    boost::system::error_code ec;
    json::value v = json::parse(a.json, ec);
    if (ec || !v.is_object()) continue;  // written by this code: never expected
    items.push_back(std::move(v));
  }
  const std::string self = call.Href("/environments/" + env_id.str() + "/activities");
  std::string self_query;
  if (auto raw = QueryParam(query, "filter")) self_query = "filter=" + std::string(*raw);
  const bool echo = !query.empty() && IsValidUtf8(query);
  json::object links = Links(self + (echo ? "?" + std::string(query) : ""));
  if (more) {
    std::string next = self + "?" + (self_query.empty() ? "" : self_query + "&") +
                       "limit=" + std::to_string(limit) +
                       "&cursor=" + Base64UrlEncode(std::to_string(rows.back().seq));
    links["next"] = json::object{{"href", next}};
  }
  json::object o;
  const size_t size = items.size();
  o["_links"] = std::move(links);
  o["_embedded"] = json::object{{"activities", std::move(items)}};
  o["count"] = size;
  o["size"] = size;
  return JsonResponse(200, o);
}

}  // namespace tollgate::mgmt
