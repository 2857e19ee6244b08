// The client address behind trusted proxies (RFC 7239, X-Forwarded-For): who may name another
// address, and which hop is the client.
#include "http/client_address.h"

#include <gtest/gtest.h>

namespace tollgate::http {
namespace {

TrustedProxies Proxies(std::string_view text) {
  auto p = TrustedProxies::Parse(text);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error());
  return p.ok() ? *p : TrustedProxies();
}

TEST(TrustedProxies, ParsesNetworks) {
  const auto p = Proxies(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8, ::1, 100.64.0.0/10");
  struct Case {
    std::string_view address;
    bool trusted;
  };
  const Case cases[] = {
      {"10.0.0.0", true},
      {"10.255.255.255", true},
      {"11.0.0.0", false},
      {"9.255.255.255", false},
      {"192.168.1.7", true},
      {"192.168.1.8", false},
      {"fd00::1", true},
      {"fdff:ffff::1", true},
      {"fe00::1", false},
      {"fc00::1", false},
      {"::1", true},
      {"::2", false},
      {"::ffff:10.1.2.3", true},
      {"::ffff:11.1.2.3", false},
      {"100.64.0.0", true},
      {"100.127.255.255", true},
      {"100.128.0.0", false},
      {"100.63.255.255", false},
      {"", false},
      {"not-an-ip", false},
      {"10.0.0.1:80", false},
      {"[::1]", false},
      {"10.0.0.1 ", false},
      {"010.0.0.1", false},
  };
  for (const auto& c : cases) EXPECT_EQ(p.Contains(c.address), c.trusted) << c.address;
  EXPECT_TRUE(Proxies("").empty());
  EXPECT_TRUE(Proxies(" , ").empty());
  EXPECT_FALSE(Proxies("").Contains("127.0.0.1"));
  EXPECT_TRUE(Proxies("0.0.0.0/0").Contains("203.0.113.9"));
  EXPECT_FALSE(Proxies("0.0.0.0/0").Contains("2001:db8::1")) << "an IPv4 network holds no IPv6";
  EXPECT_TRUE(Proxies("::/0").Contains("2001:db8::1"));
}

TEST(TrustedProxies, RefusesWhatIsNotANetwork) {
  for (std::string_view bad :
       {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "10.1.2.3/8", "fd00::1/8",
        "::/129", "example.com", "10.0.0", "10.0.0.0/8,banana", "1.2.3.4:80"}) {
    auto p = TrustedProxies::Parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.error().find("--trusted-proxies"), std::string::npos);
  }
}

TEST(TrustedProxies, ResolvesTheRightmostUntrustedHop) {
  const auto p = Proxies("10.0.0.0/8, fd00::/8");
  struct Case {
    std::string_view name, peer, forwarded, xff, client;
  };
  const Case cases[] = {
      {"untrusted peer: its headers are ignored", "203.0.113.5", "", "198.51.100.1", "203.0.113.5"},
      {"untrusted peer, Forwarded ignored", "203.0.113.5", "for=198.51.100.1", "", "203.0.113.5"},
      {"trusted peer without headers", "10.0.0.2", "", "", "10.0.0.2"},
      {"one proxy", "10.0.0.2", "", "198.51.100.1", "198.51.100.1"},
      {"a client-written hop to the left is ignored", "10.0.0.2", "", "1.1.1.1, 198.51.100.1",
       "198.51.100.1"},
      {"two trusted proxies", "10.0.0.2", "", "1.1.1.1, 198.51.100.1, 10.0.0.3", "198.51.100.1"},
      {"all trusted: the leftmost", "10.0.0.2", "", "10.0.0.9, 10.0.0.3", "10.0.0.9"},
      {"garbage at the right: the last trusted", "10.0.0.2", "", "198.51.100.1, garbage",
       "10.0.0.2"},
      {"garbage left of the client is never read", "10.0.0.2", "", "garbage, 198.51.100.1",
       "198.51.100.1"},
      {"empty hop", "10.0.0.2", "", "198.51.100.1,", "10.0.0.2"},
      {"ports and brackets", "10.0.0.2", "", "[2001:db8::7]:443, 198.51.100.1:1234",
       "198.51.100.1"},
      {"IPv6 peer and hops", "fd00::5", "", "2001:db8::7, fd00::6", "2001:db8::7"},
      {"IPv4-mapped peer", "::ffff:10.0.0.2", "", "198.51.100.1", "198.51.100.1"},
      {"Forwarded wins over X-Forwarded-For", "10.0.0.2", "for=198.51.100.1;proto=https",
       "192.0.2.1", "198.51.100.1"},
      {"Forwarded, several elements", "10.0.0.2",
       "for=1.1.1.1, for=\"[2001:db8::9]:4711\";by=10.0.0.3, For=10.0.0.3", "", "2001:db8::9"},
      {"Forwarded unknown: the last trusted", "10.0.0.2", "for=unknown", "", "10.0.0.2"},
      {"Forwarded obfuscated", "10.0.0.2", "for=_hidden, for=10.0.0.3", "", "10.0.0.3"},
      {"Forwarded without for", "10.0.0.2", "proto=https;by=10.0.0.2", "", "10.0.0.2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(p.Resolve(c.peer, c.forwarded, c.xff), c.client) << c.name;
  }
  // Nobody trusted: always the peer.
  EXPECT_EQ(TrustedProxies().Resolve("10.0.0.2", "", "198.51.100.1"), "10.0.0.2");
}

// A header at the 8 KiB limit, of thousands of hops, resolves in one pass.
TEST(TrustedProxies, LongListsAreLinear) {
  const auto p = Proxies("10.0.0.0/8");
  std::string xff;
  while (xff.size() < 8000) xff += "10.1.2.3, ";
  xff += "10.1.2.4";
  EXPECT_EQ(p.Resolve("10.0.0.2", "", xff), "10.1.2.3");
  std::string garbage(8000, ',');
  EXPECT_EQ(p.Resolve("10.0.0.2", "", garbage), "10.0.0.2");
}

}  // namespace
}  // namespace tollgate::http
