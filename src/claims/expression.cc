#include "claims/expression.h"

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <vector>

#include "common/form.h"

namespace tollgate::claims {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Values, and the operations on them, shared by constant folding and evaluation.

enum class Kind : uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kObject, kArray };

// A value on the evaluation stack: trivially copyable, and borrowing everything it refers to
// (the program's constants, the context, or the evaluation's arena of built strings).
struct Value {
  Kind kind;
  bool in_arena;  // kString: `offset` is into the arena, not `chars`
  union {
    bool boolean;
    int64_t integer;
    uint64_t uinteger;  // only above INT64_MAX
    double real;
    const char* chars;
    size_t offset;
    const json::object* object;
    const json::array* array;
  };
  size_t length;  // kString
};

Value NullValue() {
  Value v{};
  v.kind = Kind::kNull;
  return v;
}

Value BoolValue(bool b) {
  Value v{};
  v.kind = Kind::kBool;
  v.boolean = b;
  return v;
}

Value IntValue(int64_t i) {
  Value v{};
  v.kind = Kind::kInt;
  v.integer = i;
  return v;
}

Value StringValue(std::string_view s) {
  Value v{};
  v.kind = Kind::kString;
  v.chars = s.data();
  v.length = s.size();
  return v;
}

Value ArenaValue(size_t offset, size_t length) {
  Value v{};
  v.kind = Kind::kString;
  v.in_arena = true;
  v.offset = offset;
  v.length = length;
  return v;
}

Value ObjectValue(const json::object* object) {
  Value v{};
  v.kind = Kind::kObject;
  v.object = object;
  return v;
}

Value FromJson(const json::value& jv) {
  Value v{};
  switch (jv.kind()) {
    case json::kind::null:
      v.kind = Kind::kNull;
      break;
    case json::kind::bool_:
      v.kind = Kind::kBool;
      v.boolean = jv.get_bool();
      break;
    case json::kind::int64:
      v.kind = Kind::kInt;
      v.integer = jv.get_int64();
      break;
    case json::kind::uint64:
      if (jv.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        v.kind = Kind::kInt;
        v.integer = static_cast<int64_t>(jv.get_uint64());
      } else {
        v.kind = Kind::kUint;
        v.uinteger = jv.get_uint64();
      }
      break;
    case json::kind::double_:
      v.kind = Kind::kDouble;
      v.real = jv.get_double();
      break;
    case json::kind::string:
      v.kind = Kind::kString;
      v.chars = jv.get_string().data();
      v.length = jv.get_string().size();
      break;
    case json::kind::array:
      v.kind = Kind::kArray;
      v.array = &jv.get_array();
      break;
    case json::kind::object:
      v.kind = Kind::kObject;
      v.object = &jv.get_object();
      break;
  }
  return v;
}

std::string_view View(const Value& v, const std::string& arena) {
  return v.in_arena ? std::string_view(arena.data() + v.offset, v.length)
                    : std::string_view(v.chars, v.length);
}

bool IsContainer(Kind k) { return k == Kind::kObject || k == Kind::kArray; }

bool IsNumber(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

size_t ContainerSize(const Value& v) {
  return v.kind == Kind::kObject ? v.object->size() : v.array->size();
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kInt:
    case Kind::kUint:
      return "an integer";
    case Kind::kDouble:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kObject:
      return "an object";
    case Kind::kArray:
      return "an array";
  }
  return "a value";
}

// An integer equals a double when the double is exactly that integer.
bool IntegerEqualsDouble(const Value& n, double d) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  if (n.kind == Kind::kInt) {
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
    return static_cast<int64_t>(d) == n.integer;
  }
  if (d < 0 || d >= 18446744073709551616.0) return false;
  return static_cast<uint64_t>(d) == n.uinteger;
}

bool NumbersEqual(const Value& a, const Value& b) {
  if (a.kind == Kind::kDouble && b.kind == Kind::kDouble) return a.real == b.real;
  if (a.kind == Kind::kDouble) return IntegerEqualsDouble(b, a.real);
  if (b.kind == Kind::kDouble) return IntegerEqualsDouble(a, b.real);
  if (a.kind != b.kind) return false;  // kUint is only above INT64_MAX
  return a.kind == Kind::kInt ? a.integer == b.integer : a.uinteger == b.uinteger;
}

// Equality of two values that are not both containers.
bool ScalarsEqual(const Value& a, const Value& b, const std::string& arena) {
  if (IsNumber(a.kind) && IsNumber(b.kind)) return NumbersEqual(a, b);
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.boolean == b.boolean;
    case Kind::kString:
      return View(a, arena) == View(b, arena);
    default:
      return false;
  }
}

// How deep two containers are compared; JSON nested deeper fails with kTooLarge. Parsed JSON is
// shallower (Boost.JSON's default limit is 32).
constexpr size_t kMaxCompareDepth = 64;

// Structural equality of two containers of the same kind and size, without recursion.
Result<bool, EvalError> ContainersEqual(const Value& a, const Value& b) {
  struct Frame {
    Value a;
    Value b;
    size_t next;
  };
  std::array<Frame, kMaxCompareDepth> frames;
  size_t depth = 0;
  frames[depth++] = Frame{a, b, 0};
  const std::string no_arena;
  while (depth > 0) {
    Frame& f = frames[depth - 1];
    if (f.next == ContainerSize(f.a)) {
      --depth;
      continue;
    }
    const json::value* x = nullptr;
    const json::value* y = nullptr;
    if (f.a.kind == Kind::kObject) {
      const json::key_value_pair& entry = *(f.a.object->begin() + f.next);
      x = &entry.value();
      y = f.b.object->if_contains(entry.key());
      if (y == nullptr) return false;
    } else {
      x = &(*f.a.array)[f.next];
      y = &(*f.b.array)[f.next];
    }
    ++f.next;
    const Value vx = FromJson(*x);
    const Value vy = FromJson(*y);
    if (IsContainer(vx.kind) || IsContainer(vy.kind)) {
      if (vx.kind != vy.kind || ContainerSize(vx) != ContainerSize(vy)) return false;
      if (depth == kMaxCompareDepth) return Fail(EvalError::kTooLarge);
      frames[depth++] = Frame{vx, vy, 0};
    } else if (!ScalarsEqual(vx, vy, no_arena)) {
      return false;
    }
  }
  return true;
}

