#pragma once
// Strong identifier types: an application ID cannot be passed where an environment ID is
// expected. Every ID holds a lower-case UUID string (see uuid.h), except where noted.

#include <compare>
#include <functional>
#include <string>
#include <string_view>

namespace tollgate {

template <class Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 false positive (llvm-project#53961)
  auto operator<=>(const Id&) const = default;

 private:
  std::string value_;
};

using OrgId = Id<struct OrgTag>;
using EnvId = Id<struct EnvTag>;
using AppId = Id<struct AppTag>;
using ResourceId = Id<struct ResourceTag>;
using ScopeId = Id<struct ScopeTag>;
using AttributeId = Id<struct AttributeTag>;
using TrustedIssuerId = Id<struct TrustedIssuerTag>;
using TrustedCaId = Id<struct TrustedCaTag>;
using GrantId = Id<struct GrantTag>;
using RoleId = Id<struct RoleTag>;
using RoleAssignmentId = Id<struct RoleAssignmentTag>;
using KeyId = Id<struct KeyTag>;
using KeyRotationPolicyId = Id<struct KeyRotationPolicyTag>;

}  // namespace tollgate

template <class Tag>
struct std::hash<tollgate::Id<Tag>> {
  size_t operator()(const tollgate::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
