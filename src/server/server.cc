#include "server/server.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <iostream>

#include "common/clock.h"
#include "common/log.h"
#include "config/change_feed.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "http/router.h"
#include "http/server.h"
#include "mgmt/api.h"
#include "oauth/introspection.h"
#include "oauth/token_endpoint.h"
#include "server/bootstrap.h"
#include "server/master_key.h"
#include "storage/store.h"

namespace tollgate::server {
namespace {

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
Result<std::unique_ptr<storage::Store>, std::string> OpenWithKey(const Options& options,
                                                                 bool create_key) {
  std::string key_file =
      options.master_key_file.empty() ? DefaultKeyFile(options.store_uri) : options.master_key_file;
  auto key = LoadMasterKey(options.master_key, key_file, create_key);
  if (!key) return Fail(std::move(key).error());
  auto codec = MakeSecretCodec(*key);
  if (!codec) return Fail(std::string("the master key is unusable"));
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
  // A SQLite store that does not exist yet is not created by serve: only init creates stores.
  if (options.store_uri.rfind("sqlite:", 0) == 0 && options.store_uri != "sqlite::memory:" &&
      ::access(options.store_uri.substr(7).c_str(), F_OK) != 0) {
    PrintError("the store " + options.store_uri + " is not initialized; run 'tollgate init' first");
    return 1;
  }
  auto store = OpenWithKey(options, /*create_key=*/false);
  if (!store) {
    PrintError(store.error());
    return 1;
  }

  http::ServerOptions http_options;
  http_options.host = listen.host;
  http_options.port = listen.port;
  http_options.threads = options.threads;
  http::HttpServer server(http_options);
  auto port = server.Listen();
  if (!port) {
    PrintError(port.error());
    return 1;
  }
  // With port 0 the default public base needs the real port, so it is settled after binding.
  std::string host =
      listen.host.find(':') != std::string::npos ? "[" + listen.host + "]" : listen.host;
  config::Urls urls;
  urls.auth_url = TrimSlash(
      options.auth_url.empty() ? "http://" + host + ":" + std::to_string(*port) : options.auth_url);
  urls.api_url = TrimSlash(options.api_url.empty() ? urls.auth_url : options.api_url);

  config::ConfigHolder config(**store, urls);
  SystemClock clock;
  config::JtiCache revoked(**store, storage::JtiKind::kRevokedToken, clock);
  // Several nodes on one database: listen before loading, so no change is missed in between.
  config::ChangeFeed feed(**store, config, {&revoked});
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
  oauth::FailureThrottle throttle(clock);
  oauth::TokenEndpoint endpoint(clock, urls.api_url, throttle);
  oauth::Introspection introspection(clock, throttle, revoked);
  oauth::Revocation revocation(clock, throttle, revoked);
  http::Services services;
  services.config = &config;
  services.token_endpoint = &endpoint;
  services.introspection = &introspection;
  services.revocation = &revocation;
  services.clock = &clock;
  mgmt::ManagementApi management(**store, config, clock, &revoked, *shared ? &feed : nullptr);
  services.management = &management;
  if (*shared) feed.Start();
  // Token issuance goes on from the snapshot while the database is away; readiness says so.
  services.ready = [&feed] { return feed.StoreReachable(); };
  http::Router router(std::move(services));

  log::Info("tollgate listening on http://{}:{} (auth-url {}, api-url {})", host, *port,
            urls.auth_url, urls.api_url);
  server.Run(router);
  feed.Stop();
  log::Info("tollgate stopped");
  return 0;
}

}  // namespace tollgate::server
