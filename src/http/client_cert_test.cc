#include "http/client_cert.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollgate::http {
namespace {

using Certs = std::vector<std::string>;

TEST(ClientCertificatesTest, TheConnectionsCertificatesWithoutAProxyHeader) {
  const Certs tls = {"leaf-der", "intermediate-der"};
  Request request;
  EXPECT_EQ(*ClientCertificates(request), Certs{});
  request.tls_client_certificates = tls;
  EXPECT_EQ(*ClientCertificates(request), tls);
}

TEST(ClientCertificatesTest, AProxysByteSequencesReplaceTheConnectionsCertificate) {
  const Certs tls = {"connection"};
  Request request;
  request.tls_client_certificates = tls;
  request.proxy_client_cert = " :bGVhZg==: ";  // "leaf"
  EXPECT_EQ(*ClientCertificates(request), Certs{"leaf"});
  request.proxy_client_cert_chain = ":aW50MQ==:, :aW50Mg==:";  // "int1", "int2"
  EXPECT_EQ(*ClientCertificates(request), (Certs{"leaf", "int1", "int2"}));
  // RFC 8941 §3.3.5: padding is optional to a parser; parameters are ignored.
  request.proxy_client_cert = ":bGVhZg:;by=proxy";
  request.proxy_client_cert_chain = ":aW50MQ:;a=1, :aW50Mg==:";
  EXPECT_EQ(*ClientCertificates(request), (Certs{"leaf", "int1", "int2"}));
  // RFC 8941 §3.3.5: padding is optional to a parser; parameters are ignored.
  request.proxy_client_cert = ":bGVhZg:;by=proxy";
  request.proxy_client_cert_chain = ":aW50MQ:;a=1, :aW50Mg==:";
  EXPECT_EQ(*ClientCertificates(request), (Certs{"leaf", "int1", "int2"}));
}

TEST(ClientCertificatesTest, NginxsEscapedPem) {
  Request request;
  // "-----BEGIN CERTIFICATE-----\nbGVh+Zg=\n-----END CERTIFICATE-----\n", percent-encoded as
  // nginx does, with the base64 '+' kept; the DER is whatever the base64 says.
  request.proxy_client_cert =
      "-----BEGIN%20CERTIFICATE-----%0AbGVh%2BZg%3D%0A-----END%20CERTIFICATE-----%0A";
  auto certs = ClientCertificates(request);
  ASSERT_TRUE(certs) << certs.error();
  EXPECT_EQ(certs->size(), 1u);
  EXPECT_EQ(certs->front(), std::string("\x6c\x65\x61\xf9\x98", 5));
  request.proxy_client_cert =
      "-----BEGIN%20CERTIFICATE-----%0AbGVh+Zg=%0A-----END%20CERTIFICATE-----";
  ASSERT_TRUE(ClientCertificates(request));
}

TEST(ClientCertificatesTest, MalformedProxyHeadersAreRefused) {
  for (const char* bad :
       {"", ":", "::", ":bGVhZg==", "bGVhZg==", ":bGVhZ:", ":bGVhZg==:x",
        ":not base64!:", ":bGVhZg==:, :bGVhZg==:", "%2", "%zz",
        "-----BEGIN%20CERTIFICATE-----%0A-----END%20CERTIFICATE-----",
        "-----BEGIN%20PRIVATE%20KEY-----%0AbGVhZg==%0A-----END%20PRIVATE%20KEY-----"}) {
    Request request;
    request.proxy_client_cert = bad;
    EXPECT_FALSE(ClientCertificates(request)) << bad;
  }
  for (const char* bad : {"bGVhZg==", ":bGVhZg==:,", ":bGVhZg==:x", ",:bGVhZg==:"}) {
    Request request;
    request.proxy_client_cert = ":bGVhZg==:";
    request.proxy_client_cert_chain = bad;
    EXPECT_FALSE(ClientCertificates(request)) << bad;
  }
}

TEST(ClientCertificatesTest, AtMostNineCertificates) {
  Request request;
  request.proxy_client_cert = ":bGVhZg==:";
  std::string chain;
  for (size_t i = 1; i < kMaxClientCertificates; ++i)
    chain += (i > 1 ? ", " : "") + std::string(":aW50:");
  request.proxy_client_cert_chain = chain;
  ASSERT_TRUE(ClientCertificates(request));
  EXPECT_EQ(ClientCertificates(request)->size(), kMaxClientCertificates);
  chain += ", :aW50:";
  request.proxy_client_cert_chain = chain;
  EXPECT_FALSE(ClientCertificates(request));
}

}  // namespace
}  // namespace tollgate::http
