#pragma once
// The admin console (docs/console.md): static files from console/ at the repository's root,
// built into the binary (cmake/embed_files.cmake) and served at /console/<name>. The page talks
// to /{envID}/as/token and /v1 only, from the same origin.

#include <span>
#include <string_view>

#include "http/message.h"

namespace tollgate::http {

struct ConsoleFile {
  std::string_view name;  // "index.html", "console.js", ...
  std::string_view body;
};

// Every file, sorted by name (generated).
std::span<const ConsoleFile> ConsoleFiles();

// The answer to GET `path` under /console: "/console" redirects to "/console/", which serves
// index.html; "/console/<name>" serves that file; anything else (another name, a sub-folder,
// an encoded or dot segment) is 404. Every answer carries a Content-Security-Policy that lets
// the page load only its own files and call only its own origin, and may not be framed.
Response ServeConsole(std::string_view path);

}  // namespace tollgate::http
