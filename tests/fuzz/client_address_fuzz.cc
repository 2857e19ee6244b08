// Fuzz target: the client address behind trusted proxies (http/client_address.h). The input is
// PROXIES '\n' PEER '\n' FORWARDED '\n' X-FORWARDED-FOR: the --trusted-proxies text (parsed, or
// a fixed list when it does not parse) and the attacker-controlled headers. The answer is always
// the peer when the peer is not trusted, and otherwise an IP address that the headers hold, or
// the peer itself: never anything else.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/client_address.h"

namespace {

std::string_view TakeLine(std::string_view& in) {
  const size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tollgate::http::TrustedProxies;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view proxies_text = TakeLine(in);
  const std::string_view peer = TakeLine(in);
  const std::string_view forwarded = TakeLine(in);
  const std::string_view xff = in;
  auto parsed = TrustedProxies::Parse(proxies_text);
  const TrustedProxies proxies =
      parsed ? *parsed : *TrustedProxies::Parse("127.0.0.0/8, 10.0.0.0/8, fd00::/8, ::1");
  const std::string client = proxies.Resolve(peer, forwarded, xff);
  if (!proxies.Contains(peer)) {
    if (client != peer) __builtin_trap();
  } else if (client != peer) {
    if (!tollgate::http::ParseIpAddress(client)) __builtin_trap();
    const std::string_view headers = forwarded.empty() ? xff : forwarded;
    if (headers.find(client) == std::string_view::npos) __builtin_trap();
  }
  return 0;
}
