#include "server/server.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <thread>

#include "audit/activity_log.h"
#include "common/clock.h"
#include "common/log.h"
#include "config/jti_cache.h"
#include "config/store/change_feed.h"
#include "config/store/holder.h"
#include "config/store/store_jtis.h"
#include "crypto/keys.h"
#include "http/router.h"
#include "http/server.h"
#include "http/url_fetcher.h"
#include "mgmt/api.h"
#include "mgmt/key_rotation.h"
#include "oauth/auth_activities.h"
#include "oauth/client_auth/remote_jwks.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"
#include "server/bootstrap.h"
#include "server/fd_limit.h"
#include "server/master_key.h"
#include "storage/store.h"

namespace tollgate::server {
namespace {

// Background upkeep while serving: writes the used assertion jtis that the token path queued
// (every 50 ms, so a crash loses at most that much; a graceful stop loses nothing) and forgets
// expired jtis once a minute. Stops, after a last write, when destroyed.
class Maintenance {
 public:
  Maintenance(config::JtiCache& used_assertions, config::JtiCache& revoked)
      : used_(used_assertions),
        revoked_(revoked),
        thread_([this](const std::stop_token& stop) { Loop(stop); }) {}
  ~Maintenance() {
    thread_.request_stop();
    thread_.join();
    Flush();
  }

 private:
  void Loop(const std::stop_token& stop) {
    // Guards nothing (so not a common::Mutex): the wait for the stop token needs a lock.
    std::mutex mu;
    std::condition_variable_any wake;
    auto next_purge = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    std::unique_lock lock(mu);
    while (!stop.stop_requested()) {
      wake.wait_for(lock, stop, std::chrono::milliseconds(50), [] { return false; });
      Flush();
      if (std::chrono::steady_clock::now() >= next_purge) {
        next_purge += std::chrono::minutes(1);
        for (config::JtiCache* cache : {&used_, &revoked_}) {
          if (auto purged = cache->Purge(); !purged) {
            log::Warn("cannot purge expired jtis: {}", purged.error().message);
          }
        }
      }
    }
  }

  void Flush() {
    auto flushed = used_.FlushPending();
    if (flushed.ok() != flush_ok_) {  // log the changes, not every failed retry
      flush_ok_ = flushed.ok();
      if (!flushed) {
        log::Warn("cannot store used client assertions ({} queued): {}", used_.PendingCount(),
                  flushed.error().message);
      } else {
        log::Info("storing used client assertions again");
      }
    }
  }

  config::JtiCache& used_;
  config::JtiCache& revoked_;
  bool flush_ok_ = true;
  std::jthread thread_;
};

// The slow upkeep, on its own thread: the key rotation policies once a minute and `hourly` (the
// audit purge) once an hour. A rotation step may generate a key (seconds for RSA-4096) and a purge
// may delete many rows, which must not delay Maintenance's 50 ms writes. Stops when destroyed.
class SlowUpkeep {
 public:
  SlowUpkeep(mgmt::KeyRotator& rotator, std::function<void()> hourly)
      : rotator_(rotator),
        hourly_(std::move(hourly)),
        thread_([this](const std::stop_token& stop) { Loop(stop); }) {}
  ~SlowUpkeep() {
    thread_.request_stop();
    thread_.join();
  }

 private:
  void Loop(const std::stop_token& stop) {
    std::mutex mu;  // guards nothing: the wait for the stop token needs a lock
    std::condition_variable_any wake;
    std::unique_lock lock(mu);
    auto next_hourly = std::chrono::steady_clock::now() + std::chrono::hours(1);
    while (!wake.wait_for(lock, stop, std::chrono::minutes(1), [] { return false; }) &&
           !stop.stop_requested()) {
      rotator_.RunOnce();
      if (std::chrono::steady_clock::now() >= next_hourly) {
        next_hourly += std::chrono::hours(1);
        hourly_();
      }
    }
  }

  mgmt::KeyRotator& rotator_;
  std::function<void()> hourly_;
  std::jthread thread_;
};

// Audit activities go to the store in batches (audit/activity_log.h).
class StoreActivities final : public audit::ActivityStore {
 public:
  explicit StoreActivities(storage::Store& store) : store_(store) {}
  Result<void, Error> Append(const std::vector<model::Activity>& batch) override {
    auto appended = store_.AppendActivities(batch);
    if (!appended) {
      const bool away = appended.error().code == storage::StoreErrorCode::kUnavailable;
      return Fail(Error{away ? Refusal::kUnavailable : Refusal::kRejected,
                        std::move(appended).error().message});
    }
    return {};
  }

