// The console's files (http/console.h): which paths serve which file, and the headers that
// keep the page to its own origin.
#include "http/console.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tollgate::http {
namespace {

const std::string* Header(const Response& r, std::string_view name) {
  auto it = std::find_if(r.headers.begin(), r.headers.end(),
                         [&](const auto& h) { return h.first == name; });
  return it == r.headers.end() ? nullptr : &it->second;
}

TEST(Console, TheFolderIsServedWithItsOwnPolicy) {
  ASSERT_FALSE(ConsoleFiles().empty());
  for (const ConsoleFile& f : ConsoleFiles()) {
    Response r = ServeConsole("/console/" + std::string(f.name));
    EXPECT_EQ(r.status, 200) << f.name;
    EXPECT_EQ(r.body, f.body) << f.name;
    ASSERT_NE(Header(r, "Content-Security-Policy"), nullptr);
    EXPECT_NE(Header(r, "Content-Security-Policy")->find("frame-ancestors 'none'"),
              std::string::npos);
    EXPECT_EQ(*Header(r, "X-Content-Type-Options"), "nosniff");
  }
  Response index = ServeConsole("/console/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.body, ServeConsole("/console/index.html").body);
}

TEST(Console, TheBareNameRedirects) {
  Response r = ServeConsole("/console");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(*Header(r, "Location"), "/console/");
}

TEST(Console, NothingElseIsServed) {
  for (std::string_view path :
       {"/console/nope.js", "/console/../v1", "/console/./index.html", "/console/%69ndex.html",
        "/console//index.html", "/console/index.html/", "/console/sub/index.html",
        "/console/INDEX.HTML"}) {
    EXPECT_EQ(ServeConsole(path).status, 404) << path;
  }
}

}  // namespace
}  // namespace tollgate::http
