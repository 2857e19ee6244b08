#include "cli/cli.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

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
  --threads N              serve: I/O threads (default: one per core) [TOLLGATE_THREADS]
  --auth-url URL           public base of the auth surface (default http://<listen address>)
                           [TOLLGATE_AUTH_URL]
  --api-url URL            public base of the management API, also the audience of its tokens
                           (default: the auth-url) [TOLLGATE_API_URL]
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

int Usage(std::string_view error) {
  std::cerr << "tollgate: " << error << " (see 'tollgate --help')" << std::endl;
  return 2;
}

}  // namespace

int Main(int argc, char** argv) {
  static const OptionSpec kSpecs[] = {
      {"--store", "TOLLGATE_STORE", &server::Options::store_uri},
      {"--listen", "TOLLGATE_LISTEN", &server::Options::listen},
      {"--auth-url", "TOLLGATE_AUTH_URL", &server::Options::auth_url},
      {"--api-url", "TOLLGATE_API_URL", &server::Options::api_url},
      {"--master-key-file", "TOLLGATE_MASTER_KEY_FILE", &server::Options::master_key_file},
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
  std::string threads;
  if (const char* v = std::getenv("TOLLGATE_THREADS"); v != nullptr) threads = v;
  if (const char* v = std::getenv("TOLLGATE_MASTER_KEY"); v != nullptr) options.master_key = v;
  if (const char* v = std::getenv("TOLLGATE_ALLOW_PRIVATE_FETCH"); v != nullptr && *v != '\0') {
    const std::string_view flag = v;
    if (flag == "1" || flag == "true") {
      options.allow_private_fetch = true;
    } else if (flag != "0" && flag != "false") {
      return Usage("TOLLGATE_ALLOW_PRIVATE_FETCH must be 1, true, 0 or false");
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
    if (!matched && arg == "--allow-private-fetch") {
      options.allow_private_fetch = true;
      matched = true;
    }
    if (!matched && flag == "--threads") {
      if (!take_value()) return Usage("option --threads needs a value");
      threads = value;
      matched = true;
    }
    if (!matched) return Usage("unknown option '" + std::string(arg) + "'");
  }
  if (!threads.empty()) {
    if (threads.size() > 3 || threads.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(threads) < 1 || std::stoi(threads) > 256) {
      return Usage("--threads must be a number from 1 to 256");
    }
    options.threads = std::stoi(threads);
  }
  return command == "init" ? server::Init(options) : server::Serve(options);
}

}  // namespace tollgate::cli