 private:
  storage::Store& store_;
};

// Forgets audit activities older than the retention, at start and then hourly (SlowUpkeep).
void PurgeActivities(storage::Store& store, const Clock& clock, size_t retention_days) {
  auto purged = store.PurgeActivities(clock.Now() - std::chrono::hours(24 * retention_days));
  if (!purged) {
    log::Warn("audit: cannot purge activities: {}", purged.error().message);
  } else if (*purged > 0) {
    log::Info("audit: purged {} activities older than {} days", *purged, retention_days);
  }
}

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

bool ParseListen(const std::string& text, HostPort& out) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  out.host = text.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  unsigned long p = std::stoul(port);
  if (p > 65535) return false;
  out.port = static_cast<uint16_t>(p);
  return true;
}

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void PrintError(const std::string& line) { std::cerr << "tollgate: " << line << std::endl; }

// Opens the store with the master key. `create_key`: init may create the key file.
// `dpop_nonce_key`, when not null, receives a key derived from the master key for DPoP nonces
// (the same on every node of a deployment).
Result<std::unique_ptr<storage::Store>, std::string> OpenWithKey(
    const Options& options, bool create_key, std::string* dpop_nonce_key = nullptr) {
  std::string key_file =
      options.master_key_file.empty() ? DefaultKeyFile(options.store_uri) : options.master_key_file;
  auto key = LoadMasterKey(options.master_key, key_file, create_key);
  if (!key) return Fail(std::move(key).error());
  auto codec = MakeSecretCodec(*key);
  if (!codec) return Fail(std::string("the master key is unusable"));
  if (dpop_nonce_key != nullptr)
    *dpop_nonce_key = crypto::Hmac(256, *key, "tollgate dpop nonce v1");
  auto store = storage::OpenStore(options.store_uri, codec);
  if (!store) {
    const auto& e = store.error();
    // A PostgreSQL URI may carry a password: messages show it redacted.
    const std::string uri = storage::RedactStoreUri(options.store_uri);
    switch (e.code) {
      case storage::StoreErrorCode::kWrongMasterKey:
        return Fail("the store " + uri +
                    " was initialized with another master key; refusing to start");
      case storage::StoreErrorCode::kSchemaTooNew:
        return Fail("the store " + uri +
                    " was written by a newer Tollgate (schema too new); refusing to start");
      default:
        return Fail("cannot open store " + uri + ": " + e.message);
    }
  }
  return std::move(store).value();
}

}  // namespace

int Init(const Options& options) {
  std::string auth_url =
      TrimSlash(options.auth_url.empty() ? "http://" + options.listen : options.auth_url);
  std::string api_url = TrimSlash(options.api_url.empty() ? auth_url : options.api_url);
  auto store = OpenWithKey(options, /*create_key=*/true);
  if (!store) {
    PrintError(store.error());
    return 1;
  }
  SystemClock clock;
  auto result = InitializeDeployment(**store, api_url, clock);
  if (!result) {
    PrintError(result.error());
    return 1;
  }
  boost::json::object o;
  o["organizationId"] = result->organization_id;
  o["environmentId"] = result->environment_id;
  o["clientId"] = result->client_id;
  o["clientSecret"] = result->client_secret;
  o["tokenEndpoint"] = auth_url + "/" + result->environment_id + "/as/token";
  o["apiUrl"] = api_url;
  std::cout << boost::json::serialize(o) << std::endl;
  return 0;
}

