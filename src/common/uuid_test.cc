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
