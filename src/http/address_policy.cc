#include "http/address_policy.h"

#include <arpa/inet.h>

#include <string>

namespace tollgate::http {

AddressKind ClassifyIpv4(const std::array<uint8_t, 4>& a) {
  const uint8_t b0 = a[0];
  const uint8_t b1 = a[1];
  if (b0 == 0) return AddressKind::kUnspecified;  // RFC 1122 §3.2.1.3: "this network"
  if (b0 == 127) return AddressKind::kLoopback;   // RFC 1122 §3.2.1.3
  if (b0 == 10) return AddressKind::kPrivate;     // RFC 1918 §3
  if (b0 == 172 && (b1 & 0xf0) == 16) return AddressKind::kPrivate;  // RFC 1918: 172.16/12
  if (b0 == 192 && b1 == 168) return AddressKind::kPrivate;          // RFC 1918: 192.168/16
  if (b0 == 100 && (b1 & 0xc0) == 64) return AddressKind::kShared;   // RFC 6598: 100.64/10
  if (b0 == 169 && b1 == 254) return AddressKind::kLinkLocal;        // RFC 3927
  if ((b0 & 0xf0) == 224) return AddressKind::kMulticast;            // RFC 5771: 224/4
  if ((b0 & 0xf0) == 240) return AddressKind::kReserved;             // RFC 1112: 240/4, broadcast
  return AddressKind::kPublic;
}

AddressKind ClassifyIpv6(const std::array<uint8_t, 16>& a) {
  auto zeros = [&a](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (a[i] != 0) return false;
    }
    return true;
  };
  auto v4_at = [&a](size_t at) {
    return std::array<uint8_t, 4>{a[at], a[at + 1], a[at + 2], a[at + 3]};
  };
  if (zeros(0, 10) && a[10] == 0xff && a[11] == 0xff) {
    return ClassifyIpv4(v4_at(12));  // RFC 4291 §2.5.5.2: IPv4-mapped
  }
  if (zeros(0, 15)) {
    if (a[15] == 0) return AddressKind::kUnspecified;  // RFC 4291 §2.5.2: ::
    if (a[15] == 1) return AddressKind::kLoopback;     // RFC 4291 §2.5.3: ::1
  }
  if (zeros(0, 12)) return AddressKind::kReserved;  // RFC 4291 §2.5.5.1: IPv4-compatible
  // RFC 6052 §2.1: the well-known NAT64 prefix 64:ff9b::/96 reaches the embedded IPv4 address.
  if (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b) {
    if (zeros(4, 12)) return ClassifyIpv4(v4_at(12));
    if (a[4] == 0x00 && a[5] == 0x01) return AddressKind::kPrivate;  // RFC 8215: 64:ff9b:1::/48
  }
  if (a[0] == 0x20 && a[1] == 0x02) return ClassifyIpv4(v4_at(2));            // RFC 3056 §2: 6to4
  if ((a[0] & 0xfe) == 0xfc) return AddressKind::kPrivate;                    // RFC 4193: fc00::/7
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return AddressKind::kLinkLocal;  // fe80::/10
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return AddressKind::kPrivate;    // RFC 3879: fec0::/10
  if (a[0] == 0xff) return AddressKind::kMulticast;                           // RFC 4291 §2.7
  return AddressKind::kPublic;
}

std::optional<AddressKind> ClassifyAddress(std::string_view text) {
  const std::string s(text);  // inet_pton needs a terminated string
  std::array<uint8_t, 4> v4{};
  if (inet_pton(AF_INET, s.c_str(), v4.data()) == 1) return ClassifyIpv4(v4);
  std::array<uint8_t, 16> v6{};
  if (inet_pton(AF_INET6, s.c_str(), v6.data()) == 1) return ClassifyIpv6(v6);
  return std::nullopt;
}

std::string_view AddressKindName(AddressKind kind) {
  switch (kind) {
    case AddressKind::kPublic:
      return "public";
    case AddressKind::kUnspecified:
      return "unspecified";
    case AddressKind::kLoopback:
      return "loopback";
    case AddressKind::kPrivate:
      return "private";
    case AddressKind::kShared:
      return "shared (CGNAT)";
    case AddressKind::kLinkLocal:
      return "link-local";
    case AddressKind::kMulticast:
      return "multicast";
    case AddressKind::kReserved:
      return "reserved";
  }
  return "unknown";
}

}  // namespace tollgate::http