int Serve(const Options& options) {
  HostPort listen;
  if (!ParseListen(options.listen, listen)) {
    PrintError("--listen must be HOST:PORT, got '" + options.listen + "'");
    return 2;
  }
  HostPort tls_listen;
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    PrintError("--tls-cert and --tls-key go together");
    return 2;
  }
  if (tls && !ParseListen(options.tls_listen, tls_listen)) {
    PrintError("--tls-listen must be HOST:PORT, got '" + options.tls_listen + "'");
    return 2;
  }
  auto proxies = http::TrustedProxies::Parse(options.trusted_proxies);
  if (!proxies) {
    PrintError(proxies.error());
    return 2;
  }
  if (options.proxy_client_certs && proxies->empty()) {
    PrintError("--proxy-client-certs needs --trusted-proxies: the proxies whose headers count");
    return 2;
  }
  const auto token_activities = oauth::ParseAuthActivityLevel(options.token_activities);
  if (!token_activities) {
    PrintError("--token-activities must be all, failures or none, got '" +
               options.token_activities + "'");
    return 2;
  }
  // A SQLite store that does not exist yet is not created by serve: only init creates stores.
  if (options.store_uri.rfind("sqlite:", 0) == 0 && options.store_uri != "sqlite::memory:" &&
      ::access(options.store_uri.substr(7).c_str(), F_OK) != 0) {
    PrintError("the store " + options.store_uri + " is not initialized; run 'tollgate init' first");
    return 1;
  }
  // Every connection takes a descriptor: connections may use the limit less a reserve, so the
  // store, outbound fetches, the log and /healthz keep working when clients take the rest.
  // Logged once serving, so that a refusal to start stays one line.
  const int io_threads = http::HttpServer::IoThreads(static_cast<int>(options.threads));
  auto fds = RaiseFdLimit();
  size_t max_connections = options.max_connections;
  if (!fds) {
    if (max_connections == 0) max_connections = http::ServerOptions().max_connections;
  } else if (max_connections == 0) {
    max_connections = DefaultMaxConnections(fds->soft, io_threads);
  } else if (max_connections > fds->soft) {
    PrintError("--max-connections " + std::to_string(max_connections) +
               " is more than the file-descriptor limit allows (" + std::to_string(fds->soft) +
               ", the hard limit); raise it (systemd: LimitNOFILE=) or lower --max-connections");
    return 2;
  }

  std::string dpop_nonce_key;
  auto store = OpenWithKey(options, /*create_key=*/false, &dpop_nonce_key);
  if (!store) {
    PrintError(store.error());
    return 1;
  }

  http::ServerOptions http_options;
  http_options.host = listen.host;
  http_options.port = listen.port;
  http_options.threads = io_threads;
  http_options.max_connections = max_connections;
  http_options.trusted_proxies = std::move(*proxies);
  http_options.proxy_client_certs = options.proxy_client_certs;
  if (tls) {
    http_options.tls = http::TlsListenerOptions{
        .host = tls_listen.host,
        .port = tls_listen.port,
        .files = {.cert_file = options.tls_cert, .key_file = options.tls_key}};
  }
  http::HttpServer server(http_options);
  auto port = server.Listen();
  if (!port) {
    PrintError(port.error());
    return 1;
  }
  // With port 0 the default public base needs the real port, so it is settled after binding.
  auto bracketed = [](const std::string& h) {
    return h.find(':') != std::string::npos ? "[" + h + "]" : h;
  };
  const std::string plain_url = "http://" + bracketed(listen.host) + ":" + std::to_string(*port);
  const std::string tls_url =
      tls ? "https://" + bracketed(tls_listen.host) + ":" + std::to_string(server.TlsPort()) : "";
  config::Urls urls;
  urls.auth_url = TrimSlash(!options.auth_url.empty() ? options.auth_url
                            : tls                     ? tls_url
                                                      : plain_url);
  urls.api_url = TrimSlash(options.api_url.empty() ? urls.auth_url : options.api_url);
  urls.mtls_url = TrimSlash(options.mtls_url);

  config::ConfigHolder config(**store, urls);
  SystemClock clock;
  config::StoreJtis jtis(**store);
  config::JtiCache revoked(jtis, model::JtiKind::kRevokedToken, clock, options.max_revoked_tokens);
  // SPEC §2.2 rule 6: assertion jtis already used, remembered across restarts.
  config::JtiCache used_assertions(jtis, model::JtiKind::kUsedAssertion, clock,
                                   options.max_used_assertions);
  // Several nodes on one database: listen before loading, so no change is missed in between.
  config::ChangeFeed feed(**store, config, {&revoked, &used_assertions});
  auto shared = feed.Open();
  if (!shared) {
    PrintError("cannot follow changes of the store " + storage::RedactStoreUri(options.store_uri) +
               ": " + shared.error().message);
    return 1;
  }
  if (auto loaded = config.LoadAll(); !loaded) {
    PrintError("cannot load the configuration: " + loaded.error().message);
    return 1;
  }
  if (!config.Current()->organization) {
    PrintError("the store " + storage::RedactStoreUri(options.store_uri) +
               " is not initialized; run 'tollgate init' first");
    return 1;
  }

  if (auto loaded = revoked.Load(); !loaded) {
    PrintError("cannot load revoked tokens: " + loaded.error().message);
    return 1;
  }
  if (auto purged = revoked.Purge(); !purged) {
    log::Warn("cannot purge expired revocations: {}", purged.error().message);
  }
  if (auto loaded = used_assertions.Load(); !loaded) {
    PrintError("cannot load used client assertions: " + loaded.error().message);
    return 1;
  }
  oauth::FailureThrottle throttle(clock);
  // Decision 0005: by default a jwksUrl never reaches loopback, private or metadata addresses.
  http::UrlFetcher fetcher({}, options.allow_private_fetch ? http::FetchAddresses::kAny
                                                           : http::FetchAddresses::kPublicOnly);
  // Fetches run on the server's fetch pool; requests waiting for them hold no thread.
  oauth::RemoteJwks remote_jwks(
      [&fetcher](const std::string& url) { return fetcher.Get(url); },
      [&server](std::function<void()> job) { server.RunInBackground(std::move(job)); }, clock);
  StoreActivities activity_store(**store);
  audit::ActivityLog activities(activity_store, options.max_queued_activities);
  oauth::AuthActivities auth_activities(activities, clock, *token_activities);
  const oauth::ClientAuthServices auth{.clock = clock,
                                       .throttle = throttle,
                                       .used_assertions = &used_assertions,
                                       .remote_jwks = &remote_jwks,
                                       .activities = &auth_activities};
  const oauth::DpopProofs dpop(clock, options.max_dpop_proofs, std::move(dpop_nonce_key));
  oauth::TokenEndpoint endpoint(auth, urls.api_url, &revoked, &dpop);
  oauth::Introspection introspection(auth, revoked);
  oauth::Revocation revocation(auth, revoked);
  http::Services services{.config = config, .token_endpoint = endpoint, .clock = clock};
  services.introspection = &introspection;
  services.revocation = &revocation;
  services.remote_jwks = &remote_jwks;
  services.metrics_top_clients = options.metrics_top_clients;
  services.activities = &activities;
  services.auth_activities = &auth_activities;
  mgmt::ManagementApi management(**store, config, clock, &revoked, *shared ? &feed : nullptr,
                                 &activities);
  services.management = &management;
  if (*shared) {
    feed.Start();
    services.change_feed = &feed;
  }
  // Token issuance goes on from the snapshot while the database is away; readiness says so.
  services.ready = [&feed] { return feed.StoreReachable(); };
  http::Router router(std::move(services));

  if (!fds) {
    log::Warn("cannot raise the file-descriptor limit: {}; at most {} connections", fds.error(),
              max_connections);
  } else {
    log::Info("file descriptors: limit {} (started with {}, hard limit {}); at most {} connections",
              fds->soft, fds->initial_soft, fds->hard, max_connections);
    if (const uint64_t reserve = FdReserve(io_threads); max_connections + reserve > fds->soft) {
      if (options.max_connections != 0) {
        log::Warn(
            "--max-connections {} leaves fewer than {} of the {} file descriptors for the store, "
            "fetches and the log; accepting backs off when they run out",
            max_connections, reserve, fds->soft);
      } else {
        log::Warn("the file-descriptor limit {} is low: raise it (systemd: LimitNOFILE=)",
                  fds->soft);
      }
    }
  }
  // Before serving: once the server says it listens (and answers), the first pass of the key
  // rotation policies is done.
  mgmt::KeyRotator rotator(**store, config, clock);
  rotator.RunOnce();
  PurgeActivities(**store, clock, options.activity_retention_days);
  log::Info("tollgate listening on {}{}{} (auth-url {}, api-url {})", plain_url, tls ? " and " : "",
            tls_url, urls.auth_url, urls.api_url);
  {
    Maintenance maintenance(used_assertions, revoked);
    SlowUpkeep slow(rotator,
                    [&] { PurgeActivities(**store, clock, options.activity_retention_days); });
    server.Run(router);
  }  // the last used assertions are written before the process exits
  feed.Stop();
  log::FlushRepeats();
  log::Info("tollgate stopped");
  return 0;
}

}  // namespace tollgate::server
