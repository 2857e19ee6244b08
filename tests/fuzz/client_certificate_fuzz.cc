// Fuzz target: what a client or an administrator hands the mutual-TLS code (RFC 8705). The first
// byte picks the parser: 0 a DER certificate (a TLS client's, or a proxy's Client-Cert), 1 a PEM
// certificate (a trusted CA as /v1 takes it), 2 a distinguished name (tlsClientAuthSubjectDn),
// 3 an IP address (tlsClientAuthSanIp), 4 a trusted proxy's Client-Cert and Client-Cert-Chain
// (split at the first newline). Never crashes; a parsed certificate survives its PEM round trip
// and a normalized name normalizes to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/x509.h"
#include "http/client_cert.h"

namespace {

void Certificate(const tollgate::crypto::Certificate& cert) {
  using tollgate::crypto::Certificate;
  auto again = Certificate::FromPem(cert.Pem());
  if (!again || (*again)->Der() != cert.Der()) __builtin_trap();
  if (cert.Sha256Thumbprint().size() != 32) __builtin_trap();
  (void)cert.SubjectDn();
  (void)cert.IssuerDn();
  (void)cert.SerialNumberHex();
  (void)cert.NotBefore();
  (void)cert.NotAfter();
  (void)cert.IsCa();
  (void)cert.SanDns();
  (void)cert.SanUri();
  (void)cert.SanEmail();
  for (const std::string& ip : cert.SanIp()) {
    if (ip.size() != 4 && ip.size() != 16) __builtin_trap();
  }
  if (auto dn = tollgate::crypto::NormalizeDn(cert.SubjectDn())) (void)cert.SubjectIs(*dn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tollgate;
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      if (auto cert = crypto::Certificate::FromDer(in)) Certificate(**cert);
      break;
    case 1:
      if (auto cert = crypto::Certificate::FromPem(in)) Certificate(**cert);
      break;
    case 2:
      if (auto dn = crypto::NormalizeDn(in)) {
        if (crypto::NormalizeDn(*dn) != dn) __builtin_trap();
      }
      break;
    case 3:
      if (auto ip = crypto::ParseIpAddress(in); ip && ip->size() != 4 && ip->size() != 16) {
        __builtin_trap();
      }
      break;
    default: {
      http::Request request;
      const size_t newline = in.find('\n');
      request.proxy_client_cert = in.substr(0, newline);
      if (newline != std::string_view::npos)
        request.proxy_client_cert_chain = in.substr(newline + 1);
      auto certs = http::ClientCertificates(request);
      if (certs && (certs->empty() || certs->size() > http::kMaxClientCertificates)) {
        __builtin_trap();
      }
      break;
    }
  }
  return 0;
}
