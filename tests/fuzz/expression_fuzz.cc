// Fuzz target: resource attribute values (claims/expression.h). The input is the value an
// administrator writes. When it compiles, it is evaluated against a fixed context whose client
// assertion holds a nested object, an array, a double and strings, and the answer must be valid
// JSON within kMaxResultBytes (or an error, with nothing appended); a static value, or one that
// does not read a part of the context, must give the same answer without it.
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "claims/expression.h"

namespace {

using tollgate::claims::Context;
using tollgate::claims::EvalError;
using tollgate::claims::Expression;

const boost::json::object& Assertion() {
  static const boost::json::object kAssertion =
      boost::json::parse(R"({"iss":"client-1","sub":"client-1","aud":["https://as","x"],)"
                         R"("exp":1700000000,"ratio":0.25,"big":18446744073709551615,)"
                         R"("a.b":"dotted","org":{"id":"o-1","tags":["a","b",{"k":null}]},)"
                         R"("flag":true,"empty":{},"quote":"say \"hi\"\n"})")
          .as_object();
  return kAssertion;
}

const boost::json::object& Header() {
  static const boost::json::object kHeader =
      boost::json::parse(R"({"alg":"PS256","kid":"k1","typ":"JWT"})").as_object();
  return kHeader;
}

// The result of one evaluation, as text: the JSON, or the error.
std::string Evaluate(const Expression& expression, const Context& context) {
  std::string out = "prefix";
  const auto result = expression.AppendJson(context, out);
  if (!result) {
    if (out != "prefix") __builtin_trap();  // nothing appended on failure
    return "error " + std::to_string(static_cast<int>(result.error()));
  }
  const std::string_view json = std::string_view(out).substr(6);
  if (json.empty() || json.size() > tollgate::claims::kMaxResultBytes) __builtin_trap();
  std::error_code ec;
  boost::json::parse(json, ec);
  if (ec) __builtin_trap();
  return std::string(json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  auto compiled = Expression::Compile(value);
  if (!compiled) {
    if (compiled.error().position > value.size() || compiled.error().message.empty()) {
      __builtin_trap();
    }
    return 0;
  }
  const Expression& expression = *compiled;
  const std::string scope = "openid orders:read";
  Context full;
  full.client_id = "client-1";
  full.token_endpoint_auth_method = "PRIVATE_KEY_JWT";
  full.grant_type = "client_credentials";
  full.scope = &scope;
  full.client_assertion = &Assertion();
  full.client_assertion_header = &Header();
  full.subject_token = &Assertion();
  full.actor_token = &Header();
  const std::string answer = Evaluate(expression, full);

  if (expression.IsStatic() && Evaluate(expression, Context{}) != answer) __builtin_trap();
  Context partial = full;
  if (!expression.ReadsClientAssertion()) {
    partial.client_assertion = nullptr;
    partial.client_assertion_header = nullptr;
  }
  if (!expression.ReadsExchangeTokens()) {
    partial.subject_token = nullptr;
    partial.actor_token = nullptr;
  }
  if (Evaluate(expression, partial) != answer) __builtin_trap();
  const Expression copy = expression;  // copies share the program
  if (Evaluate(copy, full) != answer) __builtin_trap();
  return 0;
}