Result<bool, EvalError> Equal(const Value& a, const Value& b, const std::string& arena) {
  if (IsContainer(a.kind) || IsContainer(b.kind)) {
    if (a.kind != b.kind || ContainerSize(a) != ContainerSize(b)) return false;
    return ContainersEqual(a, b);
  }
  return ScalarsEqual(a, b, arena);
}

// The text an operand of a string `+` stands for: a string itself, an int in decimal, a bool as
// true/false. std::nullopt for any other kind. Ints are written into `buffer`.
using NumberBuffer = std::array<char, 24>;
std::optional<std::string_view> TextOf(const Value& v, const std::string& arena,
                                       NumberBuffer& buffer) {
  switch (v.kind) {
    case Kind::kString:
      return View(v, arena);
    case Kind::kBool:
      return v.boolean ? std::string_view("true") : std::string_view("false");
    case Kind::kInt:
    case Kind::kUint: {
      const auto r = v.kind == Kind::kInt
                         ? std::to_chars(buffer.data(), buffer.data() + buffer.size(), v.integer)
                         : std::to_chars(buffer.data(), buffer.data() + buffer.size(), v.uinteger);
      return std::string_view(buffer.data(), static_cast<size_t>(r.ptr - buffer.data()));
    }
    default:
      return std::nullopt;
  }
}

// `a + b`. Strings are built in `arena` (the result refers to it by offset).
Result<Value, EvalError> Add(const Value& a, const Value& b, std::string& arena) {
  if (a.kind == Kind::kString || b.kind == Kind::kString) {
    NumberBuffer a_buffer;
    NumberBuffer b_buffer;
    const std::optional<std::string_view> a_text = TextOf(a, arena, a_buffer);
    const std::optional<std::string_view> b_text = TextOf(b, arena, b_buffer);
    if (!a_text || !b_text) return Fail(EvalError::kType);
    const size_t length = a_text->size() + b_text->size();
    if (length > kMaxResultBytes) return Fail(EvalError::kTooLarge);
    // The texts are views; take their places before the arena may move.
    const bool a_in_arena = a.kind == Kind::kString && a.in_arena;
    const bool b_in_arena = b.kind == Kind::kString && b.in_arena;
    if (a_in_arena && a.offset + a.length == arena.size()) {
      // `a` is the newest string of the arena (a + b + c ...): extend it in place.
      arena.reserve(arena.size() + b_text->size());
      arena.append(b_in_arena ? View(b, arena) : *b_text);
      return ArenaValue(a.offset, length);
    }
    const size_t offset = arena.size();
    arena.reserve(offset + length);  // no reallocation below: views into the arena stay valid
    arena.append(a_in_arena ? View(a, arena) : *a_text);
    arena.append(b_in_arena ? View(b, arena) : *b_text);
    return ArenaValue(offset, length);
  }
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
    int64_t sum = 0;
    if (__builtin_add_overflow(a.integer, b.integer, &sum)) return Fail(EvalError::kType);
    return IntValue(sum);
  }
  return Fail(EvalError::kType);
}

// Appends what a Boost.JSON serializer (already reset) writes, within kMaxResultBytes.
Result<void, EvalError> AppendSerialized(json::serializer& serializer, std::string& out) {
  const size_t start = out.size();
  std::array<char, 2048> buffer;
  while (!serializer.done()) {
    const std::string_view chunk = serializer.read(buffer.data(), buffer.size());
    if (out.size() - start + chunk.size() > kMaxResultBytes) {
      out.resize(start);
      return Fail(EvalError::kTooLarge);
    }
    out.append(chunk);
  }
  return {};
}

// Appends `v` as JSON, within kMaxResultBytes; appends nothing on failure.
Result<void, EvalError> AppendValueJson(const Value& v, const std::string& arena,
                                        std::string& out) {
  switch (v.kind) {
    case Kind::kNull:
      return Fail(EvalError::kNull);
    case Kind::kBool:
      out.append(v.boolean ? "true" : "false");
      return {};
    case Kind::kInt:
    case Kind::kUint: {
      NumberBuffer buffer;
      out.append(*TextOf(v, arena, buffer));
      return {};
    }
    case Kind::kString: {
      const std::string_view text = View(v, arena);
      if (text.size() + 2 > kMaxResultBytes) return Fail(EvalError::kTooLarge);
      const size_t start = out.size();
      AppendJsonString(out, text);
      if (out.size() - start > kMaxResultBytes) {
        out.resize(start);
        return Fail(EvalError::kTooLarge);
      }
      return {};
    }
    case Kind::kDouble: {
      const json::value number(v.real);
      json::serializer serializer;
      serializer.reset(&number);
      return AppendSerialized(serializer, out);
    }
    case Kind::kObject: {
      json::serializer serializer;
      serializer.reset(v.object);
      return AppendSerialized(serializer, out);
    }
    case Kind::kArray: {
      json::serializer serializer;
      serializer.reset(v.array);
      return AppendSerialized(serializer, out);
    }
  }
  return Fail(EvalError::kType);
}

// ---------------------------------------------------------------------------------------------
// The compiled program: postfix instructions over a value stack.

enum class Root : uint8_t {
  kClientId,
  kTokenEndpointAuthMethod,
  kGrantType,
  kScope,
  kClientAssertion,
  kClientAssertionHeader,
  kSubjectToken,
  kActorToken,
};

bool IsJsonRoot(Root r) { return r >= Root::kClientAssertion; }

