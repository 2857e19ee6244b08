#include "mgmt/internal.h"

#include <charconv>

#include "common/base64.h"
#include "common/log.h"
#include "common/uuid.h"

namespace tollgate::mgmt {
namespace {

constexpr size_t kMaxPage = 1000;

std::optional<size_t> ParseSize(std::string_view text) {
  size_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

ApiResponse JsonResponse(int status, const boost::json::value& body) {
  ApiResponse r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

ApiResponse Created(const boost::json::object& body, const std::string& location) {
  ApiResponse r = JsonResponse(201, body);
  r.headers.emplace_back("Location", location);
  return r;
}

ApiResponse NoContent() {
  ApiResponse r;
  r.status = 204;
  return r;
}

boost::json::object Ref(const std::string& id) { return boost::json::object{{"id", id}}; }

boost::json::object Links(const std::string& self_href) {
  return boost::json::object{{"self", boost::json::object{{"href", self_href}}}};
}

std::optional<std::string> PathId(std::string_view segment) { return NormalizeUuid(segment); }

bool IsHttpUrl(std::string_view url) {
  size_t scheme = url.rfind("https://", 0) == 0 ? 8 : url.rfind("http://", 0) == 0 ? 7 : 0;
  return scheme > 0 && url.size() > scheme && url[scheme] != '/' && url[scheme] != ':' &&
         url.size() < 2048 && url.find_first_of(" \t\r\n\"<>\\") == std::string_view::npos;
}

ApiResult ListResponse(const Call& call, std::string_view collection,
                       std::vector<boost::json::object> items, const std::string& self_href) {
  size_t limit = kMaxPage;
  size_t offset = 0;
  if (auto v = QueryParam(call.request.query, "limit")) {
    auto n = ParseSize(*v);
    if (!n || *n < 1 || *n > kMaxPage) {
      return Fail(InvalidData({{"OUT_OF_RANGE", "limit", "limit must be between 1 and 1000."}}));
    }
    limit = *n;
  }
  if (auto v = QueryParam(call.request.query, "cursor")) {
    auto decoded = Base64UrlDecode(*v);
    auto n = decoded ? ParseSize(*decoded) : std::nullopt;
    if (!n) return Fail(InvalidData({{"INVALID_VALUE", "cursor", "The cursor is not valid."}}));
    offset = *n;
  }
  const size_t total = items.size();
  boost::json::array page;
  for (size_t i = offset; i < total && i < offset + limit; ++i) page.push_back(std::move(items[i]));
  boost::json::object links = Links(self_href);
  if (offset + limit < total) {
    std::string next = self_href + "?limit=" + std::to_string(limit) +
                       "&cursor=" + Base64UrlEncode(std::to_string(offset + limit));
    links["next"] = boost::json::object{{"href", next}};
  }
  boost::json::object o;
  const size_t size = page.size();
  o["_links"] = std::move(links);
  o["_embedded"] = boost::json::object{{std::string(collection), std::move(page)}};
  o["count"] = total;
  o["size"] = size;
  return JsonResponse(200, o);
}

Result<std::shared_ptr<const config::EnvironmentSnapshot>, ApiError> EnvironmentFor(
    const Call& call, std::string_view segment, Permission permission) {
  auto id = PathId(segment);
  if (!id) return Fail(call.caller.IsOrganizationAdmin() ? NotFound() : Forbidden());
  EnvId env_id(*id);
  if (!call.caller.Reaches(env_id)) return Fail(Forbidden());
  auto env = call.snapshot->GetEnvironment(*id);
  if (!env) return Fail(NotFound());
  if (!call.caller.Can(permission, env_id)) return Fail(Forbidden());
  return env;
}

Result<void, ApiError> WriteAndRefresh(
    const Services& s, const EnvId& env,
    const std::function<storage::StoreResult<void>(storage::Transaction&)>& body, bool reference) {
  auto written = s.store.Write(body);
  if (!written) return Fail(FromStore(written.error(), reference));
  auto refreshed = s.config.RefreshEnvironment(env);
  if (!refreshed) {
    // The write is durable; only this node's view is behind. Say so instead of claiming success.
    return Fail(Unavailable("snapshot refresh failed after a write: " + refreshed.error().message));
  }
  return {};
}

}  // namespace tollgate::mgmt
