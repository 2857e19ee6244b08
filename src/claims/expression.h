#pragma once
// Resource attribute values (PingOne "resource attributes"): the claims an administrator adds to
// the tokens of a resource. A value is either a static string or an expression `${...}` in a
// small SpEL-like language, compiled once when the attribute is written and evaluated for every
// token request against a Context.
//
// The language, inside `${` and a final `}` (whitespace allowed between tokens):
//   literals    'text' ('' is a quote), "text" ("" is a quote), decimal int64, true, false, null
//   paths       #root.context.appConfig.clientId
//               #root.context.appConfig.tokenEndpointAuthMethod
//               #root.context.requestData.grantType
//               #root.context.requestData.scope
//               #root.context.requestData.clientAssertion        } JSON objects, followed by any
//               #root.context.requestData.clientAssertionHeader  } number of .name, ['key'] or
//               #root.context.requestData.subjectToken           } [n] segments; a path that
//               #root.context.requestData.actorToken             } resolves to nothing is null
//   operators   loosest to tightest: c ? a : b (right-associative), a ?: b (a unless a is null),
//               || or, && and, == !=, +, unary !, parentheses
// `==` compares structurally (1 == 1.0 is true, objects key by key regardless of order, values of
// different types are unequal). `+` concatenates when either operand is a string (an int or bool
// operand is written as its text), adds two ints, and is a type error otherwise. `!`, `&&`, `||`
// and the condition of `?:` need bools; `&&` and `||` short-circuit.
//
// Limits, so that no value can exhaust the stack, memory or time: a value holds at most
// kMaxValueBytes bytes, an expression at most kMaxExpressionNodes nodes (literals, paths and
// operators, counted as written) and at most kMaxNestingDepth levels of nesting (parentheses, `!`,
// the branches of `?:`; a chain like a + b + c is not nesting).

#include <boost/json/fwd.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace tollgate::claims {

inline constexpr size_t kMaxValueBytes = 4096;        // attribute value length bound
inline constexpr size_t kMaxResultBytes = 16 * 1024;  // serialized result bound
inline constexpr size_t kMaxExpressionNodes = 256;
inline constexpr size_t kMaxNestingDepth = 32;

// What an expression reads; borrowed, valid during AppendJson. Absent fields are null: an empty
// string_view and a null pointer are absent (an empty `scope` string is the empty string).
struct Context {
  std::string_view client_id;
  std::string_view token_endpoint_auth_method;  // wire name, e.g. "CLIENT_SECRET_BASIC"
  std::string_view grant_type;                  // e.g. "client_credentials"
  const std::string* scope = nullptr;  // the request's `scope` parameter as sent; null when absent
  // Payload of the client's JWT assertion (CLIENT_SECRET_JWT / PRIVATE_KEY_JWT), else null.
  const boost::json::object* client_assertion = nullptr;
  const boost::json::object* client_assertion_header = nullptr;  // its JOSE header
  const boost::json::object* subject_token = nullptr;  // token exchange: the subject token's claims
  const boost::json::object* actor_token = nullptr;    // and the actor token's
};

// Why a value does not compile. Client-safe: shown to the administrator (HTTP 400).
struct CompileError {
  size_t position = 0;  // 0-based byte offset in the attribute value where the error is
  std::string message;  // English, e.g. "unknown property 'foo'", "unterminated string literal"
};

enum class EvalError {
  kNull,      // the result is null (a missing claim, a null literal): the caller omits the claim
  kType,      // an operand of the wrong type, or an int overflow in `+`
  kTooLarge,  // the serialized result, or a string built by `+`, is over kMaxResultBytes (also:
              // memory exhausted, or JSON nested too deeply to compare)
};

// A compiled attribute value. Immutable: copies share one compiled program, and every method is
// const and safe to call from any number of threads at once.
class Expression {
 public:
  // A `value` not starting with "${" is a static string (the claim is that JSON string; any text
  // is allowed but it must be valid UTF-8). Starting with "${", the value must end with the
  // matching "}" as its last byte, and what is between is compiled. Subexpressions that read no
  // path are evaluated now (constant folding): an operation that would always fail is an error
  // here. Errors: longer than kMaxValueBytes (position kMaxValueBytes), invalid UTF-8 (where the
  // first invalid sequence starts), syntax, unknown properties, limits, and a constant result over
  // kMaxResultBytes once serialized (position 0).
  static Result<Expression, CompileError> Compile(std::string_view value);

  // True when the value does not depend on the context (a static string, or an expression that
  // folded to a constant); AppendJson then always gives the same answer.
  bool IsStatic() const;

  // Appends the claim's value as JSON (a string, number, bool, object or array) to `out`. On
  // failure appends nothing and returns the error (EvalError). Never throws; allocates only for
  // strings built by `+`, for serializing objects and arrays, and for growing `out`.
  Result<void, EvalError> AppendJson(const Context& context, std::string& out) const;

  // Which parts of the context the expression reads (after folding), so that callers can skip
  // parsing what nobody reads.
  bool ReadsClientAssertion() const;  // clientAssertion or clientAssertionHeader
  bool ReadsExchangeTokens() const;   // subjectToken or actorToken

  struct Program;  // the compiled form, defined in expression.cc

 private:
  explicit Expression(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

  std::shared_ptr<const Program> program_;  // never null, except in a moved-from Expression
};

}  // namespace tollgate::claims