struct Step {
  bool is_index = false;
  size_t index = 0;       // is_index: the array element
  size_t key_offset = 0;  // else: the object member's name, in the pool
  size_t key_length = 0;
};

struct PathRef {
  Root root = Root::kClientId;
  size_t first_step = 0;  // in Program::steps
  size_t step_count = 0;
};

struct Constant {
  Kind kind = Kind::kNull;  // kNull, kBool, kInt or kString
  bool boolean = false;
  int64_t integer = 0;
  size_t offset = 0;  // kString, in the pool
  size_t length = 0;
};

enum class Op : uint8_t {
  kPushConstant,  // arg: constant
  kPushPath,      // arg: path
  kNot,           // top must be a bool
  kCheckBool,     // top must be a bool
  kEqual,
  kNotEqual,
  kAdd,
  kAndJump,      // top must be a bool; false: jump to arg, keeping it; true: pop it
  kOrJump,       // top must be a bool; true: jump to arg, keeping it; false: pop it
  kElvisJump,    // top not null: jump to arg, keeping it; null: pop it
  kIfFalseJump,  // pop the top, which must be a bool; false: jump to arg
  kJump,
};

struct Instruction {
  Op op;
  uint32_t arg;
};

// Enough for any program: the stack never holds more values than the program has leaves.
constexpr size_t kMaxStack = kMaxExpressionNodes;

}  // namespace

struct Expression::Program {
  std::vector<Instruction> code;
  std::vector<Constant> constants;
  std::vector<PathRef> paths;
  std::vector<Step> steps;
  std::string pool;  // the strings of constants and path keys
  size_t max_stack = 0;
  bool is_static = false;
  bool static_null = false;  // is_static: the constant is null
  std::string static_json;   // is_static and not null: the constant as JSON
  bool reads_client_assertion = false;
  bool reads_exchange_tokens = false;
};

