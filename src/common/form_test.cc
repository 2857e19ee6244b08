#include "common/form.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

TEST(Form, DecodesPlusAndEscapes) {
  EXPECT_EQ(FormDecode("read+write%20admin"), "read write admin");
  EXPECT_EQ(FormDecode("%2B%3a%25"), "+:%");
  EXPECT_EQ(FormDecode("caf%C3%A9"), "caf\xC3\xA9");
}

TEST(Form, RejectsMalformedEscapesNulAndBadUtf8) {
  EXPECT_FALSE(FormDecode("%"));
  EXPECT_FALSE(FormDecode("%4"));
  EXPECT_FALSE(FormDecode("%zz"));
  EXPECT_FALSE(FormDecode("a%00b"));
  EXPECT_FALSE(FormDecode("%C3"));        // truncated sequence
  EXPECT_FALSE(FormDecode("%C0%AF"));     // overlong
  EXPECT_FALSE(FormDecode("%ED%A0%80"));  // surrogate
  EXPECT_FALSE(FormDecode("\xff"));
}

TEST(Form, ParsesPairs) {
  auto form = ParseForm("grant_type=client_credentials&scope=a+b&&flag&empty=");
  ASSERT_TRUE(form);
  ASSERT_EQ(form->size(), 4u);
  EXPECT_EQ((*form)[0], (std::pair<std::string, std::string>{"grant_type", "client_credentials"}));
  EXPECT_EQ((*form)[1].second, "a b");
  EXPECT_EQ((*form)[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ((*form)[3], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_FALSE(ParseForm("a=%zz"));
}

TEST(Form, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Form, JsonStringEscaping) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace tollgate
