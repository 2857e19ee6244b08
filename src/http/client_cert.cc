#include "http/client_cert.h"

#include <cctype>
#include <string_view>

#include "common/base64.h"

namespace tollgate::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 8941 §3.3.5: a byte sequence, `:` base64 (RFC 4648 §4) `:`, whose padding a parser
// should not insist on; parameters after it (`;name=value`, §3.1.2) are ignored.
std::optional<std::string> ByteSequence(std::string_view item) {
  if (item.size() < 3 || item.front() != ':') return std::nullopt;
  const size_t close = item.find(':', 1);
  if (close == std::string_view::npos || close == 1) return std::nullopt;
  const std::string_view rest = item.substr(close + 1);
  if (!rest.empty() && rest.front() != ';') return std::nullopt;
  std::string base64(item.substr(1, close - 1));
  if (base64.size() % 4 == 1) return std::nullopt;
  while (base64.size() % 4 != 0) base64 += '=';
  auto bytes = Base64Decode(base64);
  if (!bytes || bytes->empty()) return std::nullopt;
  return bytes;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// nginx's $ssl_client_escaped_cert: the PEM certificate, percent-encoded ('+' stays '+').
std::optional<std::string> EscapedPem(std::string_view value) {
  std::string pem;
  pem.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      pem += value[i];
      continue;
    }
    if (i + 2 >= value.size()) return std::nullopt;
    const int hi = HexValue(value[i + 1]);
    const int lo = HexValue(value[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    pem += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::string_view text = pem;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.substr(0, kBegin.size()) != kBegin || text.size() < kBegin.size() + kEnd.size() ||
      text.substr(text.size() - kEnd.size()) != kEnd) {
    return std::nullopt;
  }
  text = text.substr(kBegin.size(), text.size() - kBegin.size() - kEnd.size());
  std::string base64;
  base64.reserve(text.size());
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') base64 += c;
  }
  auto der = Base64Decode(base64);
  if (!der || der->empty()) return std::nullopt;
  return der;
}

}  // namespace

Result<std::vector<std::string>, std::string> ClientCertificates(const Request& request) {
  if (!request.proxy_client_cert) {
    return std::vector<std::string>(request.tls_client_certificates.begin(),
                                    request.tls_client_certificates.end());
  }
  const std::string_view value = Trim(*request.proxy_client_cert);
  auto leaf = value.starts_with(':') ? ByteSequence(value) : EscapedPem(value);
  if (!leaf) return Fail(std::string("The Client-Cert header is malformed"));
  std::vector<std::string> out;
  out.push_back(std::move(*leaf));
  if (request.proxy_client_cert_chain) {
    // RFC 8941 §3.1: items separated by commas; an empty item (a trailing comma) is an error.
    std::string_view rest = *request.proxy_client_cert_chain;
    for (bool more = true; more;) {
      const size_t comma = rest.find(',');
      auto item = ByteSequence(Trim(rest.substr(0, comma)));
      if (!item) return Fail(std::string("The Client-Cert-Chain header is malformed"));
      if (out.size() == kMaxClientCertificates) {
        return Fail(std::string("The Client-Cert-Chain header holds too many certificates"));
      }
      out.push_back(std::move(*item));
      more = comma != std::string_view::npos;
      if (more) rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

}  // namespace tollgate::http
