#pragma once
// Which IP addresses an outbound fetch (a jwksUrl) may connect to: docs/decisions/0005.
// Pure functions, no I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tollgate::http {

enum class AddressKind {
  kPublic,       // anything not listed below: the only kind fetched by default
  kUnspecified,  // 0.0.0.0/8, ::
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // RFC 1918 (10/8, 172.16/12, 192.168/16), RFC 4193 ULA fc00::/7, fec0::/10
  kShared,       // RFC 6598 CGNAT 100.64.0.0/10
  kLinkLocal,    // 169.254.0.0/16 (cloud metadata lives here), fe80::/10
  kMulticast,    // 224.0.0.0/4, ff00::/8
  kReserved,     // 240.0.0.0/4 with 255.255.255.255, ::/96 (IPv4-compatible, deprecated)
};

// Classifies an IPv4 address in network byte order.
AddressKind ClassifyIpv4(const std::array<uint8_t, 4>& a);
// Classifies an IPv6 address in network byte order. Addresses that carry an IPv4 address are
// classified by it: IPv4-mapped ::ffff:0:0/96 (the kernel connects to the IPv4 address),
// NAT64 64:ff9b::/96 (RFC 6052) and 6to4 2002::/16 (RFC 3056). The local-use NAT64 prefix
// 64:ff9b:1::/48 (RFC 8215) is kPrivate.
AddressKind ClassifyIpv6(const std::array<uint8_t, 16>& a);
// Parses a textual IPv4 or IPv6 address (no brackets, no zone); nullopt if it is not one.
std::optional<AddressKind> ClassifyAddress(std::string_view text);

// True for the kinds a fetch may connect to without --allow-private-fetch.
inline bool IsPublic(AddressKind kind) { return kind == AddressKind::kPublic; }
// "loopback", "private", ... for the log.
std::string_view AddressKindName(AddressKind kind);

}  // namespace tollgate::http
