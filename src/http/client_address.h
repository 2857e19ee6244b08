#pragma once
// The address of the client behind trusted reverse proxies (RFC 7239 `Forwarded`, and the
// de-facto `X-Forwarded-For`), for brute-force throttling (docs/brute-force.md, docs/deploy.md).
// Only a peer that is a trusted proxy may name another address, and the client is the rightmost
// hop that is not a trusted proxy: everything to its left was written by the client itself.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tollgate::http {

// An IPv4 or IPv6 network; IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n).
struct Cidr {
  std::array<uint8_t, 16> address{};
  int prefix = 0;  // leading bits that must match, 0..128
};

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // "CIDR,CIDR,..." of IPv4 (`10.0.0.0/8`) or IPv6 (`fd00::/8`) networks; a bare address is a
  // /32 or /128. Spaces around items are ignored; an empty text trusts nobody. Fails with a
  // one-line reason naming the item that is not a network (host bits set are refused, so that
  // a typo such as `10.1.2.3/8` does not trust more than meant).
  static Result<TrustedProxies, std::string> Parse(std::string_view text);

  bool empty() const { return networks_.empty(); }
  // True when `address` (textual IPv4 or IPv6, an IPv4-mapped IPv6 counted as IPv4) lies in one
  // of the networks.
  bool Contains(std::string_view address) const;

  // The client's address for a request from `peer`. `forwarded` and `x_forwarded_for` are the
  // values of every `Forwarded` / `X-Forwarded-For` header line joined with ", " (empty when
  // absent). When `peer` is not trusted, or carries neither header, the answer is `peer`. Else
  // the hops of `Forwarded` (its `for=` parameters), or, without it, of `X-Forwarded-For`, are
  // walked from the right: trusted proxies are skipped and the first other address is the
  // client. A hop that is not an IP address (`unknown`, an obfuscated name, garbage) ends the
  // walk at the last address that was trusted, so a hop the client wrote can never be
  // chosen; when every hop is trusted, the leftmost is the client. Linear in the headers' size.
  std::string Resolve(std::string_view peer, std::string_view forwarded,
                      std::string_view x_forwarded_for) const;

 private:
  std::vector<Cidr> networks_;
};

// Parses a textual IPv4 or IPv6 address (no port, no brackets, no zone) into the 16-byte form of
// Cidr::address (IPv4 as ::ffff:a.b.c.d). std::nullopt for anything else.
std::optional<std::array<uint8_t, 16>> ParseIpAddress(std::string_view text);

}  // namespace tollgate::http
