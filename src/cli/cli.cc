#include "cli/cli.h"

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "server/server.h"

namespace tollgate::cli {
namespace {

constexpr std::string_view kUsage = R"(Usage: tollgate <command> [options]

Commands:
  init     Create the store, the organization, the Administrators environment and a WORKER
           application with the Organization Admin role; print them as one JSON object.
           Exits non-zero, changing nothing, on an initialized store.
  serve    Serve the auth, management and operations surfaces until SIGINT/SIGTERM.

Options (each also read from the environment variable in brackets; the option wins):
  --store URI              where the configuration lives [TOLLGATE_STORE]:
                             sqlite:PATH   one file, one node (default sqlite:tollgate.db)
                             postgresql://USER:PASSWORD@HOST:PORT/DATABASE?PARAMS
                                           a PostgreSQL 13+ database (libpq URI; it must
                                           exist) that several nodes share: writes on one
                                           node reach every node's token endpoint within a
                                           second. Give every node the same master key.
  --listen HOST:PORT       serve: address to listen on (default 127.0.0.1:8080; port 0 picks
                           a free port) [TOLLGATE_LISTEN]
  --tls-cert FILE          serve: PEM certificate (then any intermediates) for an HTTPS
                           listener beside the plain one; with --tls-key [TOLLGATE_TLS_CERT]
  --tls-key FILE           serve: its PEM private key, unencrypted [TOLLGATE_TLS_KEY]
  --tls-listen HOST:PORT   serve: the HTTPS listener's address (default 127.0.0.1:8443; port 0
                           picks a free port); SIGHUP reads the two files again
                           [TOLLGATE_TLS_LISTEN]
  --threads N              serve: I/O threads (default: one per core) [TOLLGATE_THREADS]
  --max-connections N      serve: client connections open at once; at the limit the oldest
                           idle keep-alive connection is closed for each new one (default:
                           the file-descriptor limit, which serve raises to the hard limit,
                           minus 64 and 3 per I/O thread kept for the store, fetches and the
                           log; at least 16; at most the file-descriptor limit)
                           [TOLLGATE_MAX_CONNECTIONS]
  --auth-url URL           public base of the auth surface (default https://<tls-listen
                           address> with --tls-cert, else http://<listen address>)
                           [TOLLGATE_AUTH_URL]
  --api-url URL            public base of the management API, also the audience of its tokens
                           (default: the auth-url) [TOLLGATE_API_URL]
  --mtls-url URL           serve: public base where clients present TLS certificates (RFC 8705
                           mtls_endpoint_aliases in discovery), when it is not the auth-url,
                           such as a proxy's mTLS host (default: none) [TOLLGATE_MTLS_URL]
  --max-used-assertions N  serve: used client-assertion jtis remembered per environment
                           (default 1000000, about 200 bytes each); beyond, that environment's
                           JWT clients get 503 until older assertions expire
                           [TOLLGATE_MAX_USED_ASSERTIONS]
  --max-revoked-tokens N   serve: revoked access-token jtis remembered per environment
                           (default 100000); beyond, that environment's revocations get 503
                           until revoked tokens expire [TOLLGATE_MAX_REVOKED_TOKENS]
  --max-dpop-proofs N      serve: accepted DPoP proof jtis this node remembers per environment
                           (default 500000, about 64 bytes each, kept 60 s after the proof's
                           iat); beyond, that environment's DPoP token requests get 503 until
                           older proofs expire [TOLLGATE_MAX_DPOP_PROOFS]
  --metrics-top-clients N  serve: /metrics counts tokens one by one for the N clients with the
                           most (default 10, at most 1000); the others of an environment are
                           summed as client_id="other" [TOLLGATE_METRICS_TOP_CLIENTS]
  --activity-retention-days N
                           serve: audit activities are kept N days (default 30, at most 3650)
                           [TOLLGATE_ACTIVITY_RETENTION_DAYS]
  --max-queued-activities N
                           serve: audit activities waiting to be stored, at most (default
                           100000, at most 1000000; about 1 KiB each); beyond, they are dropped
                           and counted
                           [TOLLGATE_MAX_QUEUED_ACTIVITIES]
  --token-activities LEVEL serve: which answers of the token, introspection and revocation
                           endpoints become audit activities: all (default), failures or none
                           [TOLLGATE_TOKEN_ACTIVITIES]
  --trusted-proxies CIDRS  serve: comma-separated networks of reverse proxies (such as
                           10.0.0.0/8,fd00::/8) whose Forwarded / X-Forwarded-For headers name
                           the client for brute-force throttling (the rightmost hop that is not
                           a trusted proxy); default none: the TCP peer is the client
                           [TOLLGATE_TRUSTED_PROXIES]
  --proxy-client-certs     serve: take the client's TLS certificate from the Client-Cert /
                           Client-Cert-Chain headers (RFC 9440) of --trusted-proxies peers, and
                           never from their own connections; only behind proxies that ask for
                           client certificates and replace these headers (default off)
                           [TOLLGATE_PROXY_CLIENT_CERTS=1]
  --master-key-file PATH   file holding the base64 master key that encrypts secrets at rest;
                           created by init with mode 0600 (default: <sqlite path>.key;
                           a PostgreSQL store needs this or TOLLGATE_MASTER_KEY)
                           [TOLLGATE_MASTER_KEY_FILE]
  The master key itself may be given as base64 of 32 bytes in TOLLGATE_MASTER_KEY.
  --allow-private-fetch    serve: let PRIVATE_KEY_JWT jwksUrl fetches connect to loopback,
                           private (RFC 1918, ULA), link-local (cloud metadata), CGNAT,
                           multicast and unspecified addresses, which are refused by default;
                           only for key servers on an internal network
                           [TOLLGATE_ALLOW_PRIVATE_FETCH=1]
  --help                   print this text
)";

struct OptionSpec {
  std::string_view flag;
  std::string_view env;
  std::string server::Options::*member;
};

// An option without a value, off by default; its variable takes 1, true, 0 or false.
struct SwitchSpec {
  std::string_view flag;
  const char* env;
  bool server::Options::*member;
};

// A whole number from `min` to `max`.
struct NumberSpec {
  std::string_view flag;
  std::string_view env;
  size_t server::Options::*member;
  size_t min;
  size_t max;
};

// Parses `text` for `spec`, or explains in one line what is wrong.
Result<size_t, std::string> ParseNumber(const NumberSpec& spec, std::string_view text) {
  size_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < spec.min || value > spec.max) {
    return Fail(std::string(spec.flag) + " must be a number from " + std::to_string(spec.min) +
                " to " + std::to_string(spec.max));
  }
  return value;
}

