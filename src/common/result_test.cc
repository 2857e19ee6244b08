#include "common/result.h"

#include <gtest/gtest.h>

#include <string>

namespace tollgate {
namespace {

Result<int, std::string> Half(int v) {
  if (v % 2 != 0) return Fail(std::string("odd"));
  return v / 2;
}

TEST(Result, ValueAndError) {
  auto a = Half(4);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  auto b = Half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), "odd");
}

TEST(Result, SameTypeForValueAndError) {
  Result<std::string, std::string> v(std::string("value"));
  Result<std::string, std::string> e = Fail(std::string("error"));
  EXPECT_TRUE(v.ok());
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.error(), "error");
}

TEST(Result, Void) {
  Result<void, int> ok;
  Result<void, int> bad = Fail(7);
  EXPECT_TRUE(ok.ok());
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), 7);
}

}  // namespace
}  // namespace tollgate
