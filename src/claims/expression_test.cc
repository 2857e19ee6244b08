#include "claims/expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tollgate::claims {
namespace {

using ::testing::HasSubstr;

const std::string kClientId = "#root.context.appConfig.clientId";
const std::string kAuthMethod = "#root.context.appConfig.tokenEndpointAuthMethod";
const std::string kGrantType = "#root.context.requestData.grantType";
const std::string kScope = "#root.context.requestData.scope";
const std::string kAssertion = "#root.context.requestData.clientAssertion";
const std::string kHeader = "#root.context.requestData.clientAssertionHeader";
const std::string kSubject = "#root.context.requestData.subjectToken";
const std::string kActor = "#root.context.requestData.actorToken";

std::string Wrap(const std::string& inside) { return "${" + inside + "}"; }

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

boost::json::object Object(std::string_view json) { return boost::json::parse(json).as_object(); }

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    context_.client_id = "client-1";
    context_.token_endpoint_auth_method = "PRIVATE_KEY_JWT";
    context_.grant_type = "client_credentials";
    context_.scope = &scope_;
    context_.client_assertion = &assertion_;
    context_.client_assertion_header = &header_;
    context_.subject_token = &subject_;
    context_.actor_token = &actor_;
  }

  // The value's JSON, or "<null>", "<type>", "<too large>"; "<compile: ...>" when it does not
  // compile.
  std::string Eval(const std::string& value) const { return Eval(value, context_); }

  static std::string Eval(const std::string& value, const Context& context) {
    auto expression = Expression::Compile(value);
    if (!expression) return "<compile: " + expression.error().message + ">";
    std::string out = "[";
    const auto result = expression->AppendJson(context, out);
    if (!result) {
      EXPECT_EQ(out, "[") << "appended on failure: " << value;
      switch (result.error()) {
        case EvalError::kNull:
          return "<null>";
        case EvalError::kType:
          return "<type>";
        case EvalError::kTooLarge:
          return "<too large>";
      }
    }
    return out.substr(1);
  }

  std::string scope_ = "openid orders:read";
  boost::json::object assertion_ = Object(R"({
      "sub": "c1", "aud": ["https://as.example", "other"],
      "org": {"id": "o-1", "name": "Acme", "tags": ["a", "b"]},
      "a.b": "dotted", "it's": "quoted key", "n": 42, "ratio": 1.5, "one": 1.0,
      "flag": true, "nothing": null, "big": 18446744073709551615,
      "nums": [1.0, 2, {"x": [3]}], "empty": {}})");
  boost::json::object header_ = Object(R"({"alg": "PS256", "kid": "k1"})");
  boost::json::object subject_ = Object(R"({
      "sub": "user-1", "org": {"tags": ["a", "b"], "name": "Acme", "id": "o-1"},
      "nums": [1, 2.0, {"x": [3.0]}]})");
  boost::json::object actor_ = Object(R"({"sub": "svc"})");
  Context context_;
};

struct Case {
  std::string value;
  std::string expected;  // as ExpressionTest::Eval
};

// Exposes the protected Eval to the table runner.
class Table : public ExpressionTest {
 protected:
  void Run(const std::vector<Case>& cases) const {
    for (const Case& c : cases) EXPECT_EQ(Eval(c.value), c.expected) << c.value;
  }
};

TEST_F(Table, StaticStrings) {
  Run({
      {"hello", R"("hello")"},
      {"", R"("")"},
      {R"(say "hi" \o/)", R"("say \"hi\" \\o/")"},
      {"tab\there\nnew\r\x01\x1f", R"("tab\there\nnew\r\u0001\u001f")"},
      {"caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x94\x91",
       "\"caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x94\x91\""},
      {"$", R"("$")"},
      {"$x{'a'}", R"("$x{'a'}")"},
      {"a${'b'}", R"("a${'b'}")"},
      {std::string("nul\0byte", 8), R"("nul\u0000byte")"},
  });
}

TEST_F(Table, ContextRoots) {
  Run({
      {Wrap(kClientId), R"("client-1")"},
      {Wrap(kAuthMethod), R"("PRIVATE_KEY_JWT")"},
      {Wrap(kGrantType), R"("client_credentials")"},
      {Wrap(kScope), R"("openid orders:read")"},
      {Wrap(kAssertion + ".sub"), R"("c1")"},
      {Wrap(kHeader + ".alg"), R"("PS256")"},
      {Wrap(kSubject + ".sub"), R"("user-1")"},
      {Wrap(kActor + ".sub"), R"("svc")"},
      {Wrap(kHeader), R"({"alg":"PS256","kid":"k1"})"},
      {Wrap(kActor), R"({"sub":"svc"})"},
      // Whitespace between tokens, also inside a path.
      {"${ #root . context\t.\nappConfig . clientId }", R"("client-1")"},
  });
}