int Usage(std::string_view error) {
  std::cerr << "tollgate: " << error << " (see 'tollgate --help')" << std::endl;
  return 2;
}

}  // namespace

int Main(int argc, char** argv) {
  static const OptionSpec kSpecs[] = {
      {"--store", "TOLLGATE_STORE", &server::Options::store_uri},
      {"--tls-cert", "TOLLGATE_TLS_CERT", &server::Options::tls_cert},
      {"--tls-key", "TOLLGATE_TLS_KEY", &server::Options::tls_key},
      {"--tls-listen", "TOLLGATE_TLS_LISTEN", &server::Options::tls_listen},
      {"--listen", "TOLLGATE_LISTEN", &server::Options::listen},
      {"--auth-url", "TOLLGATE_AUTH_URL", &server::Options::auth_url},
      {"--api-url", "TOLLGATE_API_URL", &server::Options::api_url},
      {"--mtls-url", "TOLLGATE_MTLS_URL", &server::Options::mtls_url},
      {"--master-key-file", "TOLLGATE_MASTER_KEY_FILE", &server::Options::master_key_file},
      {"--trusted-proxies", "TOLLGATE_TRUSTED_PROXIES", &server::Options::trusted_proxies},
      {"--token-activities", "TOLLGATE_TOKEN_ACTIVITIES", &server::Options::token_activities},
  };
  static const SwitchSpec kSwitches[] = {
      {"--allow-private-fetch", "TOLLGATE_ALLOW_PRIVATE_FETCH",
       &server::Options::allow_private_fetch},
      {"--proxy-client-certs", "TOLLGATE_PROXY_CLIENT_CERTS", &server::Options::proxy_client_certs},
  };
  static const NumberSpec kNumbers[] = {
      {"--threads", "TOLLGATE_THREADS", &server::Options::threads, 1, 256},
      {"--max-connections", "TOLLGATE_MAX_CONNECTIONS", &server::Options::max_connections, 1,
       99'999'999},
      {"--max-used-assertions", "TOLLGATE_MAX_USED_ASSERTIONS",
       &server::Options::max_used_assertions, 1, 100'000'000},
      {"--max-revoked-tokens", "TOLLGATE_MAX_REVOKED_TOKENS", &server::Options::max_revoked_tokens,
       1, 100'000'000},
      {"--max-dpop-proofs", "TOLLGATE_MAX_DPOP_PROOFS", &server::Options::max_dpop_proofs, 1,
       100'000'000},
      {"--metrics-top-clients", "TOLLGATE_METRICS_TOP_CLIENTS",
       &server::Options::metrics_top_clients, 0, 1000},
      {"--activity-retention-days", "TOLLGATE_ACTIVITY_RETENTION_DAYS",
       &server::Options::activity_retention_days, 1, 3650},
      {"--max-queued-activities", "TOLLGATE_MAX_QUEUED_ACTIVITIES",
       &server::Options::max_queued_activities, 1, 1'000'000},
  };
  if (argc < 2) return Usage("missing command");
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command != "init" && command != "serve") {
    return Usage("unknown command '" + std::string(command) + "'");
  }

  server::Options options;
  for (const auto& spec : kSpecs) {
    if (const char* v = std::getenv(std::string(spec.env).c_str()); v != nullptr && *v != '\0') {
      options.*spec.member = v;
    }
  }
  // Numbers are checked after the command line, so that an option overrides a bad variable.
  std::vector<std::pair<const NumberSpec*, std::string>> numbers;
  for (const auto& spec : kNumbers) {
    if (const char* v = std::getenv(std::string(spec.env).c_str()); v != nullptr && *v != '\0') {
      numbers.emplace_back(&spec, v);
    }
  }
  if (const char* v = std::getenv("TOLLGATE_MASTER_KEY"); v != nullptr) options.master_key = v;
  for (const auto& spec : kSwitches) {
    const char* v = std::getenv(spec.env);
    if (v == nullptr || *v == '\0') continue;
    const std::string_view flag = v;
    if (flag == "1" || flag == "true") {
      options.*spec.member = true;
    } else if (flag != "0" && flag != "false") {
      return Usage(std::string(spec.env) + " must be 1, true, 0 or false");
    }
  }

  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::string value;
    std::string_view flag = arg;
    bool inline_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos && arg.rfind("--", 0) == 0) {
      flag = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
      inline_value = true;
    }
    auto take_value = [&]() -> bool {
      if (inline_value) return true;
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    bool matched = false;
    for (const auto& spec : kSpecs) {
      if (flag != spec.flag) continue;
      if (!take_value()) return Usage("option " + std::string(flag) + " needs a value");
      options.*spec.member = value;
      matched = true;
    }
    for (const auto& spec : kSwitches) {
      if (!matched && arg == spec.flag) {
        options.*spec.member = true;
        matched = true;
      }
    }
    for (const auto& spec : kNumbers) {
      if (flag != spec.flag) continue;
      if (!take_value()) return Usage("option " + std::string(flag) + " needs a value");
      std::erase_if(numbers, [&](const auto& n) { return n.first == &spec; });
      numbers.emplace_back(&spec, value);
      matched = true;
    }
    if (!matched) return Usage("unknown option '" + std::string(arg) + "'");
  }
  for (const auto& [spec, text] : numbers) {
    auto value = ParseNumber(*spec, text);
    if (!value) return Usage(value.error());
    options.*spec->member = *value;
  }
  return command == "init" ? server::Init(options) : server::Serve(options);
}

}  // namespace tollgate::cli