namespace {

using Program = Expression::Program;

Value ConstantValue(const Program& program, const Constant& c) {
  switch (c.kind) {
    case Kind::kBool:
      return BoolValue(c.boolean);
    case Kind::kInt:
      return IntValue(c.integer);
    case Kind::kString:
      return StringValue(std::string_view(program.pool).substr(c.offset, c.length));
    default:
      return NullValue();
  }
}

Value Resolve(const Program& program, const PathRef& path, const Context& context) {
  const json::object* root = nullptr;
  std::string_view text;
  switch (path.root) {
    case Root::kClientId:
      text = context.client_id;
      return text.empty() ? NullValue() : StringValue(text);
    case Root::kTokenEndpointAuthMethod:
      text = context.token_endpoint_auth_method;
      return text.empty() ? NullValue() : StringValue(text);
    case Root::kGrantType:
      text = context.grant_type;
      return text.empty() ? NullValue() : StringValue(text);
    case Root::kScope:
      return context.scope == nullptr ? NullValue() : StringValue(*context.scope);
    case Root::kClientAssertion:
      root = context.client_assertion;
      break;
    case Root::kClientAssertionHeader:
      root = context.client_assertion_header;
      break;
    case Root::kSubjectToken:
      root = context.subject_token;
      break;
    case Root::kActorToken:
      root = context.actor_token;
      break;
  }
  if (root == nullptr) return NullValue();
  if (path.step_count == 0) return ObjectValue(root);
  const json::value* current = nullptr;
  for (size_t i = 0; i < path.step_count; ++i) {
    const Step& step = program.steps[path.first_step + i];
    if (step.is_index) {
      const json::array* array = current == nullptr ? nullptr : current->if_array();
      if (array == nullptr || step.index >= array->size()) return NullValue();
      current = &(*array)[step.index];
    } else {
      const json::object* object = current == nullptr ? root : current->if_object();
      if (object == nullptr) return NullValue();
      current = object->if_contains(
          std::string_view(program.pool).substr(step.key_offset, step.key_length));
      if (current == nullptr) return NullValue();
    }
  }
  return FromJson(*current);
}

Result<void, EvalError> Run(const Program& program, const Context& context, std::string& out) {
  // Trivially constructible: no cost for the slots a program does not use.
  std::array<Value, kMaxStack> stack;
  size_t sp = 0;      // values on the stack
  std::string arena;  // strings built by `+`
  size_t pc = 0;
  while (pc < program.code.size()) {
    const Instruction in = program.code[pc++];
    switch (in.op) {
      case Op::kPushConstant:
        stack[sp++] = ConstantValue(program, program.constants[in.arg]);
        break;
      case Op::kPushPath:
        stack[sp++] = Resolve(program, program.paths[in.arg], context);
        break;
      case Op::kNot:
        if (stack[sp - 1].kind != Kind::kBool) return Fail(EvalError::kType);
        stack[sp - 1].boolean = !stack[sp - 1].boolean;
        break;
      case Op::kCheckBool:
        if (stack[sp - 1].kind != Kind::kBool) return Fail(EvalError::kType);
        break;
      case Op::kEqual:
      case Op::kNotEqual: {
        const Result<bool, EvalError> equal = Equal(stack[sp - 2], stack[sp - 1], arena);
        if (!equal) return Fail(equal.error());
        --sp;
        stack[sp - 1] = BoolValue(*equal != (in.op == Op::kNotEqual));
        break;
      }
      case Op::kAdd: {
        const Result<Value, EvalError> sum = Add(stack[sp - 2], stack[sp - 1], arena);
        if (!sum) return Fail(sum.error());
        --sp;
        stack[sp - 1] = *sum;
        break;
      }
      case Op::kAndJump:
      case Op::kOrJump: {
        const Value& top = stack[sp - 1];
        if (top.kind != Kind::kBool) return Fail(EvalError::kType);
        if (top.boolean == (in.op == Op::kOrJump)) {
          pc = in.arg;
        } else {
          --sp;
        }
        break;
      }
      case Op::kElvisJump:
        if (stack[sp - 1].kind != Kind::kNull) {
          pc = in.arg;
        } else {
          --sp;
        }
        break;
      case Op::kIfFalseJump: {
        const Value& top = stack[sp - 1];
        if (top.kind != Kind::kBool) return Fail(EvalError::kType);
        --sp;
        if (!top.boolean) pc = in.arg;
        break;
      }
      case Op::kJump:
        pc = in.arg;
        break;
    }
  }
  return AppendValueJson(stack[0], arena, out);
}

// ---------------------------------------------------------------------------------------------
// Compiling: a recursive-descent parser (nesting bounded by kMaxNestingDepth) that builds a
// small tree, folding constants as it goes, then code generation.

// The offset of the first byte of `text` that does not start or continue a well-formed UTF-8
// character (RFC 3629), or npos.
size_t FirstInvalidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80;  // the range of the second byte
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;  // at most U+10FFFF
    } else {
      return i;
    }
    if (i + length > n || p[i + 1] < low || p[i + 1] > high) return i;
    for (size_t k = 2; k < length; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

// A constant of the source or of folding.
struct Literal {
  Kind kind = Kind::kNull;  // kNull, kBool, kInt or kString
  bool boolean = false;
  int64_t integer = 0;
  std::string text;
};

Value LiteralValue(const Literal& l) {
  switch (l.kind) {
    case Kind::kBool:
      return BoolValue(l.boolean);
    case Kind::kInt:
      return IntValue(l.integer);
    case Kind::kString:
      return StringValue(l.text);
    default:
      return NullValue();
  }
}

Literal ToLiteral(const Value& v, const std::string& arena) {
  Literal l;
  l.kind = v.kind;
  if (v.kind == Kind::kBool) l.boolean = v.boolean;
  if (v.kind == Kind::kInt) l.integer = v.integer;
  if (v.kind == Kind::kString) l.text = View(v, arena);
  return l;
}

struct ParsedStep {
  bool is_index = false;
  size_t index = 0;
  std::string key;
};

struct ParsedPath {
  Root root = Root::kClientId;
  std::vector<ParsedStep> steps;
};

enum class NodeKind : uint8_t {
  kConstant,
  kPath,
  kNot,
  kCheckBool,
  kEqual,
  kNotEqual,
  kAdd,
  kAnd,
  kOr,
  kElvis,
  kConditional,
};

struct Node {
  NodeKind kind = NodeKind::kConstant;
  int a = -1;  // operands
  int b = -1;
  int c = -1;
  Literal constant;  // kConstant
  size_t path = 0;   // kPath: in Parser::paths_
};

enum class Tok : uint8_t {
  kEnd,  // the end of the value, without a closing brace
  kCloseBrace,
  kString,
  kInteger,
  kIdentifier,
  kVariable,  // #name
  kDot,
  kLeftBracket,
  kRightBracket,
  kLeftParen,
  kRightParen,
  kQuestion,
  kElvis,
  kColon,
  kOr,
  kAnd,
  kEqual,
  kNotEqual,
  kPlus,
  kBang,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t position = 0;
  std::string text;  // kString: the literal's value; kIdentifier, kVariable: the name
  int64_t integer = 0;
};

constexpr int kFailed = -1;

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

bool IsIdentifierPart(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

// A name from the value, quoted for an error message and cut to a readable length.
std::string Quoted(std::string_view name) {
  constexpr size_t kMaxShown = 64;
  std::string quoted = "'";
  quoted.append(name.substr(0, kMaxShown));
  if (name.size() > kMaxShown) quoted.append("...");
  quoted.push_back('\'');
  return quoted;
}

class Parser {
 public:
  explicit Parser(std::string_view value) : value_(value) {}

  // Parses the whole `${...}` value; the root node, or kFailed with error() set.
  int ParseValue() {
    position_ = 2;
    if (!Advance()) return kFailed;
    const int root = ParseConditional();
    if (root == kFailed) return kFailed;
    if (token_.kind == Tok::kCloseBrace && token_.position == value_.size() - 1) return root;
    if (token_.kind == Tok::kEnd) return Error(token_.position, "missing closing '}'");
    if (token_.kind == Tok::kCloseBrace) {
      return Error(token_.position, "'}' before the end of the value");
    }
    return Unexpected();
  }

  const CompileError& error() const { return error_; }
  const std::vector<Node>& Nodes() const { return nodes_; }
  const std::vector<ParsedPath>& Paths() const { return paths_; }

 private:
  int Error(size_t position, std::string message) {
    error_.position = position;
    error_.message = std::move(message);
    return kFailed;
  }

  int Unexpected() {
    switch (token_.kind) {
      case Tok::kString:
        return Error(token_.position, "unexpected string literal");
      case Tok::kInteger:
        return Error(token_.position, "unexpected integer");
      case Tok::kIdentifier:
        return Error(token_.position, "unexpected identifier " + Quoted(token_.text));
      case Tok::kVariable:
        return Error(token_.position, "unexpected variable " + Quoted("#" + token_.text));
      case Tok::kEnd:
      case Tok::kCloseBrace:
        return Error(token_.position, "expected an expression");
      default:
        return Error(token_.position,
                     "unexpected " + Quoted(value_.substr(token_.position, TokenLength())));
    }
  }

  size_t TokenLength() const {
    switch (token_.kind) {
      case Tok::kElvis:
      case Tok::kOr:
      case Tok::kAnd:
      case Tok::kEqual:
      case Tok::kNotEqual:
        return 2;
      default:
        return 1;
    }
  }

  // Lexes the next token into token_. False on a lexical error.
  bool Advance() {
    while (position_ < value_.size() && (value_[position_] == ' ' || value_[position_] == '\t' ||
                                         value_[position_] == '\n' || value_[position_] == '\r')) {
      ++position_;
    }
    token_.position = position_;
    token_.text.clear();
    if (position_ >= value_.size()) {
      token_.kind = Tok::kEnd;
      return true;
    }
    const char c = value_[position_];
    const char next = position_ + 1 < value_.size() ? value_[position_ + 1] : '\0';
    auto simple = [&](Tok kind, size_t length) {
      token_.kind = kind;
      position_ += length;
      return true;
    };
    switch (c) {
      case '}':
        return simple(Tok::kCloseBrace, 1);
      case '.':
        return simple(Tok::kDot, 1);
      case '[':
        return simple(Tok::kLeftBracket, 1);
      case ']':
        return simple(Tok::kRightBracket, 1);
      case '(':
        return simple(Tok::kLeftParen, 1);
      case ')':
        return simple(Tok::kRightParen, 1);
      case ':':
        return simple(Tok::kColon, 1);
      case '+':
        return simple(Tok::kPlus, 1);
      case '?':
        return next == ':' ? simple(Tok::kElvis, 2) : simple(Tok::kQuestion, 1);
      case '!':
        return next == '=' ? simple(Tok::kNotEqual, 2) : simple(Tok::kBang, 1);
      case '|':
        if (next == '|') return simple(Tok::kOr, 2);
        break;
      case '&':
        if (next == '&') return simple(Tok::kAnd, 2);
        break;
      case '=':
        if (next == '=') return simple(Tok::kEqual, 2);
        break;
      case '\'':
      case '"':
        return LexString(c);
      case '#':
        if (!IsIdentifierStart(next)) {
          Error(position_ + 1, "expected a variable name after '#'");
          return false;
        }
        ++position_;
        LexIdentifier();
        token_.kind = Tok::kVariable;
        return true;
      default:
        if (c >= '0' && c <= '9') return LexInteger();
        if (IsIdentifierStart(c)) {
          LexIdentifier();
          token_.kind = Tok::kIdentifier;
          return true;
        }
        break;
    }
    if (c > ' ' && c < 0x7F) {
      Error(position_, "unexpected character " + Quoted(std::string_view(&c, 1)));
    } else {
      Error(position_, "unexpected character");
    }
    return false;
  }

  void LexIdentifier() {
    const size_t start = position_;
    while (position_ < value_.size() && IsIdentifierPart(value_[position_])) ++position_;
    token_.text.assign(value_.substr(start, position_ - start));
  }

  // SpEL: a quote inside a literal is written twice.
  bool LexString(char quote) {
    const size_t start = position_++;
    for (;;) {
      const size_t end = value_.find(quote, position_);
      if (end == std::string_view::npos) {
        Error(start, "unterminated string literal");
        return false;
      }
      token_.text.append(value_.substr(position_, end - position_));
      position_ = end + 1;
      if (position_ < value_.size() && value_[position_] == quote) {
        token_.text.push_back(quote);
        ++position_;
        continue;
      }
      token_.kind = Tok::kString;
      return true;
    }
  }

  bool LexInteger() {
    const size_t start = position_;
    int64_t n = 0;
    while (position_ < value_.size() && value_[position_] >= '0' && value_[position_] <= '9') {
      if (__builtin_mul_overflow(n, 10, &n) ||
          __builtin_add_overflow(n, value_[position_] - '0', &n)) {
        Error(start, "integer literal out of range");
        return false;
      }
      ++position_;
    }
    token_.kind = Tok::kInteger;
    token_.integer = n;
    return true;
  }

  bool IsWord(std::string_view word) const {
    return token_.kind == Tok::kIdentifier && token_.text == word;
  }

  bool CountNode(size_t position) {
    if (++node_count_ > kMaxExpressionNodes) {
      Error(position, "expression has more than " + std::to_string(kMaxExpressionNodes) +
                          " operands and operators");
      return false;
    }
    return true;
  }

  bool Enter(size_t position) {
    if (++depth_ > kMaxNestingDepth) {
      Error(position,
            "expression nested more than " + std::to_string(kMaxNestingDepth) + " levels deep");
      return false;
    }
    return true;
  }

  void Leave() { --depth_; }

  int AddNode(Node node) {
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size() - 1);
  }

  int AddConstant(Literal literal) {
    Node node;
    node.kind = NodeKind::kConstant;
    node.constant = std::move(literal);
    return AddNode(std::move(node));
  }

  int AddOperation(NodeKind kind, int a, int b = -1, int c = -1) {
    Node node;
    node.kind = kind;
    node.a = a;
    node.b = b;
    node.c = c;
    return AddNode(std::move(node));
  }

  bool IsConstant(int n) const {
    return nodes_[static_cast<size_t>(n)].kind == NodeKind::kConstant;
  }
  const Literal& ConstantOf(int n) const { return nodes_[static_cast<size_t>(n)].constant; }

  // cond := elvis ('?' cond ':' cond)?
  int ParseConditional() {
    const int condition = ParseElvis();
    if (condition == kFailed || token_.kind != Tok::kQuestion) return condition;
    const size_t position = token_.position;
    if (!Enter(position) || !CountNode(position) || !Advance()) return kFailed;
    const int then = ParseConditional();
    if (then == kFailed) return kFailed;
    if (token_.kind != Tok::kColon) {
      if (token_.kind == Tok::kEnd || token_.kind == Tok::kCloseBrace) {
        return Error(token_.position, "expected ':' of '?'");
      }
      return Unexpected();
    }
    if (!Advance()) return kFailed;
    const int otherwise = ParseConditional();
    if (otherwise == kFailed) return kFailed;
    Leave();
    if (!IsConstant(condition)) {
      return AddOperation(NodeKind::kConditional, condition, then, otherwise);
    }
    if (ConstantOf(condition).kind != Kind::kBool) {
      return Error(position, "the condition of '?' must be a boolean, not " +
                                 std::string(KindName(ConstantOf(condition).kind)));
    }
    return ConstantOf(condition).boolean ? then : otherwise;
  }

  // elvis := or ('?:' or)*
  int ParseElvis() {
    int left = ParseOr();
    while (left != kFailed && token_.kind == Tok::kElvis) {
      if (!CountNode(token_.position) || !Advance()) return kFailed;
      const int right = ParseOr();
      if (right == kFailed) return kFailed;
      if (!IsConstant(left)) {
        left = AddOperation(NodeKind::kElvis, left, right);
      } else if (ConstantOf(left).kind == Kind::kNull) {
        left = right;
      }
    }
    return left;
  }

  // or := and (('||' | 'or') and)*
  int ParseOr() {
    int left = ParseAnd();
    while (left != kFailed && (token_.kind == Tok::kOr || IsWord("or"))) {
      const size_t position = token_.position;
      if (!CountNode(position) || !Advance()) return kFailed;
      const int right = ParseAnd();
      if (right == kFailed) return kFailed;
      left = MakeLogical(NodeKind::kOr, left, right, position);
    }
    return left;
  }

  // and := equality (('&&' | 'and') equality)*
  int ParseAnd() {
    int left = ParseEquality();
    while (left != kFailed && (token_.kind == Tok::kAnd || IsWord("and"))) {
      const size_t position = token_.position;
      if (!CountNode(position) || !Advance()) return kFailed;
      const int right = ParseEquality();
      if (right == kFailed) return kFailed;
      left = MakeLogical(NodeKind::kAnd, left, right, position);
    }
    return left;
  }

  int MakeLogical(NodeKind kind, int left, int right, size_t position) {
    const char* name = kind == NodeKind::kAnd ? "'&&'" : "'||'";
    for (const int operand : {left, right}) {
      if (IsConstant(operand) && ConstantOf(operand).kind != Kind::kBool) {
        return Error(position, std::string("the operands of ") + name + " must be booleans, not " +
                                   KindName(ConstantOf(operand).kind));
      }
    }
    if (!IsConstant(left)) return AddOperation(kind, left, right);
    // A constant left operand decides, or leaves the right one (which must still be a bool).
    const bool decides = ConstantOf(left).boolean == (kind == NodeKind::kOr);
    if (decides || IsConstant(right)) return decides ? left : right;
    return AddOperation(NodeKind::kCheckBool, right);
  }

  // equality := add (('==' | '!=') add)*
  int ParseEquality() {
    int left = ParseAdd();
    while (left != kFailed && (token_.kind == Tok::kEqual || token_.kind == Tok::kNotEqual)) {
      const NodeKind kind = token_.kind == Tok::kEqual ? NodeKind::kEqual : NodeKind::kNotEqual;
      if (!CountNode(token_.position) || !Advance()) return kFailed;
      const int right = ParseAdd();
      if (right == kFailed) return kFailed;
      if (IsConstant(left) && IsConstant(right)) {
        const std::string no_arena;
        // Constants are never containers: no failure.
        const bool equal =
            Equal(LiteralValue(ConstantOf(left)), LiteralValue(ConstantOf(right)), no_arena)
                .value();
        left = AddConstant(Literal{Kind::kBool, equal == (kind == NodeKind::kEqual), 0, {}});
      } else {
        left = AddOperation(kind, left, right);
      }
    }
    return left;
  }

  // add := unary ('+' unary)*
  int ParseAdd() {
    int left = ParseUnary();
    while (left != kFailed && token_.kind == Tok::kPlus) {
      const size_t position = token_.position;
      if (!CountNode(position) || !Advance()) return kFailed;
      const int right = ParseUnary();
      if (right == kFailed) return kFailed;
      left = MakeAdd(left, right, position);
    }
    return left;
  }

  int MakeAdd(int left, int right, size_t position) {
    for (const int operand : {left, right}) {
      if (IsConstant(operand) && ConstantOf(operand).kind == Kind::kNull) {
        return Error(position, "cannot apply '+' to null");
      }
    }
    if (!IsConstant(left) || !IsConstant(right)) return AddOperation(NodeKind::kAdd, left, right);
    const Value a = LiteralValue(ConstantOf(left));
    const Value b = LiteralValue(ConstantOf(right));
    std::string arena;
    const Result<Value, EvalError> sum = Add(a, b, arena);
    if (!sum) {
      if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
        return Error(position, "integer overflow in '+'");
      }
      if (sum.error() == EvalError::kTooLarge) return Error(position, "string too long");
      return Error(position, std::string("cannot apply '+' to ") + KindName(a.kind) + " and " +
                                 KindName(b.kind));
    }
    return AddConstant(ToLiteral(*sum, arena));
  }

  // unary := '!' unary | primary
  int ParseUnary() {
    if (token_.kind != Tok::kBang) return ParsePrimary();
    const size_t position = token_.position;
    if (!Enter(position) || !CountNode(position) || !Advance()) return kFailed;
    const int operand = ParseUnary();
    if (operand == kFailed) return kFailed;
    Leave();
    if (!IsConstant(operand)) return AddOperation(NodeKind::kNot, operand);
    if (ConstantOf(operand).kind != Kind::kBool) {
      return Error(position, std::string("the operand of '!' must be a boolean, not ") +
                                 KindName(ConstantOf(operand).kind));
    }
    return AddConstant(Literal{Kind::kBool, !ConstantOf(operand).boolean, 0, {}});
  }

  int ParsePrimary() {
    const size_t position = token_.position;
    switch (token_.kind) {
      case Tok::kString: {
        if (!CountNode(position)) return kFailed;
        Literal literal{Kind::kString, false, 0, std::move(token_.text)};
        if (!Advance()) return kFailed;
        return AddConstant(std::move(literal));
      }
      case Tok::kInteger: {
        if (!CountNode(position)) return kFailed;
        const Literal literal{Kind::kInt, false, token_.integer, {}};
        if (!Advance()) return kFailed;
        return AddConstant(literal);
      }
      case Tok::kIdentifier: {
        Literal literal;
        if (token_.text == "true" || token_.text == "false") {
          literal.kind = Kind::kBool;
          literal.boolean = token_.text == "true";
        } else if (token_.text != "null") {
          return Error(position, "unknown identifier " + Quoted(token_.text));
        }
        if (!CountNode(position) || !Advance()) return kFailed;
        return AddConstant(std::move(literal));
      }
      case Tok::kVariable:
        if (token_.text != "root") {
          return Error(position, "unknown variable " + Quoted("#" + token_.text));
        }
        return ParsePath();
      case Tok::kLeftParen: {
        if (!Enter(position) || !Advance()) return kFailed;
        const int inner = ParseConditional();
        if (inner == kFailed) return kFailed;
        if (token_.kind != Tok::kRightParen) {
          if (token_.kind == Tok::kEnd || token_.kind == Tok::kCloseBrace) {
            return Error(token_.position, "missing ')'");
          }
          return Unexpected();
        }
        Leave();
        if (!Advance()) return kFailed;
        return inner;
      }
      default:
        return Unexpected();
    }
  }

  // Reads `.name` into `name`, with its position.
  bool ExpectProperty(std::string& name, size_t& position) {
    if (token_.kind != Tok::kDot) {
      Error(token_.position, "expected '.' and a property name");
      return false;
    }
    if (!Advance()) return false;
    if (token_.kind != Tok::kIdentifier) {
      Error(token_.position, "expected a property name");
      return false;
    }
    name = std::move(token_.text);
    position = token_.position;
    return Advance();
  }

  int UnknownProperty(const std::string& name, size_t position) {
    return Error(position, "unknown property " + Quoted(name));
  }

  // path := '#root' '.context' '.' group '.' member segment*; token_ is #root.
  int ParsePath() {
    if (!CountNode(token_.position) || !Advance()) return kFailed;
    std::string name;
    size_t position = 0;
    if (!ExpectProperty(name, position)) return kFailed;
    if (name != "context") return UnknownProperty(name, position);
    std::string group;
    if (!ExpectProperty(group, position)) return kFailed;
    if (group != "appConfig" && group != "requestData") return UnknownProperty(group, position);
    if (!ExpectProperty(name, position)) return kFailed;
    ParsedPath path;
    struct Member {
      std::string_view group;
      std::string_view name;
      Root root;
    };
    static constexpr Member kMembers[] = {
        {"appConfig", "clientId", Root::kClientId},
        {"appConfig", "tokenEndpointAuthMethod", Root::kTokenEndpointAuthMethod},
        {"requestData", "grantType", Root::kGrantType},
        {"requestData", "scope", Root::kScope},
        {"requestData", "clientAssertion", Root::kClientAssertion},
        {"requestData", "clientAssertionHeader", Root::kClientAssertionHeader},
        {"requestData", "subjectToken", Root::kSubjectToken},
        {"requestData", "actorToken", Root::kActorToken},
    };
    bool found = false;
    for (const Member& member : kMembers) {
      if (member.group == group && member.name == name) {
        path.root = member.root;
        found = true;
      }
    }
    if (!found) return UnknownProperty(name, position);
    while (token_.kind == Tok::kDot || token_.kind == Tok::kLeftBracket) {
      if (!IsJsonRoot(path.root)) {
        if (token_.kind == Tok::kLeftBracket) {
          return Error(token_.position, "a string has no elements");
        }
        if (!ExpectProperty(name, position)) return kFailed;
        return UnknownProperty(name, position);
      }
      ParsedStep step;
      if (token_.kind == Tok::kDot) {
        if (!ExpectProperty(step.key, position)) return kFailed;
      } else {
        if (!Advance()) return kFailed;
        if (token_.kind == Tok::kString) {
          step.key = std::move(token_.text);
        } else if (token_.kind == Tok::kInteger) {
          step.is_index = true;
          step.index = static_cast<size_t>(token_.integer);
        } else {
          return Error(token_.position, "expected a quoted key or an index in '[...]'");
        }
        if (!Advance()) return kFailed;
        if (token_.kind != Tok::kRightBracket) return Error(token_.position, "expected ']'");
        if (!Advance()) return kFailed;
      }
      path.steps.push_back(std::move(step));
    }
    paths_.push_back(std::move(path));
    Node node;
    node.kind = NodeKind::kPath;
    node.path = paths_.size() - 1;
    return AddNode(std::move(node));
  }

  std::string_view value_;
  size_t position_ = 0;  // of the next token
  Token token_;
  size_t depth_ = 0;
  size_t node_count_ = 0;
  std::vector<Node> nodes_;
  std::vector<ParsedPath> paths_;
  CompileError error_;
};

