// The only TU besides server.cc that includes Beast, and the only one in http/ that includes
// Asio's TLS (and with it OpenSSL's headers): docs/decisions/0003-outbound-fetch.md.
#include "http/url_fetcher.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <vector>

#include "http/address_policy.h"

namespace tollgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

struct UrlFetcher::Impl {
  Impl(FetchLimits l, FetchAddresses a) : limits(l), addresses(a), tls(ssl::context::tls_client) {
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
    tls.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                    ssl::context::no_tlsv1_1);
  }
  FetchLimits limits;
  FetchAddresses addresses;
  // Set up once here, then only read by every fetch (OpenSSL allows that from many threads).
  mutable ssl::context tls;
};

namespace {

struct Target {
  bool https = false;
  std::string host;  // for resolving and for TLS (SNI, name check)
  std::string port;
  std::string host_header;  // as written in the URL
  std::string path;         // path and query
};

Result<Target, std::string> ParseTarget(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return Fail(std::string("not an absolute URL"));
  Target t;
  if (u->scheme() == "https") {
    t.https = true;
  } else if (u->scheme() != "http") {
    return Fail(std::string("not an http(s) URL"));
  }
  t.host = u->host_address();
  if (t.host.empty()) return Fail(std::string("the URL has no host"));
  t.port = u->has_port() ? std::string(u->port()) : (t.https ? "443" : "80");
  t.host_header = std::string(u->encoded_host_and_port());
  t.path = std::string(u->encoded_target());
  if (t.path.empty()) t.path = "/";
  return t;
}

template <class Stream>
asio::awaitable<void> Exchange(Stream& stream, const Target& t, const FetchLimits& limits,
                               std::string& body, std::string& error) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path, 11};
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "tollgate");
  req.set(bhttp::field::accept, "application/jwk-set+json, application/json");
  co_await bhttp::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(limits.max_header));
  parser.body_limit(limits.max_body);
  co_await bhttp::async_read(stream, buffer, parser, asio::use_awaitable);
  const unsigned status = parser.get().result_int();
  if (status != 200) {
    error = "HTTP status " + std::to_string(status);
    co_return;
  }
  body = std::move(parser.get().body());
}

asio::awaitable<void> Fetch(Target t, const UrlFetcher::Impl& impl,
                            std::chrono::steady_clock::time_point deadline, std::string& body,
                            std::string& error) {
  try {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto resolved = co_await resolver.async_resolve(t.host, t.port, asio::use_awaitable);
    // docs/decisions/0005: every address is checked before any connection, and only the checked
    // ones are connected to (no second resolution that could answer differently).
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : resolved) {
      const asio::ip::address address = entry.endpoint().address();
      const AddressKind kind = address.is_v4() ? ClassifyIpv4(address.to_v4().to_bytes())
                                               : ClassifyIpv6(address.to_v6().to_bytes());
      if (impl.addresses == FetchAddresses::kPublicOnly && !IsPublic(kind)) {
        error = "refused: " + t.host + " resolves to " + address.to_string() + " (" +
                std::string(AddressKindName(kind)) + " address; --allow-private-fetch allows it)";
        co_return;
      }
      endpoints.push_back(entry.endpoint());
    }
    if (endpoints.empty()) {
      error = "no address for " + t.host;
      co_return;
    }
    beast::tcp_stream tcp_stream(executor);
    tcp_stream.expires_at(deadline);
    co_await tcp_stream.async_connect(endpoints, asio::use_awaitable);
    if (!t.https) {
      co_await Exchange(tcp_stream, t, impl.limits, body, error);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), impl.tls);
    // RFC 6066 §3: server name indication carries host names, never IP addresses.
    boost::system::error_code not_ip;
    asio::ip::make_address(t.host, not_ip);
    if (not_ip && !SSL_set_tlsext_host_name(tls.native_handle(), t.host.c_str())) {
      error = "TLS: cannot set the server name";
      co_return;
    }
    tls.set_verify_callback(ssl::host_name_verification(t.host));
    co_await tls.async_handshake(ssl::stream_base::client, asio::use_awaitable);
    co_await Exchange(tls, t, impl.limits, body, error);
  } catch (const boost::system::system_error& e) {
    error = e.code() == beast::error::timeout ? "timed out" : e.code().message();
  } catch (const std::exception& e) {
    error = e.what();
  }
}

}  // namespace

UrlFetcher::UrlFetcher(FetchLimits limits, FetchAddresses addresses)
    : impl_(std::make_unique<Impl>(limits, addresses)) {}
UrlFetcher::~UrlFetcher() = default;

Result<std::string, std::string> UrlFetcher::Get(const std::string& url) const {
  auto target = ParseTarget(url);
  if (!target) return Fail(std::move(target).error());
  std::string body;
  std::string error;
  bool done = false;
  {
    // Declared after `body` and `error`: destroying it (and any unfinished coroutine frame,
    // which refers to them) comes first.
    asio::io_context ioc(1);
    const auto deadline = std::chrono::steady_clock::now() + impl_->limits.timeout;
    asio::co_spawn(ioc, Fetch(std::move(*target), *impl_, deadline, body, error),
                   [&](const std::exception_ptr&) { done = true; });
    // The stream's deadline bounds the I/O; this bounds the name resolution too.
    ioc.run_until(deadline + std::chrono::milliseconds(100));
    if (!done) {
      ioc.stop();
      return Fail(std::string("timed out"));
    }
  }
  if (!error.empty()) return Fail(std::move(error));
  return body;
}

}  // namespace tollgate::http
