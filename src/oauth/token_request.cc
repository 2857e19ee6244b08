#include "oauth/token_request.h"

#include <algorithm>

namespace tollgate::oauth {
namespace {

template <class Params>
auto FindParam(Params& params, std::string_view name) {
  return std::find_if(params.begin(), params.end(),
                      [name](const auto& p) { return p.first == name; });
}

}  // namespace

const std::string* TokenRequest::Param(std::string_view name) const {
  auto it = FindParam(params, name);
  return it == params.end() || it->second.empty() ? nullptr : &it->second.front();
}

std::span<const std::string> TokenRequest::Values(std::string_view name) const {
  auto it = FindParam(params, name);
  if (it == params.end()) return {};
  return it->second;
}

void TokenRequest::Add(std::string_view name, std::string value) {
  auto it = FindParam(params, name);
  if (it == params.end()) {
    params.emplace_back(name, std::vector<std::string>{});
    it = std::prev(params.end());
  }
  it->second.push_back(std::move(value));
}

}  // namespace tollgate::oauth