// Emits the tree's postfix program; recursion bounded by the tree's size (kMaxExpressionNodes).
class CodeGenerator {
 public:
  CodeGenerator(const Parser& parser, Program& program) : parser_(parser), program_(program) {}

  void Generate(int n) {
    const Node& node = parser_.Nodes()[static_cast<size_t>(n)];
    switch (node.kind) {
      case NodeKind::kConstant:
        Emit(Op::kPushConstant, AddConstant(node.constant));
        Push();
        break;
      case NodeKind::kPath:
        Emit(Op::kPushPath, AddPath(parser_.Paths()[node.path]));
        Push();
        break;
      case NodeKind::kNot:
        Generate(node.a);
        Emit(Op::kNot);
        break;
      case NodeKind::kCheckBool:
        Generate(node.a);
        Emit(Op::kCheckBool);
        break;
      case NodeKind::kEqual:
      case NodeKind::kNotEqual:
      case NodeKind::kAdd:
        Generate(node.a);
        Generate(node.b);
        Emit(node.kind == NodeKind::kAdd     ? Op::kAdd
             : node.kind == NodeKind::kEqual ? Op::kEqual
                                             : Op::kNotEqual);
        --height_;
        break;
      case NodeKind::kAnd:
      case NodeKind::kOr:
      case NodeKind::kElvis: {
        Generate(node.a);
        const size_t jump = Emit(node.kind == NodeKind::kAnd  ? Op::kAndJump
                                 : node.kind == NodeKind::kOr ? Op::kOrJump
                                                              : Op::kElvisJump);
        --height_;
        Generate(node.b);
        if (node.kind != NodeKind::kElvis) Emit(Op::kCheckBool);
        Patch(jump);
        break;
      }
      case NodeKind::kConditional: {
        Generate(node.a);
        const size_t to_else = Emit(Op::kIfFalseJump);
        --height_;
        Generate(node.b);
        const size_t to_end = Emit(Op::kJump);
        --height_;
        Patch(to_else);
        Generate(node.c);
        Patch(to_end);
        break;
      }
    }
  }

