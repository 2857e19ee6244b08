#pragma once
// TEST-ONLY: a fixed test PKI made once with the openssl 3.0 command (PEM as it wrote them):
//
//   root (RSA 2048, CA) -> intermediate (P-384, CA, pathlen 0) -> leaf "client one" (RSA 2048,
//   clientAuth, SANs), "server.example.com" (P-256, serverAuth only), "not a CA" (P-256,
//   CA:FALSE, no keyUsage) -> "child of a leaf" (P-256);
//   an unrelated CA (P-256) -> "stranger" (subject "CN=client one,O=Example Corp,C=US" too);
//   self-signed: a P-256 certificate with a multi-valued, escaped, UTF-8 subject, and an Ed25519
//   one.
//
// Validity (UTC): the roots 2026-12-07 .. 2036-12-04, the intermediate .. 2035-02-23, the
// leaves 2026-12-07 .. 2027-12-07 (the leaf "client one" from 02:38:06), "child of a leaf"
// .. 2027-10-03. Tests pass an explicit time, so nothing depends on today.
// Header-only; never include it from production code.

#include <string_view>

namespace tollgate::crypto::testing {

inline constexpr std::string_view kRootPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDRTCCAi2gAwIBAgIBATANBgkqhkiG9w0BAQsFADBEMQswCQYDVQQGEwJVUzEV\n"
    "MBMGA1UECgwMRXhhbXBsZSBDb3JwMR4wHAYDVQQDDBVUb2xsZ2F0ZSBUZXN0IFJv\n"
    "b3QgQ0EwHhcNMjYxMjA3MDIzODA2WhcNMzYxMjA0MDIzODA2WjBEMQswCQYDVQQG\n"
    "EwJVUzEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMR4wHAYDVQQDDBVUb2xsZ2F0ZSBU\n"
    "ZXN0IFJvb3QgQ0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDqfUd1\n"
    "jLcATpxVtMU/Ji3usN9y6ZK9wwwWOzDNrruUE/Tdzx9GfZHd6pP1iS4zMnZsloP7\n"
    "pQymZkuEPOfXh9WjDE8TijHVDmAD200h05sRzibPa99mg8HMu9UvU1cPlgHa3YLX\n"
    "L6+mqsAe5AHwXf7V2cuEgxXgH5CyYx4r6v2YxkZ6Bg02d/fMG24dZJmAiQElVe3P\n"
    "KePa+4+FCdVxvEovTjff0BMnoDPEykpVJS48auRCKVoWJVcHIQ3Bl+r/yDv+NpW/\n"
    "oGspODR4I56o8wshjGDpOmxguzKX9XXg+2OFCYYczQLu0/3OzcLI4YhSegv8OkkN\n"
    "benKRVYz1uDg4FMnAgMBAAGjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/\n"
    "BAQDAgEGMB0GA1UdDgQWBBQesfjPInrKoKkSKuml6VPvE9sYHDANBgkqhkiG9w0B\n"
    "AQsFAAOCAQEAD6WNWdibszj39aO/Rn/58TvgE9bkqxw9SgKhNLD1xvFMjzCdVv+M\n"
    "JChe4sz3iyttZwAhfvH9VPBG1blCNG5328kmXNZf2zGilCMaslEvZTyk28ktv5tp\n"
    "3u9AkLwe0txVe+PoqMkip1j3dY3V0xMFaOU5woC0gvC13k2SnB9dNmhv0nIq/QlT\n"
    "ef6B0bPQWK0UWpEb352CyLNRP8Sw2/CBLkP3DGvloADhjIIplb6XWH+05y6QW+xT\n"
    "OI8V36BTnMCvBUJN6U8nFhefJWJnuKLsOlmZykaTDNJo+aPjDLcxXniixZiy1AkC\n"
    "W6ZVPUjUXq/GR2VJq+0YzDC5jub/ZtXa1A==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kIntermediatePem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICwzCCAaugAwIBAgIBAjANBgkqhkiG9w0BAQsFADBEMQswCQYDVQQGEwJVUzEV\n"
    "MBMGA1UECgwMRXhhbXBsZSBDb3JwMR4wHAYDVQQDDBVUb2xsZ2F0ZSBUZXN0IFJv\n"
    "b3QgQ0EwHhcNMjYxMjA3MDIzODA2WhcNMzUwMjIzMDIzODA2WjBMMQswCQYDVQQG\n"
    "EwJVUzEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMSYwJAYDVQQDDB1Ub2xsZ2F0ZSBU\n"
    "ZXN0IEludGVybWVkaWF0ZSBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IABG1d4eM6\n"
    "qtxUBcJmKuudDujL/IdjLbVCgSo79Y5wDT2Ll+NplvbBnUwIrib7cZAxHWOLFwlE\n"
    "WVUddU4u4XZFvBB8ay/1ATJ9dWL2Mg/1skZB0D2E7jYPh6lHv++Npvtrk6NmMGQw\n"
    "EgYDVR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFNir\n"
    "o4QjVThyXMgqnrVvK3EuJadDMB8GA1UdIwQYMBaAFB6x+M8iesqgqRIq6aXpU+8T\n"
    "2xgcMA0GCSqGSIb3DQEBCwUAA4IBAQCoik3+fonybyZ9uq25iFsqPkk8BCiQ4A7Y\n"
    "SWmBMLzfm8h6o3FDS530ugahyN/CyFXLaBWl/MmpLrSGSuCN8Dq8B2wi+gPHYUeM\n"
    "ZPwITMewjxyfWZuSbKW3RqzLnBZi7Uz3sGtuIhrJoC/4tGpR5WmKVYG+dYA5XEKW\n"
    "xPaYV6p03Bu7ia84cG4Pbuy+WgNubvZTnJTcFIqTGRfe1akTgaKEm/E2AfptZMCf\n"
    "6HiabRsSr90wL6r7gork23C5g9K7CauiBfmIlNhvi9+bxQ56H8d6UQGxY3lC4+CN\n"
    "em7x/JhKcQtqvCxy6aNH4tRffuQHfM9LLX0sq+2c95kjnWEr5ImN\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kLeafPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDYDCCAuWgAwIBAgIRAKGyw9Tl9gcYKTpLXG1+j5AwCgYIKoZIzj0EAwMwTDEL\n"
    "MAkGA1UEBhMCVVMxFTATBgNVBAoMDEV4YW1wbGUgQ29ycDEmMCQGA1UEAwwdVG9s\n"
    "bGdhdGUgVGVzdCBJbnRlcm1lZGlhdGUgQ0EwHhcNMjYxMjA3MDIzODA2WhcNMjcx\n"
    "MjA3MDIzODA2WjA5MQswCQYDVQQGEwJVUzEVMBMGA1UECgwMRXhhbXBsZSBDb3Jw\n"
    "MRMwEQYDVQQDDApjbGllbnQgb25lMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB\n"
    "CgKCAQEAxE5++1bFDiqQRD0M2rs8F/w9/KaSCPHcLFWM5NJaNN6pzKxuAEHUfyN3\n"
    "E0odYuzxaFAZzVByd5Yic2fN16rsDRV7s/u5u1p7ut0tK5Q59zJkb4VoyknFB/X2\n"
    "dZbuKju1DDUC7LdBxJK/ELaAW77kiu0Dr1TzuQtabUC8BkPL9lNgusjL20K1Rsmr\n"
    "FV6aytg+Wa3fVWsFzwrwsqHjGQk0isw7QgBwUnJC1AEqmbj3K9K4qrDctQKx3A5N\n"
    "mw8GD8nT7It81AyCG8gwPR5XqY0Bgd0z+9j0hLyhk/L2o8be919MB/H2BIGQyD+D\n"
    "YlCqyFvTCBpB6dIlVNMjTtOzfvhDXwIDAQABo4HvMIHsMAwGA1UdEwEB/wQCMAAw\n"
    "DgYDVR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQWBBRA\n"
    "4hsJb2wkTJQGKTkAcFgAMLbryjAfBgNVHSMEGDAWgBTYq6OEI1U4clzIKp61bytx\n"
    "LiWnQzB3BgNVHREEcDBughJjbGllbnQuZXhhbXBsZS5jb22GG3NwaWZmZTovL2V4\n"
    "YW1wbGUuY29tL2NsaWVudIESY2xpZW50QGV4YW1wbGUuY29thwTAAAIHhxAgAQ24\n"
    "AAAAAAAAAAAAAAAHgg9hbHQuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwMDaQAwZgIx\n"
    "AIXBo4bzyKPgqkZZPSxE8MXs9DRzC4n07zpzKrsHkCwbziJ7tacdZtTkAkoqXWlt\n"
    "HAIxAPp9C09Gn0NcMcSM1pkffjrNsnQ/UGCEQqGL0OX0OzUf/AbPTTacp/1brjOj\n"
    "/UzpVA==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kServerAuthPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICNDCCAbmgAwIBAgICEAMwCgYIKoZIzj0EAwMwTDELMAkGA1UEBhMCVVMxFTAT\n"
    "BgNVBAoMDEV4YW1wbGUgQ29ycDEmMCQGA1UEAwwdVG9sbGdhdGUgVGVzdCBJbnRl\n"
    "cm1lZGlhdGUgQ0EwHhcNMjYxMjA3MDIzODA2WhcNMjcxMjA3MDIzODA2WjBBMQsw\n"
    "CQYDVQQGEwJVUzEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMRswGQYDVQQDDBJzZXJ2\n"
    "ZXIuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARgh/oJpo0r\n"
    "4sm/ZecosaiXGKwmLfKYHBit7lOi6+vl9YWz3X2DH07C6OWG4+orPcCNOF0BlApC\n"
    "+dhfW+kPlzwWo4GVMIGSMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMG\n"
    "A1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBR55tUQwkCAAOciI0E8L71T9paL\n"
    "oTAfBgNVHSMEGDAWgBTYq6OEI1U4clzIKp61bytxLiWnQzAdBgNVHREEFjAUghJz\n"
    "ZXJ2ZXIuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwMDaQAwZgIxAN6p8O8I5Mr6W7dF\n"
    "Z1h6+jLh/xbeGPDwDYllxyKYjBL9oFrttAMbXgCS7ZRy42KxaAIxANN5lKbQrV19\n"
    "JOT1G+QEj9wZkjJwoQSONP17ROI1OVEhTDW8B9QROig8g+apkZ7OmQ==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kOtherCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBrDCCAVGgAwIBAgIBEDAKBggqhkjOPQQDAjA9MQswCQYDVQQGEwJVUzESMBAG\n"
    "A1UECgwJT3RoZXIgT3JnMRowGAYDVQQDDBFVbnJlbGF0ZWQgVGVzdCBDQTAeFw0y\n"
    "NjEyMDcwMjM4MDdaFw0zNjEyMDQwMjM4MDdaMD0xCzAJBgNVBAYTAlVTMRIwEAYD\n"
    "VQQKDAlPdGhlciBPcmcxGjAYBgNVBAMMEVVucmVsYXRlZCBUZXN0IENBMFkwEwYH\n"
    "KoZIzj0CAQYIKoZIzj0DAQcDQgAEu9/BoanMc69WD8IgUlRcQbHk1pnE7AiS0Egb\n"
    "g0xyv/dFONSE1o6146tKywRzVVWN5LTFkBJS7QOnnp2w50CUgKNCMEAwDwYDVR0T\n"
    "AQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFL4d6zS3yS6EH54I\n"
    "e3ZGeJYCLoaSMAoGCCqGSM49BAMCA0kAMEYCIQCaP6Q5GzmsnWkicMEX+lMeZNWb\n"
    "LtH40+P0omQKKzCjzwIhAL1HJiaeCTN0QPz2s8Qpe+b6Uq7jAafwcaw/UxpSN0MP\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kStrangerPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB2jCCAYCgAwIBAgIBETAKBggqhkjOPQQDAjA9MQswCQYDVQQGEwJVUzESMBAG\n"
    "A1UECgwJT3RoZXIgT3JnMRowGAYDVQQDDBFVbnJlbGF0ZWQgVGVzdCBDQTAeFw0y\n"
    "NjEyMDcwMjM4MDdaFw0yNzEyMDcwMjM4MDdaMDkxCzAJBgNVBAYTAlVTMRUwEwYD\n"
    "VQQKDAxFeGFtcGxlIENvcnAxEzARBgNVBAMMCmNsaWVudCBvbmUwWTATBgcqhkjO\n"
    "PQIBBggqhkjOPQMBBwNCAAR1eWCQQZ4FiZ2AB0xdSDFs+h6z/lkCYqWbfFsgeCMe\n"
    "CGMEDqOoByZ/4W9G5CAds0gdhPxWPuXTDxgJXuLQBRaFo3UwczAMBgNVHRMBAf8E\n"
    "AjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDAjAfBgNVHSME\n"
    "GDAWgBS+Hes0t8kuhB+eCHt2RniWAi6GkjAdBgNVHQ4EFgQUEhshNM+Hs75c1FdQ\n"
    "Shq0Qd8oI5IwCgYIKoZIzj0EAwIDSAAwRQIhAIRXh4kaYFes/5eNyQ4LmYvA/oTE\n"
    "S8NTQ1l8rcq/RRxQAiBwQhnRpCbJmA21ffuawKmwMhSc0+cyCrtklbdHvTHtsg==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kNotCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB+DCCAX6gAwIBAgICEAQwCgYIKoZIzj0EAwMwTDELMAkGA1UEBhMCVVMxFTAT\n"
    "BgNVBAoMDEV4YW1wbGUgQ29ycDEmMCQGA1UEAwwdVG9sbGdhdGUgVGVzdCBJbnRl\n"
    "cm1lZGlhdGUgQ0EwHhcNMjYxMjA3MDI0MDQwWhcNMjcxMjA3MDI0MDQwWjA3MQsw\n"
    "CQYDVQQGEwJVUzEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMREwDwYDVQQDDAhub3Qg\n"
    "YSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEKnbjZEjncc9nzJ0U/Pcrul\n"
    "DzoHF71L1cYntSzm+baGiU5uUP6j8K4veAB5TYmDqPYoY3kMAaYRg76G2OdfJamj\n"
    "ZTBjMAwGA1UdEwEB/wQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYE\n"
    "FAoruKyegaIjwXEfJxIxqTzioaEdMB8GA1UdIwQYMBaAFNiro4QjVThyXMgqnrVv\n"
    "K3EuJadDMAoGCCqGSM49BAMDA2gAMGUCMQCZ+hLAjMRWIXLT4qGjYuy9X8zgHbhj\n"
    "6dB/nPDka/n6n/gsWu2MsUvtsWTYz7hDKyYCMEF0Ft9XsSIkFO9wZuNYkv4Hmmal\n"
    "VOvQkmM41VrpzesTAsdy//jfbJg0hki8rkS+KA==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kChildOfNotCaPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBtjCCAVugAwIBAgIBMDAKBggqhkjOPQQDAjA3MQswCQYDVQQGEwJVUzEVMBMG\n"
    "A1UECgwMRXhhbXBsZSBDb3JwMREwDwYDVQQDDAhub3QgYSBDQTAeFw0yNjEyMDcw\n"
    "MjQwNDBaFw0yNzEwMDMwMjQwNDBaMBoxGDAWBgNVBAMMD2NoaWxkIG9mIGEgbGVh\n"
    "ZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEu0lzIF2XhUK5W7zga8AFWkRqeY\n"
    "yvWypE6B4glCIUeXjSgH5yC70551bCGdjlWz3MjzVjOHz4qf5eOO2loWC+qjdTBz\n"
    "MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUF\n"
    "BwMCMB8GA1UdIwQYMBaAFAoruKyegaIjwXEfJxIxqTzioaEdMB0GA1UdDgQWBBSh\n"
    "avy5OEMEZ15+T2XAXPn7tEZnTTAKBggqhkjOPQQDAgNJADBGAiEA4+CRj4X7VOtp\n"
    "eNbP4ZF+45ZY37G7dtKe6//D7QLuKbkCIQDfuZg3/ugMFdCDZYuRbJJvOaZUDFqT\n"
    "Cj09hpxO0/z0ZQ==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kEcSelfSignedPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICBzCCAa2gAwIBAgIBIDAKBggqhkjOPQQDAjBiMQswCQYDVQQGEwJERTETMBEG\n"
    "A1UECgwKQWNtZSwgSW5jLjEUMBIGA1UECwwLIzEgUitEOyBsYWIxKDAQBgoJkiaJ\n"
    "k/IsZAEBDAJqbTAUBgNVBAMMDUrDtnJnIE3DvGxsZXIwHhcNMjYxMjA3MDIzODEz\n"
    "WhcNMjcxMjA3MDIzODEzWjBiMQswCQYDVQQGEwJERTETMBEGA1UECgwKQWNtZSwg\n"
    "SW5jLjEUMBIGA1UECwwLIzEgUitEOyBsYWIxKDAQBgoJkiaJk/IsZAEBDAJqbTAU\n"
    "BgNVBAMMDUrDtnJnIE3DvGxsZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARW\n"
    "bcDCKZmSI3Znrj6zywq/xWM/bLacORTZ51TlBsLfnWKh49W0AjfawOHkaG66ZMck\n"
    "xP5Ug7iY9gTSsnIfQ0mBo1QwUjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIH\n"
    "gDATBgNVHSUEDDAKBggrBgEFBQcDAjAdBgNVHQ4EFgQUgceW7ZNPCA/OKBrW5c7C\n"
    "fiFD1N8wCgYIKoZIzj0EAwIDSAAwRQIhAOWH/Oy8ocK6+9JfwikOxor7AEHjorx6\n"
    "3u2vQ8rY8836AiBC4v9w1rcAwAJJdBWoyjnZmySosp75dZ7wjniweKvLkA==\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kEd25519Pem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBNDCB56ADAgECAgEAMAUGAytlcDAZMRcwFQYDVQQDDA5lZDI1NTE5IGNsaWVu\n"
    "dDAeFw0yNjEyMDcwMjM4MDdaFw0yNzEyMDcwMjM4MDdaMBkxFzAVBgNVBAMMDmVk\n"
    "MjU1MTkgY2xpZW50MCowBQYDK2VwAyEABjZd1thDN4b08m0jE7JG6XNxXb9STTsB\n"
    "OWjOIxrP4w2jVDBSMAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1Ud\n"
    "JQQMMAoGCCsGAQUFBwMCMB0GA1UdDgQWBBSAQrpCn7x1jV1EKEyHAd2pWnjWRjAF\n"
    "BgMrZXADQQAYGCMVnck7GIwhxRDpWPF/X7JtUYGy0JrFnf32YyMsOcZaHa4mo1em\n"
    "DA8DfWv+nxSzsBZBHydy+ALZD4I8B40C\n"
    "-----END CERTIFICATE-----\n";

inline constexpr std::string_view kLeafKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDETn77VsUOKpBE\n"
    "PQzauzwX/D38ppII8dwsVYzk0lo03qnMrG4AQdR/I3cTSh1i7PFoUBnNUHJ3liJz\n"
    "Z83XquwNFXuz+7m7Wnu63S0rlDn3MmRvhWjKScUH9fZ1lu4qO7UMNQLst0HEkr8Q\n"
    "toBbvuSK7QOvVPO5C1ptQLwGQ8v2U2C6yMvbQrVGyasVXprK2D5Zrd9VawXPCvCy\n"
    "oeMZCTSKzDtCAHBSckLUASqZuPcr0riqsNy1ArHcDk2bDwYPydPsi3zUDIIbyDA9\n"
    "HlepjQGB3TP72PSEvKGT8vajxt73X0wH8fYEgZDIP4NiUKrIW9MIGkHp0iVU0yNO\n"
    "07N++ENfAgMBAAECggEAAo202CciTBNgqgqTQrshxnwZAFLYXnZq80avnQBhfQOS\n"
    "eN+bVLSGg5rd/ym9JR7I6x7znviXbJfO3epxQoduJ6NqZwZ0vYupRV6AKmt0r5L/\n"
    "vHWjTdJU1kwsRw5ODc2WBtEftx2RJPH1u01scQUUKvx3Sk4UF4mexQINEBXMrukT\n"
    "4pDbO3VIBXLZrnixlJ9XUYBH6XNCUo9y96ieNQNpWMQBuyM/0dp7Pjy5qvfDbzYJ\n"
    "LAiZOavtWqLVhJlRpY1aB2klGCwfZ9eq7D5x2WXfxaQVZfNHEqiTe4HlK6qmpupq\n"
    "2LzEx1j9lD62QG8Cd4VbG+C7jqh8wA0CMatoXIz5xQKBgQD21+vuAg4rnk2A4Mk7\n"
    "pIr0ZZHPIhs2VoKwFq4NGBjNaS4IuwqY1ca6U211aphNHTw46txhocMXk5PEL4Gd\n"
    "tLiZ/ra/Xg8v0wC24AP/D/tgC1dqaw05IVi2HN0uc2kdB8FUGZ5H1gXDoNEhwXZd\n"
    "JYsMMF+8z6K25cgXUjVNisaLEwKBgQDLlqp6W2DWUGMzkWlc8+BM2o4M+lrW4dqG\n"
    "Pq+PPsONELIEifgbUonfEjqMliYZUsNtj407yEeNgG1HE1Cstg5/0Y0eXD/QHh2U\n"
    "HcfjO4KQpFxVytmJ2+nO6YiXOPpqOvhHKXM01AO0wnH8YsOCx1q49YFVY3GF/s5Q\n"
    "ZnELbY/EBQKBgQDHHVuKDQxjMPnxyOFqhAs2o6vfevKafWREKLdThqmTIJHqpv4g\n"
    "VOlOKbf06/xY0AlhHEqTUsotfXTH305d6Yazadz+NyBnAnzkB4YRvFGYou1rwVjU\n"
    "ScrmdBgSvTQAH95aOaQM7F6P9GxeH1GcR4mHVooToyXtBSPHdB/dIeGQEwKBgAjs\n"
    "xPJyOQ+MHJ0xHbZWdpnH5vxIqVzML+E8tEOKU9ZGSheK2NaRyrt9uBVbq7Xme+y8\n"
    "o0tgn0pju+amwR2hKYeO7ynKj32XJGLO32llvXaLzgRwzRKPEnPgpv1CITAw/5tX\n"
    "BNbnCHaPI6IVzk5YYPDEynOs1VgzcGXz57bBidDlAoGAA6XIhrklowyjVKfhQXVa\n"
    "lQ7aKuMSxWukonDk6Hd89qXSbOkIG4UaisLsc0E9Eb+6Agot4KST6R3wvDwhoq8M\n"
    "YcBWDbhWmcUNVukL2EpIdTxa+7S9CmiJ4vcEQQnhfIFwQWUPxFmnC020Huon+/ZU\n"
    "IXLdUTxPEkWk0c3vRe0Q/3A=\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr std::string_view kEcKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyIKVm4X0iNQXG3Id\n"
    "b9NDD4PtkBVq11eeiJedxQH2RM+hRANCAARWbcDCKZmSI3Znrj6zywq/xWM/bLac\n"
    "ORTZ51TlBsLfnWKh49W0AjfawOHkaG66ZMckxP5Ug7iY9gTSsnIfQ0mB\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr std::string_view kEd25519KeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEICZ0Oroqvfq/JLV4siMnkW3wsj7vq9o4hlrNm0JuHk4i\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr std::string_view kIntermediateX =
    "bV3h4zqq3FQFwmYq650O6Mv8h2MttUKBKjv1jnANPYuX42mW9sGdTAiuJvtxkDEd";
inline constexpr std::string_view kIntermediateY =
    "Y4sXCURZVR11Ti7hdkW8EHxrL_UBMn11YvYyD_WyRkHQPYTuNg-HqUe_742m-2uT";
// `openssl x509 -noout -fingerprint -sha256` of kLeafPem.
inline constexpr std::string_view kLeafSha256Fingerprint =
    "0E:47:7A:A4:61:A9:31:61:09:54:5D:BE:3C:DE:DE:32:B4:C3:14:03:14:F3:B6:DE:35:20:65:95:5B:C5:B6:"
    "05";

}  // namespace tollgate::crypto::testing
