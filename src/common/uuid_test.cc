#include "common/uuid.h"

#include <gtest/gtest.h>

#include <set>

#include "common/random.h"

namespace tollgate {
namespace {

TEST(Uuid, NewUuidIsVersion4LowerCase) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    EXPECT_EQ(NormalizeUuid(id), id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Uuid, TimeOrderedUuidIsVersion7WithTheTimeFirst) {
  // RFC 9562 Appendix A.6: unix_ts_ms 0x017F22E279B0 gives "017f22e2-79b0-7...".
  const int64_t ms = 0x017F22E279B0;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewTimeOrderedUuid(ms);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id.substr(0, 15), "017f22e2-79b0-7");
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
    EXPECT_EQ(NormalizeUuid(id), id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);  // 74 random bits within one millisecond
  // Later milliseconds sort after, also across a byte boundary and at the 48-bit limits.
  EXPECT_LT(NewTimeOrderedUuid(ms), NewTimeOrderedUuid(ms + 1));
  EXPECT_LT(NewTimeOrderedUuid(0xFF), NewTimeOrderedUuid(0x100));
  EXPECT_EQ(NewTimeOrderedUuid(0).substr(0, 15), "00000000-0000-7");
  EXPECT_EQ(NewTimeOrderedUuid(0xFFFFFFFFFFFF).substr(0, 15), "ffffffff-ffff-7");
}

TEST(Uuid, Normalize) {
  EXPECT_EQ(NormalizeUuid("ABCDEF01-2345-6789-ABCD-EF0123456789"),
            "abcdef01-2345-6789-abcd-ef0123456789");
  EXPECT_FALSE(NormalizeUuid("abcdef01-2345-6789-abcd-ef012345678"));
  EXPECT_FALSE(NormalizeUuid("abcdef0112345-6789-abcd-ef0123456789"));
  EXPECT_FALSE(NormalizeUuid("ghcdef01-2345-6789-abcd-ef0123456789"));
  EXPECT_FALSE(NormalizeUuid("../../etc/passwd"));
}

TEST(Random, StringUsesOnlyTheAlphabet) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  std::string s = RandomString(4096, alphabet);
  ASSERT_EQ(s.size(), 4096u);
  EXPECT_EQ(s.find_first_not_of(alphabet), std::string::npos);
  // Every character shows up in 4096 draws from 66 (probability of a miss is negligible).
  for (char c : alphabet) EXPECT_NE(s.find(c), std::string::npos) << c;
}

}  // namespace
}  // namespace tollgate