  size_t MaxHeight() const { return max_height_; }

 private:
  size_t Emit(Op op, size_t arg = 0) {
    program_.code.push_back(Instruction{op, static_cast<uint32_t>(arg)});
    return program_.code.size() - 1;
  }

  void Patch(size_t jump) { program_.code[jump].arg = static_cast<uint32_t>(program_.code.size()); }

  void Push() { max_height_ = std::max(max_height_, ++height_); }

  size_t AddString(std::string_view s) {
    const size_t offset = program_.pool.size();
    program_.pool.append(s);
    return offset;
  }

  size_t AddConstant(const Literal& literal) {
    Constant c;
    c.kind = literal.kind;
    c.boolean = literal.boolean;
    c.integer = literal.integer;
    if (literal.kind == Kind::kString) {
      c.offset = AddString(literal.text);
      c.length = literal.text.size();
    }
    program_.constants.push_back(c);
    return program_.constants.size() - 1;
  }

  size_t AddPath(const ParsedPath& parsed) {
    if (parsed.root == Root::kClientAssertion || parsed.root == Root::kClientAssertionHeader) {
      program_.reads_client_assertion = true;
    }
    if (parsed.root == Root::kSubjectToken || parsed.root == Root::kActorToken) {
      program_.reads_exchange_tokens = true;
    }
    PathRef path{parsed.root, program_.steps.size(), parsed.steps.size()};
    for (const ParsedStep& parsed_step : parsed.steps) {
      Step step;
      step.is_index = parsed_step.is_index;
      step.index = parsed_step.index;
      if (!step.is_index) {
        step.key_offset = AddString(parsed_step.key);
        step.key_length = parsed_step.key.size();
      }
      program_.steps.push_back(step);
    }
    program_.paths.push_back(path);
    return program_.paths.size() - 1;
  }

