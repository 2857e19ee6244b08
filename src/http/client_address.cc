#include "http/client_address.h"

#include <arpa/inet.h>

#include <charconv>

namespace tollgate::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Matches(const Cidr& net, const std::array<uint8_t, 16>& a) {
  const int full = net.prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (a[static_cast<size_t>(i)] != net.address[static_cast<size_t>(i)]) return false;
  }
  const int rest = net.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[static_cast<size_t>(full)] & mask) == (net.address[static_cast<size_t>(full)] & mask);
}

// One hop as written in a header: `1.2.3.4`, `1.2.3.4:80`, `[::1]`, `[::1]:80`, `::1`, or a
// Forwarded `for=` value with its quotes already removed. The bare address, or "" when the hop
// is not an address.
std::string_view HopAddress(std::string_view hop) {
  hop = Trim(hop);
  if (!hop.empty() && hop.front() == '[') {
    const size_t close = hop.find(']');
    if (close == std::string_view::npos) return {};
    return hop.substr(1, close - 1);
  }
  // IPv4 with a port has exactly one colon; IPv6 without brackets has several.
  const size_t colon = hop.find(':');
  if (colon != std::string_view::npos && hop.find(':', colon + 1) == std::string_view::npos) {
    return hop.substr(0, colon);
  }
  return hop;
}

// Calls `hop(text)` for each hop of the header from the right, until it returns false.
template <class F>
void ForEachHopFromRight(std::string_view list, F&& hop) {
  size_t end = list.size();
  for (;;) {
    const size_t comma = list.rfind(',', end == 0 ? 0 : end - 1);
    const size_t start = comma == std::string_view::npos || end == 0 ? 0 : comma + 1;
    if (!hop(Trim(list.substr(start, end - start)))) return;
    if (start == 0) return;
    end = comma;
  }
}

// RFC 7239 §4: the `for` parameter of one forwarded-element (`for=1.2.3.4;proto=https`), with
// the quotes of a quoted-string removed; "" when there is none.
std::string_view ForwardedFor(std::string_view element) {
  while (!element.empty()) {
    const size_t semi = element.find(';');
    std::string_view pair = Trim(element.substr(0, semi));
    element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq != 3) continue;
    std::string_view name = pair.substr(0, 3);
    if (!((name[0] == 'f' || name[0] == 'F') && (name[1] == 'o' || name[1] == 'O') &&
          (name[2] == 'r' || name[2] == 'R'))) {
      continue;
    }
    std::string_view value = pair.substr(4);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

}  // namespace

std::optional<std::array<uint8_t, 16>> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;  // INET6_ADDRSTRLEN - 1
  char buf[46];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  std::array<uint8_t, 16> out{};
  if (text.find(':') == std::string_view::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, buf, &v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xFF;
    const auto* b = reinterpret_cast<const uint8_t*>(&v4.s_addr);
    std::copy(b, b + 4, out.begin() + 12);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, buf, &v6) != 1) return std::nullopt;
  std::copy(v6.s6_addr, v6.s6_addr + 16, out.begin());
  return out;
}

Result<TrustedProxies, std::string> TrustedProxies::Parse(std::string_view text) {
  TrustedProxies out;
  while (!Trim(text).empty()) {
    const size_t comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    const size_t slash = item.find('/');
    auto address = ParseIpAddress(item.substr(0, slash));
    const bool v4 = item.substr(0, slash).find(':') == std::string_view::npos;
    Cidr net;
    net.prefix = v4 ? 32 : 128;
    bool ok = address.has_value();
    if (ok && slash != std::string_view::npos) {
      std::string_view bits = item.substr(slash + 1);
      int prefix = -1;
      auto [ptr, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      ok = !bits.empty() && ec == std::errc() && ptr == bits.data() + bits.size() && prefix >= 0 &&
           prefix <= net.prefix;
      net.prefix = prefix;
    }
    if (ok) {
      if (v4) net.prefix += 96;
      net.address = *address;
      // No host bits beyond the prefix.
      Cidr exact = net;
      exact.prefix = 128;
      Cidr masked = net;
      for (int i = net.prefix; i < 128; ++i) {
        masked.address[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
      }
      ok = Matches(exact, masked.address);
    }
    if (!ok) {
      return Fail("--trusted-proxies: '" + std::string(item.substr(0, 64)) +
                  "' is not an IPv4 or IPv6 network (such as 10.0.0.0/8 or fd00::/8)");
    }
    out.networks_.push_back(net);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  if (networks_.empty()) return false;
  auto a = ParseIpAddress(address);
  if (!a) return false;
  for (const Cidr& net : networks_) {
    if (Matches(net, *a)) return true;
  }
  return false;
}

std::string TrustedProxies::Resolve(std::string_view peer, std::string_view forwarded,
                                    std::string_view x_forwarded_for) const {
  if ((forwarded.empty() && x_forwarded_for.empty()) || !Contains(peer)) return std::string(peer);
  std::string_view client = peer;  // the last trusted hop so far
  const bool rfc7239 = !forwarded.empty();
  ForEachHopFromRight(rfc7239 ? forwarded : x_forwarded_for, [&](std::string_view hop) {
    std::string_view address = HopAddress(rfc7239 ? ForwardedFor(hop) : hop);
    if (!ParseIpAddress(address)) return false;  // not an address: stop at the last trusted hop
    client = address;
    return Contains(address);  // a trusted proxy: look further left
  });
  return std::string(client);
}

}  // namespace tollgate::http
