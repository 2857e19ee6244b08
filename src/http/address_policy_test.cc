// The address policy of outbound fetches (docs/decisions/0005): every range's boundaries, the
// IPv6 forms that carry an IPv4 address, and text that is not an address.
#include "http/address_policy.h"

#include <gtest/gtest.h>

namespace tollgate::http {
namespace {

using K = AddressKind;

TEST(AddressPolicyTest, ClassifiesEveryRangeAtItsBoundaries) {
  const struct {
    const char* address;
    AddressKind kind;
  } kCases[] = {
      {"0.0.0.0", K::kUnspecified},
      {"0.255.255.255", K::kUnspecified},
      {"1.0.0.0", K::kPublic},
      {"8.8.8.8", K::kPublic},
      {"9.255.255.255", K::kPublic},
      {"10.0.0.0", K::kPrivate},
      {"10.255.255.255", K::kPrivate},
      {"11.0.0.0", K::kPublic},
      {"100.63.255.255", K::kPublic},
      {"100.64.0.0", K::kShared},
      {"100.127.255.255", K::kShared},
      {"100.128.0.0", K::kPublic},
      {"126.255.255.255", K::kPublic},
      {"127.0.0.1", K::kLoopback},
      {"127.255.255.255", K::kLoopback},
      {"128.0.0.0", K::kPublic},
      {"169.253.255.255", K::kPublic},
      {"169.254.0.0", K::kLinkLocal},
      {"169.254.169.254", K::kLinkLocal},  // cloud metadata
      {"169.255.0.0", K::kPublic},
      {"172.15.255.255", K::kPublic},
      {"172.16.0.0", K::kPrivate},
      {"172.31.255.255", K::kPrivate},
      {"172.32.0.0", K::kPublic},
      {"192.167.255.255", K::kPublic},
      {"192.168.0.0", K::kPrivate},
      {"192.168.255.255", K::kPrivate},
      {"192.169.0.0", K::kPublic},
      {"223.255.255.255", K::kPublic},
      {"224.0.0.0", K::kMulticast},
      {"239.255.255.255", K::kMulticast},
      {"240.0.0.0", K::kReserved},
      {"255.255.255.255", K::kReserved},
      {"::", K::kUnspecified},
      {"::1", K::kLoopback},
      {"::2", K::kReserved},
      {"::127.0.0.1", K::kReserved},  // IPv4-compatible, deprecated
      {"::ffff:127.0.0.1", K::kLoopback},
      {"::ffff:10.1.2.3", K::kPrivate},
      {"::ffff:169.254.169.254", K::kLinkLocal},
      {"::ffff:8.8.8.8", K::kPublic},
      {"::ffff:0.0.0.0", K::kUnspecified},
      {"64:ff9b::7f00:1", K::kLoopback},      // NAT64 of 127.0.0.1
      {"64:ff9b::a9fe:a9fe", K::kLinkLocal},  // NAT64 of 169.254.169.254
      {"64:ff9b::808:808", K::kPublic},       // NAT64 of 8.8.8.8
      {"64:ff9b:1::1", K::kPrivate},
      {"2002:7f00:1::1", K::kLoopback},   // 6to4 of 127.0.0.1
      {"2002:c0a8:101::1", K::kPrivate},  // 6to4 of 192.168.1.1
      {"2002:808:808::1", K::kPublic},
      {"2001:db8::1", K::kPublic},
      {"2606:4700:4700::1111", K::kPublic},
      {"fbff:ffff::1", K::kPublic},
      {"fc00::1", K::kPrivate},
      {"fd00::1", K::kPrivate},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", K::kPrivate},
      {"fe00::1", K::kPublic},
      {"fe7f:ffff::1", K::kPublic},
      {"fe80::1", K::kLinkLocal},
      {"febf:ffff::1", K::kLinkLocal},
      {"fec0::1", K::kPrivate},
      {"feff:ffff::1", K::kPrivate},
      {"ff00::1", K::kMulticast},
      {"ff02::1", K::kMulticast},
  };
  for (const auto& c : kCases) {
    auto kind = ClassifyAddress(c.address);
    ASSERT_TRUE(kind.has_value()) << c.address;
    EXPECT_EQ(*kind, c.kind) << c.address << " is " << AddressKindName(*kind);
    EXPECT_EQ(IsPublic(*kind), c.kind == K::kPublic) << c.address;
  }
}

TEST(AddressPolicyTest, TextThatIsNoAddress) {
  for (const char* text : {"", "localhost", "127.1", "0x7f000001", "2130706433", "[::1]",
                           "fe80::1%eth0", "1.2.3.4.5", "example.com"}) {
    EXPECT_FALSE(ClassifyAddress(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace tollgate::http