  const Parser& parser_;
  Program& program_;
  size_t height_ = 0;
  size_t max_height_ = 0;
};

Result<std::shared_ptr<const Program>, CompileError> BuildProgram(std::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return Fail(CompileError{kMaxValueBytes,
                             "value is longer than " + std::to_string(kMaxValueBytes) + " bytes"});
  }
  if (const size_t bad = FirstInvalidUtf8(value); bad != std::string_view::npos) {
    return Fail(CompileError{bad, "value is not valid UTF-8"});
  }
  auto program = std::make_shared<Program>();
  const std::string no_arena;
  Value constant = NullValue();
  Literal folded;
  if (!value.starts_with("${")) {
    constant = StringValue(value);  // PingOne: a value without ${...} is a static string
  } else {
    Parser parser(value);
    const int root = parser.ParseValue();
    if (root == kFailed) return Fail(parser.error());
    const Node& node = parser.Nodes()[static_cast<size_t>(root)];
    if (node.kind == NodeKind::kConstant) {
      folded = node.constant;
      constant = LiteralValue(folded);
    } else {
      CodeGenerator generator(parser, *program);
      generator.Generate(root);
      program->max_stack = generator.MaxHeight();
      if (program->max_stack > kMaxStack) {
        return Fail(CompileError{0, "expression is too complex"});  // unreachable: see kMaxStack
      }
      return std::shared_ptr<const Program>(std::move(program));
    }
  }
  program->is_static = true;
  program->static_null = constant.kind == Kind::kNull;
  if (!program->static_null) {
    if (!AppendValueJson(constant, no_arena, program->static_json)) {
      return Fail(CompileError{0, "value is longer than " + std::to_string(kMaxResultBytes) +
                                      " bytes once written as JSON"});
    }
  }
  return std::shared_ptr<const Program>(std::move(program));
}

}  // namespace

