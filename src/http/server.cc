// With url_fetcher.cc, the only translation units that include Beast; with tls.cc and
// url_fetcher.cc, the only ones that include Asio's TLS (decision 0008).
#include "http/server.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <csignal>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "common/form.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "common/uuid.h"
#include "http/errors.h"

namespace tollgate::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::experimental::as_tuple;

constexpr uint32_t kHeaderLimit = 8 * 1024;  // SPEC §2.1: request line + headers
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kIoTimeout = std::chrono::seconds(30);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);  // a TLS handshake, from accept
// After accept() fails for want of resources, the acceptor waits this long (doubling up to the
// maximum while it keeps failing) or until a connection ends.
constexpr auto kAcceptBackoffMin = std::chrono::milliseconds(50);
constexpr auto kAcceptBackoffMax = std::chrono::milliseconds(1000);

// accept(2) failed for want of descriptors, buffers or memory. The connection stays in the
// backlog, so the listener stays readable and an immediate retry fails again: a busy loop.
bool OutOfResources(const boost::system::error_code& ec) {
  namespace errc = boost::system::errc;
  return ec == errc::too_many_files_open || ec == errc::too_many_files_open_in_system ||
         ec == errc::no_buffer_space || ec == errc::not_enough_memory;
}

// accept(2) failed for that one connection, which has left the backlog: the next one may be
// accepted at once (accept(2), Linux: "treat them like EAGAIN by retrying").
bool OneConnectionFailed(const boost::system::error_code& ec) {
  namespace errc = boost::system::errc;
  return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
         ec == errc::protocol_error || ec == errc::network_down ||
         ec == errc::network_unreachable || ec == errc::host_unreachable ||
         ec == errc::no_protocol_option || ec == errc::operation_not_supported ||
         ec == errc::operation_not_permitted;
}

// A request waiting for jwksUrl keys is handled again after this long even if it was not woken
// (a fetch ends within its own 5 s limit, but may queue behind others on the fetch pool), and
// answered 503 after kMaxWaits such waits.
constexpr auto kWaitLimit = std::chrono::seconds(10);
constexpr int kMaxWaits = 3;

// SPEC §1: the caller's X-Request-Id / Correlation-Id when it is a well-formed token of at most
// 64 characters, else a fresh UUID.
std::string CorrelationId(const bhttp::request<bhttp::string_body>& req) {
  for (auto field : {std::string_view("Correlation-Id"), std::string_view("X-Request-Id")}) {
    auto it = req.find(beast::string_view(field.data(), field.size()));
    if (it == req.end()) continue;
    std::string_view v(it->value().data(), it->value().size());
    if (v.empty() || v.size() > 64) continue;
    bool ok = true;
    for (char c : v) {
      // RFC 9110 §5.6.2 tchar: safe in a header and in the JSON error description.
      if (!(std::isalnum(static_cast<unsigned char>(c)) ||
            std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos)) {
        ok = false;
        break;
      }
    }
    if (ok) return std::string(v);
  }
  return NewUuid();
}

