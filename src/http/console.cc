#include "http/console.h"

#include <string>

#include "http/errors.h"
#include "mgmt/api_error.h"

namespace tollgate::http {
namespace {

constexpr std::string_view kPrefix = "/console/";

// The page's own files only; no inline script or style, no framing, no form posts elsewhere.
constexpr const char* kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

void AddSecurityHeaders(Response& r) {
  r.headers.emplace_back("Content-Security-Policy", kPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  // Small files that change with the binary: revalidate, never serve a stale console.
  r.headers.emplace_back("Cache-Control", "no-cache");
}

}  // namespace

Response ServeConsole(std::string_view path) {
  Response r;
  if (path == "/console") {
    r.status = 301;
    r.content_type.clear();
    r.headers.emplace_back("Location", std::string(kPrefix));
    return r;
  }
  std::string_view name = path.substr(std::min(path.size(), kPrefix.size()));
  if (name.empty()) name = "index.html";
  for (const ConsoleFile& f : ConsoleFiles()) {
    if (f.name != name) continue;  // names are plain (no '/', '%', ".."): an exact match
    r.content_type = std::string(ContentType(f.name));
    r.body = std::string(f.body);
    AddSecurityHeaders(r);
    return r;
  }
  return WriteApiError(mgmt::NotFound());
}

}  // namespace tollgate::http