Result<Expression, CompileError> Expression::Compile(std::string_view value) {
  try {
    Result<std::shared_ptr<const Program>, CompileError> program = BuildProgram(value);
    if (!program) return Fail(std::move(program).error());
    return Expression(std::move(program).value());
  } catch (const std::exception&) {  // std::bad_alloc
    return Fail(CompileError{0, "not enough memory to compile the value"});
  }
}

bool Expression::IsStatic() const { return program_ != nullptr && program_->is_static; }

bool Expression::ReadsClientAssertion() const {
  return program_ != nullptr && program_->reads_client_assertion;
}

bool Expression::ReadsExchangeTokens() const {
  return program_ != nullptr && program_->reads_exchange_tokens;
}

Result<void, EvalError> Expression::AppendJson(const Context& context, std::string& out) const {
  if (program_ == nullptr) return Fail(EvalError::kNull);
  if (program_->is_static) {
    if (program_->static_null) return Fail(EvalError::kNull);
    try {
      out.append(program_->static_json);
    } catch (const std::exception&) {  // std::bad_alloc, std::length_error
      return Fail(EvalError::kTooLarge);
    }
    return {};
  }
  const size_t start = out.size();
  try {
    return Run(*program_, context, out);
  } catch (const std::exception&) {  // std::bad_alloc, from the arena, `out` or a serializer
    out.resize(start);
    return Fail(EvalError::kTooLarge);
  }
}

}  // namespace tollgate::claims
