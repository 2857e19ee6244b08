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
  ASSERT_FALSE(ParseForm("a=%zz"));
  EXPECT_EQ(ParseForm("a=%zz").error(), FormError::kMalformed);
}

// SPEC §2.1: at most kMaxFormPairs pairs; empty pairs do not count, and the limit is found
// before the pair beyond it is decoded.
TEST(Form, PairLimit) {
  auto body = [](size_t n) {
    std::string b;
    for (size_t i = 0; i < n; ++i) b += "p" + std::to_string(i) + "=v&&";
    return b;
  };
  auto at_limit = ParseForm(body(kMaxFormPairs));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->size(), kMaxFormPairs);
  auto beyond = ParseForm(body(kMaxFormPairs + 1));
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error(), FormError::kTooManyPairs);
  auto malformed_beyond = ParseForm(body(kMaxFormPairs) + "%zz=1");
  ASSERT_FALSE(malformed_beyond);
  EXPECT_EQ(malformed_beyond.error(), FormError::kTooManyPairs);
  EXPECT_TRUE(ParseForm(body(3), 3));
  EXPECT_FALSE(ParseForm(body(4), 3));
}

// Every size of form from 0 to beyond the limit, a duplicate at every position pair, checked
// against the obvious quadratic rule.
TEST(Form, DuplicateNames) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{8}, size_t{9}, size_t{64}, size_t{65},
                   size_t{300}}) {
    FormPairs form;
    for (size_t i = 0; i < n; ++i) form.emplace_back("name" + std::to_string(i), "v");
    EXPECT_FALSE(HasDuplicateName(form, "resource")) << n;
    for (size_t i = 0; i < n && n <= 65; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        FormPairs dup = form;
        dup[j].first = dup[i].first;
        EXPECT_TRUE(HasDuplicateName(dup, "resource")) << n << " " << i << " " << j;
        EXPECT_FALSE(HasDuplicateName(dup, dup[i].first)) << "the exception may repeat";
      }
    }
    if (n >= 2) {
      FormPairs dup = form;
      dup.front().first = dup.back().first = "resource";
      EXPECT_FALSE(HasDuplicateName(dup, "resource")) << n;
      dup.back().first = "";  // an empty name is a name too
      dup.front().first = "";
      EXPECT_TRUE(HasDuplicateName(dup, "resource")) << n;
    }
  }
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