std::optional<std::string_view> Header(const bhttp::request<bhttp::string_body>& req,
                                       bhttp::field f) {
  auto it = req.find(f);
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

// Every line of the list header `name`, joined with ", " (RFC 9110 §5.3), into `out`.
std::string_view JoinedHeader(const bhttp::request<bhttp::string_body>& req, std::string_view name,
                              std::string& out) {
  out.clear();
  for (auto [it, end] = req.equal_range(beast::string_view(name.data(), name.size())); it != end;
       ++it) {
    if (!out.empty()) out += ", ";
    out.append(it->value().data(), it->value().size());
  }
  return out;
}

// The certificate a TLS client presented and the intermediates it sent, DER (RFC 8705); empty
// when it presented none. A resumed session remembers the certificate but not the intermediates.
std::vector<std::string> PeerCertificates(SSL* ssl) {
  constexpr int kMaxIntermediates = 8;  // oauth refuses more; the rest is not kept
  auto der = [](X509* x) {
    std::string out;
    const int n = i2d_X509(x, nullptr);
    if (n <= 0) return out;
    out.resize(static_cast<size_t>(n));
    auto* p = reinterpret_cast<unsigned char*>(out.data());
    if (i2d_X509(x, &p) != n) out.clear();
    return out;
  };
  std::vector<std::string> out;
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return out;
  out.push_back(der(leaf));
  if (out.back().empty()) return {};
  // On a server the peer's chain holds the intermediates only.
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  const int n = chain == nullptr ? 0 : std::min(sk_X509_num(chain), kMaxIntermediates + 1);
  for (int i = 0; i < n; ++i) {
    if (std::string d = der(sk_X509_value(chain, i)); !d.empty()) out.push_back(std::move(d));
  }
  return out;
}

// A connection's byte stream: plain TCP, or TLS over TCP. Beast's algorithms see one stream type
// either way; both kinds of operation return the same type for a given completion token. The
// lower-case names are the ones Asio's stream concepts require.
class SessionStream {
 public:
  // NOLINTNEXTLINE(readability-identifier-naming)
  using executor_type = beast::tcp_stream::executor_type;

  explicit SessionStream(tcp::socket s) : plain_(std::in_place, std::move(s)) {}
  SessionStream(tcp::socket s, std::shared_ptr<ssl::context> context)
      : context_(std::move(context)), tls_(std::in_place, std::move(s), *context_) {}

  // NOLINTNEXTLINE(readability-identifier-naming)
  executor_type get_executor() { return Tcp().get_executor(); }
  beast::tcp_stream& Tcp() { return tls_ ? tls_->next_layer() : *plain_; }
  tcp::socket& Socket() { return Tcp().socket(); }
  void ExpiresAfter(std::chrono::steady_clock::duration d) { Tcp().expires_after(d); }
  // The TLS stream; null for plain TCP.
  beast::ssl_stream<beast::tcp_stream>* Tls() { return tls_ ? &*tls_ : nullptr; }

  template <class Buffers, class Token>
  // NOLINTNEXTLINE(readability-identifier-naming)
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return plain_->async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  // NOLINTNEXTLINE(readability-identifier-naming)
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return plain_->async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  std::shared_ptr<ssl::context> context_;  // the TLS stream's, which must outlive it
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(ServerOptions options)
      : options_(std::move(options)),
        threads_(HttpServer::IoThreads(options_.threads)),
        max_connections_(std::max<size_t>(options_.max_connections, 1)),
        contexts_(MakeContexts(threads_)),
        ioc_(*contexts_.front()),
        plain_(ioc_, false),
        secure_(ioc_, true),
        signals_(ioc_, SIGINT, SIGTERM),
        reload_signal_(ioc_, SIGHUP) {}

  Result<uint16_t, std::string> Listen() {
    if (options_.tls) {
      auto tls = TlsServerContext::Load(options_.tls->files);
      if (!tls) return Fail(std::move(tls).error());
      tls_ = std::move(*tls);
      auto port = Bind(secure_, options_.tls->host, options_.tls->port);
      if (!port) return port;
      tls_port_ = *port;
    }
    return Bind(plain_, options_.host, options_.port);
  }

  uint16_t TlsPort() const { return tls_port_; }

  void Run(const Router& router) {
    router_ = &router;
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) BeginStop();
    });
    WaitForReload();
    asio::co_spawn(ioc_, Accept(plain_), asio::detached);
    if (tls_) asio::co_spawn(ioc_, Accept(secure_), asio::detached);
    // Every context runs until Finish() stops them all, with or without connections.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& c : contexts_) guards.push_back(asio::make_work_guard(*c));
    std::vector<std::thread> pool;
    for (int i = 1; i < threads_; ++i) {
      pool.emplace_back([this, i] { RunLoop(*contexts_[static_cast<size_t>(i)]); });
    }
    RunLoop(ioc_);
    for (auto& t : pool) t.join();
    guards.clear();
    blocking_pool_.join();
    fetch_pool_.join();
    // Stopped cleanly: a late SIGINT/SIGTERM stays pending instead of killing the exit.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

  void Stop() {
    asio::post(ioc_, [this] { BeginStop(); });
  }

  void RunInBackground(std::function<void()> job) { asio::post(fetch_pool_, std::move(job)); }

 private:
  // One listening socket, plain or TLS, with its acceptor's wait for room.
  struct Listener {
    Listener(asio::io_context& ioc, bool is_tls) : acceptor(ioc), tls(is_tls), room_timer(ioc) {}
    tcp::acceptor acceptor;
    const bool tls;
    asio::steady_timer room_timer;  // on ioc_: the acceptor's wait in MakeRoom()
  };

  static Result<uint16_t, std::string> Bind(Listener& listener, const std::string& host,
                                            uint16_t port) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return Fail("invalid listen address '" + host + "'");
    tcp::endpoint endpoint(address, port);
    tcp::acceptor& acceptor = listener.acceptor;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Fail("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    return acceptor.local_endpoint().port();
  }

  // SIGHUP: the TLS certificate and key are read again; new connections get them, open ones keep
  // theirs. A failed reload changes nothing.
  void WaitForReload() {
    reload_signal_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      if (!tls_) {
        log::Info("SIGHUP: no TLS certificate to reload (--tls-cert)");
      } else if (auto reloaded = tls_->Reload(); reloaded) {
        log::Info("SIGHUP: TLS certificate reloaded ({})", tls_->Subject());
      } else {
        log::Error("SIGHUP: TLS certificate not reloaded, the current one stays: {}",
                   reloaded.error());
      }
      WaitForReload();
    });
  }

  struct Connection {
    Connection(tcp::socket s, uint64_t n) : stream(std::move(s)), serial(n) {}
    Connection(tcp::socket s, std::shared_ptr<ssl::context> tls, uint64_t n)
        : stream(std::move(s), std::move(tls)), serial(n) {}
    SessionStream stream;
    const uint64_t serial;  // accept order: at the limit, the oldest idle connection goes first
    std::string remote_address;
    std::vector<std::string> client_certificates;  // PeerCertificates() of a TLS connection
    std::string head;  // the response head being written, kept for its capacity
    // The request being answered, for /metrics: its route and when its header was read.
    const Route* route = nullptr;
    std::chrono::steady_clock::time_point started;
    // Waiting for the next request. Written on the connection's thread only; the acceptor reads
    // it to choose a connection to close, and that thread checks it again before closing.
    std::atomic<bool> idle{true};
    bool closing = false;  // guarded by mu_: the acceptor asked the connection's thread to close it
  };

  // One io_context per I/O thread (a listener per core): a connection lives on one thread, so
  // its handlers need no strand, and threads never wake each other for I/O.
  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  // Connections are dealt to the I/O threads in turn, so each thread gets the same share of a
  // load's connections (SO_REUSEPORT would let the kernel's hash decide).
  asio::io_context& NextContext() { return *contexts_[next_context_++ % contexts_.size()]; }

  void StopAll() {
    for (auto& c : contexts_) c->stop();
  }

  static void RunLoop(asio::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log::Error("unexpected exception on an I/O thread: {}", e.what());
      }
    }
  }

  void BeginStop() {
    if (stopping_.exchange(true)) return;
    log::Info("stopping: no new connections; finishing in-flight requests");
    signals_.cancel();
    reload_signal_.cancel();
    boost::system::error_code ignored;
    for (Listener* l : {&plain_, &secure_}) {
      l->acceptor.close(ignored);
      l->room_timer.cancel();  // the acceptor may be waiting for room
    }
    {
      common::MutexLock lock(mu_);
      for (const auto& entry : connections_) {
        const std::shared_ptr<Connection>& c = entry.second;  // clang 14 cannot capture a binding
        asio::post(c->stream.get_executor(), [c] {
          boost::system::error_code close_error;
          if (c->idle) c->stream.Socket().close(close_error);
        });
      }
    }
    // Whatever is still running after the drain period is cut off.
    auto timer =
        std::make_shared<asio::steady_timer>(ioc_, std::chrono::seconds(options_.drain_seconds));
    timer->async_wait([this, timer](const boost::system::error_code&) { StopAll(); });
    drain_timer_ = timer;
    MaybeFinish();
  }

  // From any thread. The timer is touched on its own thread (ioc_'s) only, like drain_timer_.
  void MaybeFinish() {
    common::MutexLock lock(mu_);
    if (stopping_ && live_ == 0) {
      asio::post(ioc_, [this] {
        if (auto t = drain_timer_.lock()) t->cancel();
        StopAll();
      });
    }
  }

  // Accepts until stopped, keeping at most max_connections_ open. At the limit it asks the
  // oldest idle connection to close and waits for a connection to end before accepting again
  // (never accepting only to close). When accept(2) fails for want of resources it does the
  // same, waiting from kAcceptBackoffMin, doubled while it keeps failing, up to
  // kAcceptBackoffMax. Each shortage is logged when it begins and when it is over.
  asio::awaitable<void> Accept(Listener& listener) {
    auto backoff = kAcceptBackoffMin;
    for (;;) {
      if (stopping_) co_return;
      if (const size_t open = OpenConnections(); open >= max_connections_) {
        if (!shortage_.at_limit) {
          BeginShortage(open);
          shortage_.at_limit = true;
          log::Warn(
              "connection limit reached ({} open): closing the oldest idle connection for each "
              "new one; see --max-connections",
              open);
        }
        co_await MakeRoom(listener, kAcceptBackoffMax, /*close_idle=*/true);
        continue;
      }
      auto [ec, socket] =
          co_await listener.acceptor.async_accept(NextContext(), as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopping_) co_return;
        if (ec == asio::error::operation_aborted) co_return;
        if (OneConnectionFailed(ec)) {
          log::Info("accept failed for one connection: {}", ec.message());
          continue;
        }
        const bool out_of_resources = OutOfResources(ec);
        if (out_of_resources) {
          const size_t open = OpenConnections();
          ++shortage_.failed_accepts;
          if (!shortage_.out_of_resources) {
            BeginShortage(std::max<size_t>(open, 1));
            shortage_.out_of_resources = true;
            log::Warn(
                "accept failed: {} ({} connections open): closing idle connections and retrying "
                "in up to {} ms",
                ec.message(), open, kAcceptBackoffMax.count());
          }
        } else {
          log::Warn("accept failed: {}; retrying in {} ms", ec.message(), backoff.count());
        }
        co_await MakeRoom(listener, backoff, out_of_resources);
        backoff = std::min(backoff * 2, kAcceptBackoffMax);
        continue;
      }
      backoff = kAcceptBackoffMin;
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      boost::system::error_code peer_error;
      auto peer = socket.remote_endpoint(peer_error);
      auto conn = listener.tls ? std::make_shared<Connection>(std::move(socket), tls_->Current(),
                                                              next_serial_++)
                               : std::make_shared<Connection>(std::move(socket), next_serial_++);
      if (!peer_error) conn->remote_address = peer.address().to_string();
      size_t open = 0;
      {
        common::MutexLock lock(mu_);
        connections_.emplace(conn->serial, conn);
        open = ++live_;
      }
      MaybeEndShortage(open);
      auto executor = conn->stream.get_executor();
      asio::co_spawn(executor, Session(conn), [this, conn](const std::exception_ptr& e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log::Error("connection ended by an exception: {}", ex.what());
          }
        }
        bool wake = false;
        {
          common::MutexLock lock(mu_);
          connections_.erase(conn->serial);
          --live_;
          if (conn->closing) closing_one_ = false;
          wake = acceptors_waiting_ > 0;
        }
        if (wake) WakeAcceptor();
        MaybeFinish();
      });
    }
  }

  size_t OpenConnections() {
    common::MutexLock lock(mu_);
    return live_;
  }

  // Asks the thread of the oldest idle connection to close it (with `close_idle`, and unless
  // such a close is under way), then waits until a connection ends, that thread finds the
  // connection busy, Stop() is called, or `timeout` passes.
  asio::awaitable<void> MakeRoom(Listener& listener, std::chrono::milliseconds timeout,
                                 bool close_idle) {
    {
      common::MutexLock lock(mu_);
      ++acceptors_waiting_;
      if (close_idle && !closing_one_) {
        for (const auto& entry : connections_) {
          const std::shared_ptr<Connection>& c = entry.second;
          if (!c->idle.load(std::memory_order_relaxed)) continue;
          c->closing = closing_one_ = true;
          asio::post(c->stream.get_executor(), [this, c] { CloseIfIdle(*c); });
          break;
        }
      }
    }
    listener.room_timer.expires_after(timeout);
    co_await listener.room_timer.async_wait(as_tuple(asio::use_awaitable));
    common::MutexLock lock(mu_);
    --acceptors_waiting_;
  }

  // On the connection's thread. RFC 9112 §9.6: a server may close an idle connection at any
  // time; the client opens a new one.
  void CloseIfIdle(Connection& c) {
    if (c.idle.load(std::memory_order_relaxed)) {
      boost::system::error_code ignored;
      c.stream.Socket().close(ignored);  // the session ends, and its end wakes the acceptor
      closed_for_room_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    bool wake = false;
    {
      common::MutexLock lock(mu_);
      c.closing = closing_one_ = false;
      wake = acceptors_waiting_ > 0;
    }
    if (wake) WakeAcceptor();  // busy after all: the acceptor chooses again
  }

  // Ends the acceptors' waits in MakeRoom(). From any thread; a wake that finds no wait makes a
  // later wait end early, after which the acceptor only looks again.
  void WakeAcceptor() {
    asio::post(ioc_, [this] {
      plain_.room_timer.cancel();
      secure_.room_timer.cancel();
    });
  }

  // The acceptor's coroutine only.
  void BeginShortage(size_t open) {
    if (shortage_.began_with != 0) return;
    shortage_.began_with = open;
    shortage_.closed_before = closed_for_room_.load(std::memory_order_relaxed);
  }

  // The acceptor's coroutine only: a shortage is over once the open connections fall below
  // 90% of what they were when it began, so a count hovering at the limit logs nothing more.
  void MaybeEndShortage(size_t open) {
    if (shortage_.began_with == 0 || open * 10 >= shortage_.began_with * 9) return;
    log::Info(
        "connections below the limit again ({} open): {} idle connections were closed to make "
        "room and {} accepts failed meanwhile",
        open, closed_for_room_.load(std::memory_order_relaxed) - shortage_.closed_before,
        shortage_.failed_accepts);
    shortage_ = {};
  }

  // Serializes the response head into one buffer (status line, Content-Type, Correlation-Id,
  // the handler's headers, Connection, Content-Length) and writes it with the body in one call.
  // Same bytes as Beast's serializer after message::set/keep_alive/prepare_payload, without
  // building a Beast message (a field allocation per header) on every response.
  asio::awaitable<void> Write(Connection& conn, const Response& r, bool keep_alive,
                              const std::string& correlation_id, unsigned version) {
    std::string& head = conn.head;
    head.clear();
    head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    const auto status = static_cast<bhttp::status>(r.status);
    AppendDecimal(head, r.status);
    head += ' ';
    const auto reason = bhttp::obsolete_reason(status);
    head.append(reason.data(), reason.size());
    head += "\r\n";
    auto field = [&head](std::string_view name, std::string_view value) {
      head.append(name);
      head += ": ";
      head.append(value);
      head += "\r\n";
    };
    auto overridden = [&r](std::string_view name, size_t from) {  // Beast's set(): last wins
      for (size_t i = from; i < r.headers.size(); ++i) {
        if (beast::iequals(r.headers[i].first, name)) return true;
      }
      return false;
    };
    if (!r.content_type.empty() && !overridden("Content-Type", 0)) {
      field("Content-Type", r.content_type);
    }
    if (!overridden("Correlation-Id", 0)) field("Correlation-Id", correlation_id);
    for (size_t i = 0; i < r.headers.size(); ++i) {
      if (!overridden(r.headers[i].first, i + 1)) field(r.headers[i].first, r.headers[i].second);
    }
    // RFC 9112 §9.3: HTTP/1.1 is persistent unless "close"; HTTP/1.0 only with "keep-alive".
    const bool keep = keep_alive && !r.close;
    if (version >= 11 && !keep) field("Connection", "close");
    if (version < 11 && keep) field("Connection", "keep-alive");
    // RFC 9110 §8.6: no Content-Length on 1xx, 204 and 304 (Beast's prepare_payload).
    const bool no_body = bhttp::to_status_class(status) == bhttp::status_class::informational ||
                         status == bhttp::status::no_content ||
                         status == bhttp::status::not_modified;
    if (!no_body) {
      head += "Content-Length: ";
      AppendDecimal(head, static_cast<int64_t>(r.body.size()));
      head += "\r\n";
    }
    head += "\r\n";
    const std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head), asio::buffer(no_body ? std::string_view() : std::string_view(r.body))};
    // Counted before it is sent: a client that has the answer finds it in /metrics.
    router_->Record(conn.route != nullptr ? *conn.route : NoRoute(), r.status,
                    std::chrono::steady_clock::now() - conn.started);
    conn.stream.ExpiresAfter(kIoTimeout);
    co_await asio::async_write(conn.stream, buffers, as_tuple(asio::use_awaitable));
  }

  asio::awaitable<void> Session(std::shared_ptr<Connection> conn) {
    if (auto* tls = conn->stream.Tls()) {
      conn->stream.ExpiresAfter(kHandshakeTimeout);
      auto [ec] =
          co_await tls->async_handshake(ssl::stream_base::server, as_tuple(asio::use_awaitable));
      if (ec) {
        boost::system::error_code ignored;
        conn->stream.Socket().close(ignored);
        co_return;
      }
      conn->client_certificates = PeerCertificates(tls->native_handle());
    }
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(MaxBodyLimit());  // lowered once the route is known
      conn->idle.store(true, std::memory_order_relaxed);
      if (stopping_) break;
      conn->stream.ExpiresAfter(kIdleTimeout);
      auto [ec, n] = co_await bhttp::async_read_header(conn->stream, buffer, parser,
                                                       as_tuple(asio::use_awaitable));
      conn->idle.store(false, std::memory_order_relaxed);
      conn->started = std::chrono::steady_clock::now();
      conn->route = &NoRoute();
      // Closed to make room while the header arrived (CloseIfIdle): the request is not handled.
      if (!conn->stream.Socket().is_open()) break;
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          // Content-Length above the largest limit: refused before the body is read.
          std::string id = NewUuid();
          std::string_view t(parser.get().target().data(), parser.get().target().size());
          conn->route = MatchRoute(t.substr(0, t.find('?'))).route;
          co_await Write(*conn, router_->FramingError(413, t.substr(0, t.find('?')), id), false, id,
                         11);
        } else if (ec == bhttp::error::header_limit) {
          std::string id = NewUuid();
          co_await Write(*conn, router_->FramingError(431, "", id), false, id, 11);
        } else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                   ec != asio::error::operation_aborted && ec != asio::error::eof &&
                   ec != asio::error::connection_reset && ec != asio::error::bad_descriptor &&
                   buffer.size() > 0) {
          std::string id = NewUuid();
          co_await Write(*conn, router_->FramingError(400, "", id), false, id, 11);
        }
        break;
      }
      auto& header = parser.get();
      std::string_view target(header.target().data(), header.target().size());
      std::string_view path = target.substr(0, target.find('?'));
      const RouteMatch match = MatchRoute(path);
      conn->route = match.route;
      const size_t limit = match.route->body_limit;
      if (parser.content_length() && *parser.content_length() > limit) {
        std::string id = NewUuid();
        co_await Write(*conn, router_->FramingError(413, path, id), false, id, header.version());
        break;
      }
      parser.body_limit(limit);
      // SPEC §6: a /v1 request is refused from its header when its bearer token settles it,
      // before up to 1 MiB of body is read (and before any 100 Continue, RFC 9110 §10.1.1).
      if (match.route->header_first) {
        if (auto early = HandleHeader(header, path, target, *conn)) {
          // The connection stays open only if the body had already arrived with the header.
          const bool keep = parser.is_done() && header.keep_alive() && !stopping_;
          co_await Write(*conn, early->first, keep, early->second, header.version());
          if (!keep || early->first.close) break;
          continue;
        }
      }
      auto expect = header.find(bhttp::field::expect);
      if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
        conn->stream.ExpiresAfter(kIoTimeout);
        auto [wec, wn] =
            co_await bhttp::async_write(conn->stream, cont, as_tuple(asio::use_awaitable));
        if (wec) break;
      }
      if (!parser.is_done()) {
        conn->stream.ExpiresAfter(kIoTimeout);
        auto [bec, bn] =
            co_await bhttp::async_read(conn->stream, buffer, parser, as_tuple(asio::use_awaitable));
        if (bec) {
          if (bec == bhttp::error::body_limit) {
            std::string id = NewUuid();
            co_await Write(*conn, router_->FramingError(413, path, id), false, id,
                           header.version());
          }
          break;
        }
      }

      const auto& req = parser.get();
      Request request;
      request.method = std::string_view(req.method_string().data(), req.method_string().size());
      request.path = path;
      request.query =
          path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
      request.body = req.body();
      request.content_type = Header(req, bhttp::field::content_type);
      request.authorization = Header(req, bhttp::field::authorization);
      for (auto [it, end] = req.equal_range("DPoP"); it != end; ++it) {
        request.dpop.emplace_back(it->value().data(), it->value().size());
      }
      request.origin = Header(req, bhttp::field::origin);
      request.access_control_request_method =
          Header(req, bhttp::field::access_control_request_method);
      request.host = Header(req, bhttp::field::host).value_or("");
      request.correlation_id = CorrelationId(req);
      request.remote_address = conn->remote_address;
      std::string client_address;
      std::string client_cert, client_cert_chain;
      if (options_.proxy_client_certs && options_.trusted_proxies.Contains(conn->remote_address)) {
        // RFC 9440: the client's certificate as the TLS-terminating proxy saw it; the proxy's
        // own certificate is not the client's (docs/deploy.md).
        if (!JoinedHeader(req, "Client-Cert", client_cert).empty()) {
          request.proxy_client_cert = client_cert;
        }
        if (!JoinedHeader(req, "Client-Cert-Chain", client_cert_chain).empty()) {
          request.proxy_client_cert_chain = client_cert_chain;
        }
      } else {
        request.tls_client_certificates = conn->client_certificates;
      }
      if (!options_.trusted_proxies.empty()) {
        // Behind trusted proxies the client is named by their headers (docs/deploy.md).
        std::string forwarded, x_forwarded_for;
        client_address = options_.trusted_proxies.Resolve(
            conn->remote_address, JoinedHeader(req, "Forwarded", forwarded),
            JoinedHeader(req, "X-Forwarded-For", x_forwarded_for));
        request.remote_address = client_address;
      }

      Response response;
      if (match.route->runs == Runs::kBlockingPool) {
        // Store calls never run on an I/O thread: hop to the blocking pool and back.
        co_await asio::post(blocking_pool_, asio::use_awaitable);
        response = HandleSafely(request, match);
        co_await asio::post(conn->stream.get_executor(), asio::use_awaitable);
      } else {
        response = HandleSafely(request, match);
      }
      // Waiting for a client's jwksUrl keys holds no thread: the coroutine is suspended until the
      // fetch (on the fetch pool) wakes it, then the request resumes at client authentication.
      for (int waits = 0; response.pending; ++waits) {
        if (waits == kMaxWaits) {
          response = router_->WaitedTooLong(match, request);
          break;
        }
        co_await WaitFor(*response.pending);
        response =
            RunSafely([&] { return router_->Resume(match, response); }, request.correlation_id);
      }
      if (response.then_blocking) {
        // The rest blocks on the store (an authenticated revocation): the blocking pool.
        auto rest = std::move(response.then_blocking);
        co_await asio::post(blocking_pool_, asio::use_awaitable);
        response = RunSafely(rest, request.correlation_id);
        co_await asio::post(conn->stream.get_executor(), asio::use_awaitable);
      }
      const bool keep_alive = req.keep_alive() && !stopping_;
      co_await Write(*conn, response, keep_alive, request.correlation_id, req.version());
      if (!keep_alive || response.close) break;
    }
    boost::system::error_code ignored;
    conn->stream.Socket().shutdown(tcp::socket::shutdown_send, ignored);
    conn->stream.Socket().close(ignored);
  }

  // Router::HandleHeader() on a request without its body: the answer and its Correlation-Id.
  std::optional<std::pair<Response, std::string>> HandleHeader(
      const bhttp::request<bhttp::string_body>& header, std::string_view path,
      std::string_view target, const Connection& conn) const {
    Request request;
    request.method = std::string_view(header.method_string().data(), header.method_string().size());
    request.path = path;
    request.query =
        path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
    request.content_type = Header(header, bhttp::field::content_type);
    request.authorization = Header(header, bhttp::field::authorization);
    request.host = Header(header, bhttp::field::host).value_or("");
    request.remote_address = conn.remote_address;
    std::optional<Response> response;
    try {
      response = router_->HandleHeader(request);
    } catch (const std::exception& e) {
      log::Error("header handler failed: {}", e.what());
      response = WriteInternalError();
    }
    if (!response) return std::nullopt;
    return std::pair(std::move(*response), CorrelationId(header));
  }

  // Suspends the calling session, holding no thread, until `pending` wakes it or kWaitLimit
  // has passed. Runs on the connection's executor and resumes there.
  static asio::awaitable<void> WaitFor(const oauth::Pending& pending) {
    struct Wake {
      explicit Wake(const asio::any_io_executor& executor) : timer(executor, kWaitLimit) {}
      asio::steady_timer timer;
    };
    // Shared with the callback, which may run after this session is gone (the connection
    // closed, or the server stopped): it only posts to the connection's io_context, which
    // outlives every fetch (Run() joins the fetch pool before the contexts are destroyed).
    auto wake = std::make_shared<Wake>(co_await asio::this_coro::executor);
    pending.Then(
        [wake] { asio::post(wake->timer.get_executor(), [wake] { wake->timer.cancel(); }); });
    // The cancel is posted to this thread, so it cannot run before the wait below is registered.
    co_await wake->timer.async_wait(as_tuple(asio::use_awaitable));
  }

  Response HandleSafely(const Request& request, const RouteMatch& match) const {
    return RunSafely([&] { return router_->Handle(request, match); }, request.correlation_id);
  }

  template <class F>
  static Response RunSafely(const F& handle, const std::string& correlation_id) {
    try {
      return handle();
    } catch (const std::exception& e) {
      log::Error("handler failed: {} (correlation {})", e.what(), correlation_id);
      return WriteInternalError();
    }
  }

  static Response WriteInternalError() { return WriteApiError(mgmt::Unexpected({})); }

  ServerOptions options_;
  const Router* router_ = nullptr;
  int threads_;
  size_t max_connections_;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;  // one per I/O thread
  asio::io_context& ioc_;    // contexts_[0]: the acceptor, signals and the drain timer
  size_t next_context_ = 0;  // touched by the acceptor's coroutine only
  Listener plain_;
  Listener secure_;  // bound only with TLS
  std::unique_ptr<TlsServerContext> tls_;
  uint16_t tls_port_ = 0;
  asio::signal_set signals_;
  asio::signal_set reload_signal_;
  asio::thread_pool blocking_pool_{2};
  asio::thread_pool fetch_pool_{4};
  std::atomic<bool> stopping_{false};
  common::Mutex mu_;
  // By serial: oldest first.
  std::map<uint64_t, std::shared_ptr<Connection>> connections_ GUARDED_BY(mu_);
  size_t live_ GUARDED_BY(mu_) = 0;
  bool closing_one_ GUARDED_BY(mu_) = false;   // a close for room is under way
  int acceptors_waiting_ GUARDED_BY(mu_) = 0;  // acceptors waiting in MakeRoom()
  uint64_t next_serial_ = 0;                   // the acceptor's coroutine only
  std::atomic<uint64_t> closed_for_room_{0};
  // The current shortage (connection limit or accept failures), the acceptor's coroutine only.
  struct Shortage {
    size_t began_with = 0;          // connections open when it began; 0: none
    bool at_limit = false;          // logged that the limit was reached
    bool out_of_resources = false;  // logged that accept(2) failed for want of resources
    uint64_t closed_before = 0;     // closed_for_room_ when it began
    uint64_t failed_accepts = 0;
  } shortage_;
  std::weak_ptr<asio::steady_timer> drain_timer_;  // on ioc_'s thread only
};

int HttpServer::IoThreads(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpServer::~HttpServer() = default;
Result<uint16_t, std::string> HttpServer::Listen() { return impl_->Listen(); }
uint16_t HttpServer::TlsPort() const { return impl_->TlsPort(); }
void HttpServer::Run(const Router& router) { impl_->Run(router); }
void HttpServer::Stop() { impl_->Stop(); }
void HttpServer::RunInBackground(std::function<void()> job) {
  impl_->RunInBackground(std::move(job));
}

}  // namespace tollgate::http