TEST_F(Table, ClaimPaths) {
  Run({
      {Wrap(kAssertion + ".org.id"), R"("o-1")"},
      {Wrap(kAssertion + "['a.b']"), R"("dotted")"},
      {Wrap(kAssertion + "['it''s']"), R"("quoted key")"},
      {Wrap(kAssertion + "[\"org\"]['tags'][1]"), R"("b")"},
      {Wrap(kAssertion + ".aud[0]"), R"("https://as.example")"},
      {Wrap(kAssertion + " . org . tags [ 0 ]"), R"("a")"},
      {Wrap(kAssertion + ".nums[2].x[0]"), "3"},
      {Wrap(kAssertion + ".n"), "42"},
      {Wrap(kAssertion + ".flag"), "true"},
      {Wrap(kAssertion + ".big"), "18446744073709551615"},
      {Wrap(kAssertion + ".ratio"), boost::json::serialize(boost::json::value(1.5))},
      {Wrap(kAssertion + ".one"), boost::json::serialize(boost::json::value(1.0))},
      {Wrap(kAssertion + ".org"), R"({"id":"o-1","name":"Acme","tags":["a","b"]})"},
      {Wrap(kAssertion + ".aud"), R"(["https://as.example","other"])"},
      {Wrap(kAssertion + ".empty"), "{}"},
      // Resolving to nothing is null.
      {Wrap(kAssertion + ".missing"), "<null>"},
      {Wrap(kAssertion + ".nothing"), "<null>"},
      {Wrap(kAssertion + ".aud[2]"), "<null>"},
      {Wrap(kAssertion + ".aud[99999999999]"), "<null>"},
      {Wrap(kAssertion + ".org[0]"), "<null>"},      // [n] indexes arrays only
      {Wrap(kAssertion + "[0]"), "<null>"},          // the root is an object
      {Wrap(kAssertion + ".aud['0']"), "<null>"},    // keys index objects only
      {Wrap(kAssertion + ".aud.length"), "<null>"},  // no properties of arrays
      {Wrap(kAssertion + ".sub.x"), "<null>"},
      {Wrap(kAssertion + ".missing.deeper[3]"), "<null>"},
  });
}

TEST_F(Table, Concatenation) {
  Run({
      {Wrap("'id-' + " + kClientId), R"("id-client-1")"},
      {Wrap(kClientId + " + ':' + " + kGrantType), R"("client-1:client_credentials")"},
      {Wrap("'n=' + " + kAssertion + ".n"), R"("n=42")"},
      {Wrap(kAssertion + ".flag + '!'"), R"("true!")"},
      {Wrap("'big ' + " + kAssertion + ".big"), R"("big 18446744073709551615")"},
      {Wrap(kAssertion + ".n + 1"), "43"},
      {Wrap(kAssertion + ".n + -0 "), "<compile: unexpected character '-'>"},
      {"${'a' + 1 + 2}", R"("a12")"},
      {"${1 + 2 + 'a'}", R"("3a")"},
      {"${1 + 2}", "3"},
      {"${'x' + true + false}", R"("xtruefalse")"},
      {R"(${'it''s ' + "say ""x"""})", R"("it's say \"x\"")"},
      {R"(${"'" + '"'})", R"("'\"")"},
      {"${'a}b' + '{'}", R"("a}b{")"},
      {"${'\t\"' + 'caf\xC3\xA9'}", "\"\\t\\\"caf\xC3\xA9\""},
      // Right-nested, so that built strings are combined out of order.
      {Wrap("'<' + (" + kClientId + " + ('|' + (" + kGrantType + " + '>')))"),
       R"("<client-1|client_credentials>")"},
      {Wrap("(" + kClientId + " + '-') + (" + kGrantType + " + '-') + " + kClientId),
       R"("client-1-client_credentials-client-1")"},
  });
}

TEST_F(Table, ConditionalsAndLogic) {
  const std::string strength = Wrap(kAuthMethod + " == 'PRIVATE_KEY_JWT' ? 'strong' : 'basic'");
  Run({
      {strength, R"("strong")"},
      {Wrap(kGrantType + " == 'x' ? 1 : " + kGrantType + " == 'client_credentials' ? 2 : 3"), "2"},
      {Wrap(kGrantType + " != 'x' ? " + kClientId + " == 'client-1' ? 'a' : 'b' : 'c'"), R"("a")"},
      {Wrap(kAssertion + ".flag && " + kGrantType + " == 'client_credentials'"), "true"},
      {Wrap(kAssertion + ".flag and false"), "false"},
      {Wrap(kAssertion + ".flag or false"), "true"},
      {Wrap("!" + kAssertion + ".flag || !false"), "true"},
      {Wrap("!(" + kAssertion + ".flag)"), "false"},
      // Short-circuit: the right operand, not a bool, is not evaluated.
      {Wrap(kAssertion + ".flag || " + kAssertion + ".n"), "true"},
      {Wrap("!" + kAssertion + ".flag && " + kAssertion + ".n"), "false"},
      {Wrap("!" + kAssertion + ".flag || " + kAssertion + ".n"), "<type>"},
      {Wrap(kAssertion + ".flag && " + kAssertion + ".n"), "<type>"},
      // || is looser than &&.
      {Wrap(kAssertion + ".flag || false && " + kAssertion + ".n"), "true"},
      // The branch not taken is not evaluated.
      {Wrap(kAssertion + ".flag ? 'y' : " + kAssertion + ".n + null"),
       "<compile: cannot apply '+' to null>"},
      {Wrap(kAssertion + ".flag ? 'y' : " + kAssertion + ".ratio + 'x'"), R"("y")"},
  });
  Context other = context_;
  other.token_endpoint_auth_method = "CLIENT_SECRET_BASIC";
  EXPECT_EQ(Eval(strength, other), R"("basic")");
}

TEST_F(Table, Elvis) {
  Run({
      {Wrap(kAssertion + ".missing ?: 'default'"), R"("default")"},
      {Wrap(kAssertion + ".sub ?: 'default'"), R"("c1")"},
      {Wrap(kAssertion + ".nothing ?: 'default'"), R"("default")"},
      {Wrap(kAssertion + ".flag ?: 'default'"), "true"},
      {Wrap(kSubject + ".x ?: " + kActor + ".x ?: 'last'"), R"("last")"},
      {Wrap(kSubject + ".x ?: " + kActor + ".sub ?: 'last'"), R"("svc")"},
      {Wrap(kAssertion + ".missing ?: null"), "<null>"},
      {Wrap("'tenant-' + (" + kAssertion + ".org.id ?: 'none')"), R"("tenant-o-1")"},
      // Elvis binds tighter than the conditional, looser than ||.
      {Wrap(kAssertion + ".missing ?: false ? 'y' : 'n'"), R"("n")"},
      {Wrap(kAssertion + ".missing ?: false || true"), "true"},
      {Wrap(kAssertion + ".n ?: 'x' == 'x'"), "42"},
  });
  Context bare;
  EXPECT_EQ(Eval(Wrap(kAssertion + ".sub ?: " + kClientId + " ?: 'anon'"), bare), R"("anon")");
}

TEST_F(Table, Equality) {
  Run({
      {Wrap(kAssertion + ".n == 42"), "true"},
      {Wrap(kAssertion + ".n != 42"), "false"},
      {Wrap(kAssertion + ".one == 1"), "true"},  // int 1 == double 1.0
      {Wrap(kAssertion + ".ratio == 1"), "false"},
      {Wrap(kAssertion + ".ratio == " + kAssertion + ".ratio"), "true"},
      {Wrap(kAssertion + ".n == '42'"), "false"},  // no coercion
      {Wrap(kAssertion + ".big == " + kAssertion + ".big"), "true"},
      {Wrap(kAssertion + ".big == 1"), "false"},
      {Wrap(kAssertion + ".flag == true"), "true"},
      {Wrap(kAssertion + ".missing == null"), "true"},
      {Wrap(kAssertion + ".nothing == null"), "true"},
      {Wrap(kAssertion + ".sub == null"), "false"},
      {Wrap(kAssertion + ".sub == 'c1'"), "true"},
      {Wrap(kAssertion + ".sub + '' == 'c1'"), "true"},
      // Objects and arrays: structurally, key order ignored, 1 == 1.0 inside.
      {Wrap(kAssertion + ".org == " + kSubject + ".org"), "true"},
      {Wrap(kAssertion + ".nums == " + kSubject + ".nums"), "true"},
      {Wrap(kAssertion + ".org.tags == " + kSubject + ".org.tags"), "true"},
      {Wrap(kAssertion + ".org == " + kHeader), "false"},
      {Wrap(kAssertion + ".org == " + kAssertion + ".aud"), "false"},
      {Wrap(kAssertion + ".aud == " + kAssertion + ".org.tags"), "false"},
      {Wrap(kAssertion + ".empty == " + kAssertion + ".empty"), "true"},
      {Wrap(kAssertion + ".org != 'o-1'"), "true"},
      {Wrap(kActor + " == " + kActor), "true"},
      // Chains are left-associative: (1 == 1) == true.
      {"${1 == 1 == true}", "true"},
  });
}

TEST_F(Table, EvalErrors) {
  Run({
      // kNull
      {"${null}", "<null>"},
      {Wrap(kAssertion + ".missing"), "<null>"},
      // kType
      {Wrap(kAssertion + ".nothing + 'x'"), "<type>"},
      {Wrap("'x' + " + kAssertion + ".ratio"), "<type>"},
      {Wrap(kAssertion + ".org + 'x'"), "<type>"},
      {Wrap(kAssertion + ".aud + 'x'"), "<type>"},
      {Wrap(kAssertion + ".n + " + kAssertion + ".flag"), "<type>"},
      {Wrap(kAssertion + ".big + 1"), "<type>"},
      {Wrap(kAssertion + ".n + 9223372036854775807"), "<type>"},  // overflow
      {Wrap("!" + kAssertion + ".sub"), "<type>"},
      {Wrap("!" + kAssertion + ".missing"), "<type>"},
      {Wrap(kAssertion + ".sub ? 1 : 2"), "<type>"},
      {Wrap(kAssertion + ".missing ? 1 : 2"), "<type>"},
      {Wrap(kAssertion + ".sub && true"), "<type>"},
      {Wrap("true && " + kAssertion + ".sub"), "<type>"},
      {Wrap("false || " + kAssertion + ".sub"), "<type>"},
  });
}

TEST_F(ExpressionTest, AbsentContextIsNull) {
  const Context bare;
  for (const std::string& path : {kClientId, kAuthMethod, kGrantType, kScope, kAssertion, kHeader,
                                  kSubject, kActor, kAssertion + ".sub"}) {
    EXPECT_EQ(Eval(Wrap(path), bare), "<null>") << path;
    EXPECT_EQ(Eval(Wrap(path + " == null"), bare), "true") << path;
  }
  const std::string empty;
  Context with_empty_scope;
  with_empty_scope.scope = &empty;
  EXPECT_EQ(Eval(Wrap(kScope), with_empty_scope), R"("")");
}

TEST_F(ExpressionTest, TooLarge) {
  // A string result of exactly kMaxResultBytes once quoted passes; one more byte does not.
  std::string scope(kMaxResultBytes - 2, 's');
  Context context = context_;
  context.scope = &scope;
  EXPECT_EQ(Eval(Wrap(kScope), context).size(), kMaxResultBytes);
  scope.push_back('s');
  EXPECT_EQ(Eval(Wrap(kScope), context), "<too large>");
  // Escaping counts.
  scope.assign((kMaxResultBytes - 2) / 2, '"');
  EXPECT_EQ(Eval(Wrap(kScope), context).size(), kMaxResultBytes);
  scope.push_back('"');
  EXPECT_EQ(Eval(Wrap(kScope), context), "<too large>");
  // A built string over the bound fails even where it would not be the result.
  scope.assign(kMaxResultBytes / 2 + 1, 's');
  EXPECT_EQ(Eval(Wrap(kScope + " + " + kScope + " == ''"), context), "<too large>");
  // Objects and arrays.
  boost::json::object big;
  big["list"] = boost::json::array(kMaxResultBytes / 2 + 1, boost::json::value(1));
  big["small"] = boost::json::array{1, 2};
  context.client_assertion = &big;
  EXPECT_EQ(Eval(Wrap(kAssertion + ".list"), context), "<too large>");
  EXPECT_EQ(Eval(Wrap(kAssertion), context), "<too large>");
  EXPECT_EQ(Eval(Wrap(kAssertion + ".small"), context), "[1,2]");
  EXPECT_EQ(Eval(Wrap(kAssertion + ".list == " + kAssertion + ".list"), context), "true");
}

TEST_F(ExpressionTest, DeepJsonComparisonFailsCleanly) {
  // Deeper than the comparison bound (64): kTooLarge, no recursion.
  boost::json::value deep = boost::json::array{};
  for (int i = 0; i < 100; ++i) deep = boost::json::array{deep};
  boost::json::object holder;
  holder["d"] = deep;
  Context context = context_;
  context.client_assertion = &holder;
  context.subject_token = &holder;
  EXPECT_EQ(Eval(Wrap(kAssertion + ".d == " + kSubject + ".d"), context), "<too large>");
  EXPECT_EQ(Eval(Wrap(kAssertion + ".d[0][0][0][0][0]"), context),
            boost::json::serialize(deep.at(0).at(0).at(0).at(0).at(0)));
}

TEST_F(ExpressionTest, AppendsToWhatIsThere) {
  auto expression = Expression::Compile(Wrap("'x' + " + kClientId));
  ASSERT_TRUE(expression);
  std::string out = R"({"a":)";
  ASSERT_TRUE(expression->AppendJson(context_, out));
  EXPECT_EQ(out, R"({"a":"xclient-1")");
}

TEST_F(ExpressionTest, StaticAndFolding) {
  struct StaticCase {
    std::string value;
    bool is_static;
    std::string expected;
  };
  const std::vector<StaticCase> cases = {
      {"plain", true, R"("plain")"},
      {"${'a' + 'b'}", true, R"("ab")"},
      {"${'n' + (1 + 2) + true}", true, R"("n3true")"},
      {"${1 + 2 == 3}", true, "true"},
      {"${!(1 == 2) && 'a' != 'b'}", true, "true"},
      {"${1 + 'x' == true ? 'a' : 'b'}", true, R"("b")"},
      {"${null ?: 'd'}", true, R"("d")"},
      {"${null}", true, "<null>"},
      {Wrap("true ? 'x' : " + kAssertion + ".sub"), true, R"("x")"},
      {Wrap("false ? " + kAssertion + ".sub : 'y'"), true, R"("y")"},
      {Wrap("false && " + kAssertion + ".sub"), true, "false"},
      {Wrap("true || " + kAssertion + ".sub"), true, "true"},
      {Wrap("'x' ?: " + kAssertion + ".sub"), true, R"("x")"},
      {Wrap("null ?: " + kClientId), false, R"("client-1")"},
      {Wrap("true && " + kAssertion + ".flag"), false, "true"},
      {Wrap(kClientId), false, R"("client-1")"},
      {Wrap("'a' + " + kClientId), false, R"("aclient-1")"},
  };
  const Context bare;
  for (const StaticCase& c : cases) {
    auto expression = Expression::Compile(c.value);
    ASSERT_TRUE(expression) << c.value << ": " << expression.error().message;
    EXPECT_EQ(expression->IsStatic(), c.is_static) << c.value;
    EXPECT_EQ(Eval(c.value), c.expected) << c.value;
    if (c.is_static) {
      EXPECT_EQ(Eval(c.value, bare), c.expected) << c.value;
    }
  }
}

TEST_F(ExpressionTest, WhatIsRead) {
  struct ReadCase {
    std::string value;
    bool client_assertion;
    bool exchange_tokens;
  };
  const std::vector<ReadCase> cases = {
      {"plain", false, false},
      {Wrap(kClientId + " + " + kScope + " + " + kGrantType + " + " + kAuthMethod), false, false},
      {Wrap(kAssertion + ".sub"), true, false},
      {Wrap(kHeader + ".kid"), true, false},
      {Wrap(kAssertion), true, false},
      {Wrap(kSubject + ".sub"), false, true},
      {Wrap(kActor), false, true},
      {Wrap(kSubject + ".sub ?: " + kHeader + ".kid"), true, true},
      {Wrap("false ? " + kAssertion + ".sub : " + kClientId), false, false},  // folded away
      {Wrap("true ? " + kClientId + " : " + kActor + ".sub"), false, false},
  };
  for (const ReadCase& c : cases) {
    auto expression = Expression::Compile(c.value);
    ASSERT_TRUE(expression) << c.value;
    EXPECT_EQ(expression->ReadsClientAssertion(), c.client_assertion) << c.value;
    EXPECT_EQ(expression->ReadsExchangeTokens(), c.exchange_tokens) << c.value;
  }
}

struct ErrorCase {
  std::string value;
  size_t position;
  std::string message;  // a substring of the message
};

void ExpectCompileErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    auto expression = Expression::Compile(c.value);
    ASSERT_FALSE(expression) << c.value;
    EXPECT_EQ(expression.error().position, c.position) << c.value;
    EXPECT_THAT(expression.error().message, HasSubstr(c.message)) << c.value;
  }
}

TEST(ExpressionCompile, SyntaxErrors) {
  ExpectCompileErrors({
      {"${}", 2, "expected an expression"},
      {"${ }", 3, "expected an expression"},
      {"${", 2, "expected an expression"},
      {"${(}", 3, "expected an expression"},
      {"${1 +}", 5, "expected an expression"},
      {"${true and}", 10, "expected an expression"},
      {"${'a'", 5, "missing closing '}'"},
      {"${1 + 2 ", 8, "missing closing '}'"},
      {"${'abc}", 2, "unterminated string literal"},
      {"${\"abc}", 2, "unterminated string literal"},
      {"${'a' + 'it''s}", 8, "unterminated string literal"},
      {"${1 2}", 4, "unexpected integer"},
      {"${'a' 'b'}", 6, "unexpected string literal"},
      {"${1}}", 3, "'}' before the end of the value"},
      {"${1} + 'x'}", 3, "'}' before the end of the value"},
      {"${1 + } 2}", 6, "expected an expression"},
      {"${(1}", 4, "missing ')'"},
      {"${((1)}", 6, "missing ')'"},
      {"${(1 2)}", 5, "unexpected integer"},
      {"${1)}", 3, "unexpected ')'"},
      {"${?}", 2, "unexpected '?'"},
      {"${?:}", 2, "unexpected '?:'"},
      {"${:}", 2, "unexpected ':'"},
      {"${true ?}", 8, "expected an expression"},
      {"${true ? 1}", 10, "expected ':'"},
      {"${true ? 1 2}", 11, "unexpected integer"},
      {"${true ? 1 : }", 13, "expected an expression"},
      {"${1 & 2}", 4, "unexpected character '&'"},
      {"${1 | 2}", 4, "unexpected character '|'"},
      {"${1 = 2}", 4, "unexpected character '='"},
      {"${-1}", 2, "unexpected character '-'"},
      {"${1.5}", 3, "unexpected '.'"},
      {"${1 + \xC3\xA9}", 6, "unexpected character"},
      {"${caf\xC3\xA9}", 2, "unknown identifier 'caf'"},
      {"${\xC3\xA9}", 2, "unexpected character"},
      {"${{}", 2, "unexpected character '{'"},
      {"${foo}", 2, "unknown identifier 'foo'"},
      {"${TRUE}", 2, "unknown identifier 'TRUE'"},
      {"${1abc}", 3, "unexpected identifier 'abc'"},
      {"${#this}", 2, "unknown variable '#this'"},
      {"${#}", 3, "expected a variable name after '#'"},
      {"${# root}", 3, "expected a variable name after '#'"},
      {"${99999999999999999999}", 2, "integer literal out of range"},
      {"${9223372036854775808}", 2, "integer literal out of range"},
      {"${1 + 9223372036854775808}", 6, "integer literal out of range"},
  });
}

TEST(ExpressionCompile, PathErrors) {
  ExpectCompileErrors({
      {"${#root}", 7, "expected '.'"},
      {"${#root.}", 8, "expected a property name"},
      {"${#root.foo}", 8, "unknown property 'foo'"},
      {"${#root['context']}", 7, "expected '.'"},
      {"${#root.context}", 15, "expected '.'"},
      {"${#root.context.foo}", 16, "unknown property 'foo'"},
      {"${#root.context.appConfig}", 25, "expected '.'"},
      {"${#root.context.appConfig.grantType}", 26, "unknown property 'grantType'"},
      {"${#root.context.appConfig.clientid}", 26, "unknown property 'clientid'"},
      {"${#root.context.requestData.foo}", 28, "unknown property 'foo'"},
      {"${#root.context.requestData.clientId}", 28, "unknown property 'clientId'"},
      {"${#root.context.appConfig.clientId.x}", 35, "unknown property 'x'"},
      {"${#root.context.requestData.scope[0]}", 33, "a string has no elements"},
      {"${#root.context.requestData.scope.}", 34, "expected a property name"},
      {"${#root.context.requestData.clientAssertion.}", 44, "expected a property name"},
      {"${#root.context.requestData.clientAssertion.1}", 44, "expected a property name"},
      {"${#root.context.requestData.clientAssertion[}", 44, "expected a quoted key or an index"},
      {"${#root.context.requestData.clientAssertion[sub]}", 44, "expected a quoted key"},
      {"${#root.context.requestData.clientAssertion['a'}", 47, "expected ']'"},
      {"${#root.context.requestData.clientAssertion[0x]}", 45, "expected ']'"},
      {"${#root.context.requestData.clientAssertion[-1]}", 44, "unexpected character '-'"},
      {"${#root.context.requestData.clientAssertion['a}", 44, "unterminated string literal"},
      {"${#root.context.requestData.clientAssertion sub}", 44, "unexpected identifier 'sub'"},
      {"${#root.context.requestData.clientAssertion(0)}", 43, "unexpected '('"},
  });
}

TEST(ExpressionCompile, ConstantErrors) {
  const std::string flag = "#root.context.requestData.clientAssertion.flag";
  ExpectCompileErrors({
      {"${9223372036854775807 + 1}", 22, "integer overflow"},
      {"${1 + null}", 4, "cannot apply '+' to null"},
      {"${null + " + kClientId + "}", 7, "cannot apply '+' to null"},
      {"${true + 1}", 7, "cannot apply '+' to a boolean and an integer"},
      {"${!'x'}", 2, "the operand of '!' must be a boolean, not a string"},
      {"${!!1}", 3, "the operand of '!' must be a boolean, not an integer"},
      {"${1 ? 'a' : 'b'}", 4, "the condition of '?' must be a boolean, not an integer"},
      {"${null ? 'a' : 'b'}", 7, "the condition of '?' must be a boolean, not null"},
      {"${1 && true}", 4, "the operands of '&&' must be booleans, not an integer"},
      {"${" + flag + " || 'x'}", 49, "the operands of '||' must be booleans, not a string"},
      {"${'x' or " + flag + "}", 6, "the operands of '||' must be booleans"},
      // Errors in a branch that folding discards are still errors.
      {"${true ? 'a' : 1 + null}", 17, "cannot apply '+' to null"},
  });
}

TEST(ExpressionCompile, InvalidUtf8) {
  ExpectCompileErrors({
      {"ab\xFF"
       "cd",
       2, "UTF-8"},
      {"\xC0\xAF", 0, "UTF-8"},          // overlong
      {"x\xED\xA0\x80", 1, "UTF-8"},     // surrogate
      {"abc\xE2\x82", 3, "UTF-8"},       // truncated
      {"\xF4\x90\x80\x80", 0, "UTF-8"},  // above U+10FFFF
      {"${'\xC3('}", 3, "UTF-8"},
      {"${'ok'}\xFF", 7, "UTF-8"},
  });
}

TEST(ExpressionCompile, LengthLimit) {
  std::string value(kMaxValueBytes, 'v');
  EXPECT_TRUE(Expression::Compile(value));
  value.push_back('v');
  ExpectCompileErrors({{value, kMaxValueBytes, "longer than 4096 bytes"}});
  std::string expression = "${'" + std::string(kMaxValueBytes - 5, 'e') + "'}";
  ASSERT_EQ(expression.size(), kMaxValueBytes);
  EXPECT_TRUE(Expression::Compile(expression));
  expression.insert(3, "e");
  ExpectCompileErrors({{expression, kMaxValueBytes, "longer than 4096 bytes"}});
  // A static value whose JSON would be over kMaxResultBytes: a control character takes 6 bytes.
  const size_t fits = (kMaxResultBytes - 2) / 6;
  EXPECT_TRUE(Expression::Compile(std::string(fits, '\x01')));
  ExpectCompileErrors({{std::string(fits + 1, '\x01'), 0, "bytes once written as JSON"}});
}

TEST(ExpressionCompile, NestingLimit) {
  auto parens = [](size_t n) { return "${" + Repeat("(", n) + "1" + Repeat(")", n) + "}"; };
  auto bangs = [](size_t n) { return "${" + Repeat("!", n) + "true}"; };
  auto conditionals = [](size_t n) { return "${" + Repeat("false ? 1 : ", n) + "2}"; };
  ASSERT_TRUE(Expression::Compile(parens(kMaxNestingDepth)));
  ASSERT_TRUE(Expression::Compile(bangs(kMaxNestingDepth)));
  ASSERT_TRUE(Expression::Compile(conditionals(kMaxNestingDepth)));
  ASSERT_TRUE(Expression::Compile("${" + Repeat("(!", kMaxNestingDepth / 2) + "true" +
                                  Repeat(")", kMaxNestingDepth / 2) + "}"));
  const std::string past_conditionals = conditionals(kMaxNestingDepth + 1);
  size_t last_question = past_conditionals.rfind('?');
  ExpectCompileErrors({
      {parens(kMaxNestingDepth + 1), 2 + kMaxNestingDepth, "nested more than 32 levels"},
      {bangs(kMaxNestingDepth + 1), 2 + kMaxNestingDepth, "nested more than 32 levels"},
      {past_conditionals, last_question, "nested more than 32 levels"},
      {"${" + Repeat("(!", kMaxNestingDepth / 2) + "(true" + Repeat(")", kMaxNestingDepth / 2) +
           ")}",
       2 + kMaxNestingDepth, "nested more than 32 levels"},
      // As deep as the length allows: fails at the same place, without exhausting the stack.
      {parens(2000), 2 + kMaxNestingDepth, "nested more than 32 levels"},
      {bangs(4000), 2 + kMaxNestingDepth, "nested more than 32 levels"},
      // Deeper still is over the length bound first.
      {parens(10000), kMaxValueBytes, "longer than"},
      {bangs(10000), kMaxValueBytes, "longer than"},
  });
  EXPECT_FALSE(Expression::Compile("${" + Repeat("(", 10000) + "}"));
  EXPECT_FALSE(Expression::Compile("${" + Repeat("!", 4090) + "}"));
}

TEST_F(ExpressionTest, ChainsAreNotNesting) {
  // Long chains of one operator are parsed iteratively: no nesting limit applies.
  std::string sum = "${" + kAssertion + ".n";
  for (int i = 1; i < 100; ++i) sum += " + 1";  // 199 nodes
  EXPECT_EQ(Eval(sum + "}"), "141");
  std::string conjunction = "${" + kAssertion + ".flag";
  for (int i = 1; i < 70; ++i) conjunction += " && " + kAssertion + ".flag";  // 3.5 KB
  EXPECT_EQ(Eval(conjunction + "}"), "true");
  std::string text = "${'a'";
  for (int i = 1; i < 120; ++i) text += "+'a'";  // 239 nodes, folded
  EXPECT_EQ(Eval(text + "}"), "\"" + Repeat("a", 120) + "\"");
}

TEST(ExpressionCompile, NodeLimit) {
  // `true&&true...`: n literals and n - 1 operators; a `!` adds one node.
  auto chain = [](size_t literals, size_t bangs) {
    return "${" + Repeat("!", bangs) + "true" + Repeat("&&true", literals - 1) + "}";
  };
  ASSERT_EQ(kMaxExpressionNodes, 256u);
  auto at_limit = Expression::Compile(chain(128, 1));  // 128 + 127 + 1 = 256 nodes
  ASSERT_TRUE(at_limit) << at_limit.error().message;
  EXPECT_TRUE(at_limit->IsStatic());
  const std::string past = chain(128, 2);  // 257: the last literal is one too many
  ExpectCompileErrors({
      {past, past.size() - 5, "more than 256"},
      {chain(129, 0), chain(129, 0).size() - 5, "more than 256"},
      {"${" + Repeat("1+", 2000) + "1}", 2 + 2 * 128, "more than 256"},
  });
}

TEST_F(ExpressionTest, DeepStack) {
  // Right-nested operands keep many values on the stack at once.
  std::string value = "${";
  for (int i = 0; i < 30; ++i) value += "(" + kClientId + " + ";
  value += "'x'" + Repeat(")", 30) + "}";
  EXPECT_EQ(Eval(value), "\"" + Repeat("client-1", 30) + "x\"");
  // Every precedence level in every one of 15 nested levels (2 nestings each: ( and ?).
  const std::string flag = kAssertion + ".flag";
  const std::string n = kAssertion + ".n";
  std::string nested = flag;  // level k is true when k is even
  for (int k = 1; k <= 15; ++k) {
    std::string level = "!";
    level.append(flag).append(" || ").append(flag).append(" && ").append(n).append(" == ");
    level.append(n).append(" + (").append(nested).append(" ? 1 : 0)");
    nested = std::move(level);
  }
  EXPECT_EQ(Eval(Wrap(nested)), "false");
  EXPECT_EQ(Eval(Wrap("(" + nested + ") ?: 1")), "false");
}

TEST_F(ExpressionTest, CopiesShareAndAreThreadSafe) {
  auto compiled = Expression::Compile(
      Wrap(kAuthMethod + " == 'PRIVATE_KEY_JWT' ? 'strong-' + " + kClientId + " : 'basic'"));
  ASSERT_TRUE(compiled);
  std::vector<Expression> stored(3, *compiled);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string out;
        if (!stored[t % stored.size()].AppendJson(context_, out) || out != R"("strong-client-1")") {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace tollgate::claims
