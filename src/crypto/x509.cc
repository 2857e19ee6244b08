// X.509 client certificates (RFC 8705): parsing, names, RFC 4514 distinguished names, and chain
// verification against trust anchors.

#include "crypto/x509.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <utility>

#include "common/base64.h"
#include "crypto/ossl_util.h"

namespace tollgate::crypto {

using internal::BnPtr;
using internal::Bytes;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::TakeError;
using internal::X509Ptr;

namespace {

using BioPtr = std::unique_ptr<BIO, internal::Deleter<BIO_free>>;
using StorePtr = std::unique_ptr<X509_STORE, internal::Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, internal::Deleter<X509_STORE_CTX_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, internal::Deleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, internal::Deleter<BASIC_CONSTRAINTS_free>>;
using AsnObjectPtr = std::unique_ptr<ASN1_OBJECT, internal::Deleter<ASN1_OBJECT_free>>;
// A STACK_OF(X509) that does not own its certificates (sk_X509_free is a macro).
void FreeX509Stack(STACK_OF(X509) * stack) { sk_X509_free(stack); }
using X509StackPtr = std::unique_ptr<STACK_OF(X509), internal::Deleter<FreeX509Stack>>;

// Chains of at most 10 certificates: OpenSSL's depth counts neither the leaf nor the anchor.
constexpr int kMaxVerifyDepth = 8;
// Attribute types longer than this are refused before any OpenSSL lookup.
constexpr size_t kMaxAttributeTypeLength = 128;
constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----\n";
constexpr std::string_view kPemEnd = "-----END CERTIFICATE-----\n";
constexpr size_t kPemLineLength = 64;

bool IsPemWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsAsciiAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

std::string AsnStringBytes(const ASN1_STRING* s) {
  const unsigned char* data = ASN1_STRING_get0_data(s);
  const int len = ASN1_STRING_length(s);
  if (data == nullptr || len <= 0) return {};
  return {reinterpret_cast<const char*>(data), static_cast<size_t>(len)};
}

// ---- Attribute types -------------------------------------------------------------------------

// RFC 4514 §3: the names every implementation recognizes. They are looked up (ignoring case)
// before OpenSSL's own names, whose "uid" is uniqueIdentifier rather than RFC 4514's userId.
constexpr std::array<std::pair<std::string_view, int>, 9> kRfc4514Types = {{
    {"CN", NID_commonName},
    {"L", NID_localityName},
    {"ST", NID_stateOrProvinceName},
    {"O", NID_organizationName},
    {"OU", NID_organizationalUnitName},
    {"C", NID_countryName},
    {"STREET", NID_streetAddress},
    {"DC", NID_domainComponent},
    {"UID", NID_userId},
}};

// RFC 4512 §1.4 descr: ALPHA *(ALPHA / DIGIT / "-").
bool IsDescr(std::string_view s) {
  if (s.empty() || !IsAsciiAlpha(s.front())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-'; });
}

// RFC 4512 §1.4 numericoid: number 1*(DOT number), numbers without leading zeros.
bool IsNumericOid(std::string_view s) {
  size_t arcs = 0;
  while (true) {
    const size_t dot = s.find('.');
    const std::string_view arc = s.substr(0, dot);
    if (arc.empty() || !std::all_of(arc.begin(), arc.end(), IsAsciiDigit)) return false;
    if (arc.size() > 1 && arc.front() == '0') return false;
    ++arcs;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return arcs >= 2;
}

// The NID of an attribute type written as a descr, ignoring case: RFC 4514's names first, then
// OpenSSL's short and long names exactly, then OpenSSL's names ignoring case if that is
// unambiguous. NID_undef when none fits.
int NidOfDescr(const std::string& descr) {
  for (const auto& [name, nid] : kRfc4514Types) {
    if (EqualsIgnoringAsciiCase(name, descr)) return nid;
  }
  int nid = OBJ_sn2nid(descr.c_str());
  if (nid == NID_undef) nid = OBJ_ln2nid(descr.c_str());
  if (nid != NID_undef) return nid;
  int found = NID_undef;
  const int end = OBJ_new_nid(0);  // one past the highest NID in use
  for (int candidate = 1; candidate < end; ++candidate) {
    const char* sn = OBJ_nid2sn(candidate);  // nullptr (and a queued error) for unused NIDs
    const char* ln = OBJ_nid2ln(candidate);
    const bool match = (sn != nullptr && EqualsIgnoringAsciiCase(sn, descr)) ||
                       (ln != nullptr && EqualsIgnoringAsciiCase(ln, descr));
    if (!match) continue;
    if (found != NID_undef) {  // "Mail" and "mail" are two attribute types
      found = NID_undef;
      break;
    }
    found = candidate;
  }
  internal::ClearErrors();
  return found;
}

std::string DottedOid(const ASN1_OBJECT* obj) {
  std::array<char, 128> buf{};
  const int len = OBJ_obj2txt(buf.data(), static_cast<int>(buf.size()), obj, 1);
  if (len <= 0) return {};
  if (static_cast<size_t>(len) < buf.size()) return {buf.data(), static_cast<size_t>(len)};
  std::string out(static_cast<size_t>(len) + 1, '\0');
  if (OBJ_obj2txt(out.data(), len + 1, obj, 1) != len) return {};
  out.resize(static_cast<size_t>(len));
  return out;
}

// The canonical name of an attribute type: OpenSSL's short name when parsing that name gives
// this type back, otherwise the dotted OID. Empty only on an internal failure.
std::string CanonicalType(const ASN1_OBJECT* obj) {
  const int nid = OBJ_obj2nid(obj);
  if (nid != NID_undef) {
    const char* sn = OBJ_nid2sn(nid);
    if (sn != nullptr && IsDescr(sn) && NidOfDescr(sn) == nid) return sn;
  }
  internal::ClearErrors();
  return DottedOid(obj);
}

// The canonical name of an attribute type as an administrator writes it; nullopt when it is
// neither a descr OpenSSL knows nor a numeric OID.
std::optional<std::string> CanonicalType(std::string_view type) {
  if (type.empty() || type.size() > kMaxAttributeTypeLength) return std::nullopt;
  const std::string text(type);
  if (IsDescr(type)) {
    const int nid = NidOfDescr(text);
    if (nid == NID_undef) return std::nullopt;
    const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
    if (obj == nullptr) {
      internal::ClearErrors();
      return std::nullopt;
    }
    std::string canonical = CanonicalType(obj);
    if (canonical.empty()) return std::nullopt;
    return canonical;
  }
  if (!IsNumericOid(type)) return std::nullopt;
  AsnObjectPtr obj(OBJ_txt2obj(text.c_str(), 1));
  if (!obj) {
    internal::ClearErrors();
    return std::nullopt;
  }
  std::string canonical = CanonicalType(obj.get());
  if (canonical.empty()) return std::nullopt;
  return canonical;
}

// ---- Distinguished names ---------------------------------------------------------------------

struct Attribute {
  std::string type;   // canonical
  std::string value;  // UTF-8, as written (unescaped)
};
using Rdn = std::vector<Attribute>;

// X.520 caseIgnoreMatch, ASCII only: no leading or trailing spaces, inner runs of spaces as one,
// ASCII letters in lower case.
std::string FoldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(AsciiLower(c));
  }
  return out;
}

// RFC 4514 §2.4 escaping of a folded value (which has no leading or trailing space).
void AppendEscaped(std::string_view value, std::string& out) {
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\0') {
      out += "\\00";
      continue;
    }
    if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' ||
        (i == 0 && c == '#')) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
}

// The canonical string: RDNs in the order given, members of a multi-valued RDN sorted.
std::string Canonical(const std::vector<Rdn>& rdns) {
  std::string out;
  for (const Rdn& rdn : rdns) {
    std::vector<std::string> members;
    members.reserve(rdn.size());
    for (const Attribute& attribute : rdn) {
      std::string member = attribute.type + "=";
      AppendEscaped(FoldValue(attribute.value), member);
      members.push_back(std::move(member));
    }
    std::sort(members.begin(), members.end());
    if (!out.empty()) out.push_back(',');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i != 0) out.push_back('+');
      out += members[i];
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    uint32_t code = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3Fu);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

int HexValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4514 §3 parser, also accepting spaces around ',', '+' and '=' (and around the whole
// string). Values in the '#' hexstring form are refused.
class DnParser {
 public:
  explicit DnParser(std::string_view text) : text_(text) {}

  std::optional<std::vector<Rdn>> Parse() {
    std::vector<Rdn> rdns;
    SkipSpaces();
    if (AtEnd()) return std::nullopt;
    while (true) {
      Rdn rdn;
      while (true) {
        auto attribute = ParseAttribute();
        if (!attribute) return std::nullopt;
        rdn.push_back(std::move(*attribute));
        if (AtEnd() || Peek() != '+') break;
        ++pos_;
      }
      rdns.push_back(std::move(rdn));
      if (AtEnd()) return rdns;
      if (Peek() != ',') return std::nullopt;
      ++pos_;
    }
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpaces() {
    while (!AtEnd() && Peek() == ' ') ++pos_;
  }

  std::optional<Attribute> ParseAttribute() {
    SkipSpaces();
    const size_t start = pos_;
    while (!AtEnd() &&
           (IsAsciiAlpha(Peek()) || IsAsciiDigit(Peek()) || Peek() == '-' || Peek() == '.')) {
      ++pos_;
    }
    auto type = CanonicalType(text_.substr(start, pos_ - start));
    if (!type) return std::nullopt;
    SkipSpaces();
    if (AtEnd() || Peek() != '=') return std::nullopt;
    ++pos_;
    SkipSpaces();
    auto value = ParseValue();
    if (!value) return std::nullopt;
    return Attribute{std::move(*type), std::move(*value)};
  }

  // Up to an unescaped ',' or '+' or the end; trailing spaces are kept (folding drops them).
  std::optional<std::string> ParseValue() {
    std::string value;
    if (!AtEnd() && Peek() == '#') return std::nullopt;  // hexstring (BER) form: refused
    while (!AtEnd()) {
      const char c = Peek();
      if (c == ',' || c == '+') break;
      ++pos_;
      if (c == '\\') {
        if (AtEnd()) return std::nullopt;
        const char next = Peek();
        ++pos_;
        const int high = HexValue(next);
        if (high >= 0) {
          if (AtEnd() || HexValue(Peek()) < 0) return std::nullopt;
          value.push_back(static_cast<char>(high * 16 + HexValue(Peek())));
          ++pos_;
        } else if (std::string_view(" \"#+,;<=>\\").find(next) != std::string_view::npos) {
          value.push_back(next);
        } else {
          return std::nullopt;
        }
        continue;
      }
      // RFC 4514 §3: these must be escaped in a value.
      if (c == '"' || c == ';' || c == '<' || c == '>' || c == '\0') return std::nullopt;
      value.push_back(c);
    }
    if (!IsValidUtf8(value)) return std::nullopt;
    return value;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// The certificate's name as RDNs in RFC 4514 order (the reverse of the DER order), values as
// UTF-8; nullopt when a value has no UTF-8 form.
std::optional<std::vector<Rdn>> RdnsOf(const X509_NAME* name) {
  std::vector<Rdn> rdns;
  int current_set = -1;
  for (int i = X509_NAME_entry_count(name) - 1; i >= 0; --i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    if (entry == nullptr) return std::nullopt;
    std::string type = CanonicalType(X509_NAME_ENTRY_get_object(entry));
    if (type.empty()) return std::nullopt;
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len < 0) {
      internal::ClearErrors();
      return std::nullopt;
    }
    std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
    const int set = X509_NAME_ENTRY_set(entry);
    if (rdns.empty() || set != current_set) rdns.emplace_back();
    current_set = set;
    rdns.back().push_back(Attribute{std::move(type), std::move(value)});
  }
  return rdns;
}

// RFC 4514 string of `name`, UTF-8 kept as is; empty on an internal failure.
std::string PrintName(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  constexpr unsigned long kFlags =
      XN_FLAG_RFC2253 & ~static_cast<unsigned long>(ASN1_STRFLGS_ESC_MSB);
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) {
    internal::ClearErrors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return {};
  return {data, static_cast<size_t>(len)};
}

// ---- Certificate fields ----------------------------------------------------------------------

std::optional<TimePoint> ToTimePoint(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  const std::chrono::year_month_day date{year{tm.tm_year + 1900},
                                         month{static_cast<unsigned>(tm.tm_mon + 1)},
                                         day{static_cast<unsigned>(tm.tm_mday)}};
  if (!date.ok()) return std::nullopt;
  // RFC 5280 §4.1.2.5: 99991231235959Z means no expiry, beyond what a TimePoint holds (2262):
  // seconds are counted in 64 bits, then clamped.
  const int64_t seconds = int64_t{std::chrono::sys_days(date).time_since_epoch().count()} * 86400 +
                          int64_t{tm.tm_hour} * 3600 + int64_t{tm.tm_min} * 60 + tm.tm_sec;
  constexpr auto kMax =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::max().time_since_epoch());
  constexpr auto kMin =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::min().time_since_epoch());
  return TimePoint(std::chrono::seconds(std::clamp<int64_t>(seconds, kMin.count(), kMax.count())));
}

std::optional<std::string> SerialHex(const X509* x509) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), nullptr));
  if (!bn) return std::nullopt;
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return std::nullopt;
  std::string text(hex);
  OPENSSL_free(hex);
  const bool negative = !text.empty() && text.front() == '-';
  std::string digits = negative ? text.substr(1) : text;
  const size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "0" : digits.substr(first);
  std::transform(digits.begin(), digits.end(), digits.begin(), AsciiLower);
  return negative ? "-" + digits : digits;
}

// One certificate of exactly `der`; nullptr otherwise.
X509Ptr ParseDer(std::string_view der) {
  if (der.empty() || der.size() > kMaxCertificateBytes) return nullptr;
  const unsigned char* p = Bytes(der);
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509 || p != Bytes(der) + der.size()) {
    internal::ClearErrors();
    return nullptr;
  }
  return x509;
}

}  // namespace

// ---- Certificate -----------------------------------------------------------------------------

struct Certificate::Impl {
  X509Ptr x509;
  std::string subject_dn;
  std::string issuer_dn;
  std::string serial_hex;
  TimePoint not_before;
  TimePoint not_after;
  bool is_ca = false;
  std::vector<std::string> san_dns;
  std::vector<std::string> san_uri;
  std::vector<std::string> san_email;
  std::vector<std::string> san_ip;
  std::optional<std::string> canonical_subject;  // nullopt: a value has no UTF-8 form
};

Certificate::Certificate(std::unique_ptr<Impl> impl, std::string der)
    : impl_(std::move(impl)), der_(std::move(der)) {}
Certificate::~Certificate() = default;

CryptoResult<std::shared_ptr<const Certificate>> Certificate::FromDer(std::string_view der) {
  if (der.empty()) return Fail(CryptoError{"empty certificate"});
  if (der.size() > kMaxCertificateBytes) return Fail(CryptoError{"certificate too large"});
  X509Ptr x509 = ParseDer(der);
  if (!x509) return Fail(CryptoError{"not one DER X.509 certificate"});
  // Decoding every extension once here also leaves the verifier nothing to cache later.
  if ((X509_get_extension_flags(x509.get()) & EXFLAG_INVALID) != 0) {
    internal::ClearErrors();
    return Fail(CryptoError{"certificate has an invalid extension"});
  }
  auto impl = std::make_unique<Impl>();
  const auto not_before = ToTimePoint(X509_get0_notBefore(x509.get()));
  const auto not_after = ToTimePoint(X509_get0_notAfter(x509.get()));
  if (!not_before || !not_after) return Fail(TakeError("certificate validity times"));
  impl->not_before = *not_before;
  impl->not_after = *not_after;
  auto serial = SerialHex(x509.get());
  if (!serial) return Fail(TakeError("certificate serial number"));
  impl->serial_hex = std::move(*serial);
  impl->subject_dn = PrintName(X509_get_subject_name(x509.get()));
  impl->issuer_dn = PrintName(X509_get_issuer_name(x509.get()));
  if (auto rdns = RdnsOf(X509_get_subject_name(x509.get()))) {
    impl->canonical_subject = Canonical(*rdns);
  }

  int critical = 0;
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(x509.get(), NID_basic_constraints, &critical, nullptr)));
  impl->is_ca = constraints && constraints->ca != 0;

  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x509.get(), NID_subject_alt_name, &critical, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const void* value = GENERAL_NAME_get0_value(name, &type);
    if (value == nullptr) continue;
    const auto* s = static_cast<const ASN1_STRING*>(value);
    switch (type) {
      case GEN_DNS:
        impl->san_dns.push_back(AsnStringBytes(s));
        break;
      case GEN_URI:
        impl->san_uri.push_back(AsnStringBytes(s));
        break;
      case GEN_EMAIL:
        impl->san_email.push_back(AsnStringBytes(s));
        break;
      case GEN_IPADD: {
        std::string ip = AsnStringBytes(s);
        if (ip.size() == 4 || ip.size() == 16) impl->san_ip.push_back(std::move(ip));
        break;
      }
      default:
        break;
    }
  }
  internal::ClearErrors();
  impl->x509 = std::move(x509);
  return std::shared_ptr<const Certificate>(new Certificate(std::move(impl), std::string(der)));
}

CryptoResult<std::shared_ptr<const Certificate>> Certificate::FromPem(std::string_view pem) {
  if (pem.size() > kMaxCertificateBytes) return Fail(CryptoError{"certificate PEM too large"});
  // PEM_read_bio() skips any text before a BEGIN line; only whitespace may precede it here.
  const auto begin = std::find_if_not(pem.begin(), pem.end(), IsPemWhitespace);
  if (!std::string_view(begin, pem.end()).starts_with("-----BEGIN ")) {
    return Fail(CryptoError{"not a PEM certificate"});
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Fail(TakeError("allocating BIO"));
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return Fail(TakeError("reading PEM certificate"));
  }
  const std::string block_name(name);
  const bool has_header = header != nullptr && header[0] != '\0';
  const std::string der(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (block_name != "CERTIFICATE") return Fail(CryptoError{"PEM block is not a CERTIFICATE"});
  if (has_header) return Fail(CryptoError{"PEM certificate has headers"});
  // Nothing but whitespace may follow the block: no second block of any type.
  std::array<char, 256> rest{};
  int n = 0;
  while ((n = BIO_read(bio.get(), rest.data(), static_cast<int>(rest.size()))) > 0) {
    if (!std::all_of(rest.begin(), rest.begin() + n, IsPemWhitespace)) {
      return Fail(CryptoError{"text after the PEM certificate"});
    }
  }
  internal::ClearErrors();
  return FromDer(der);
}

std::string Certificate::Pem() const {
  const std::string base64 = Base64Encode(der_);
  std::string out(kPemBegin);
  for (size_t i = 0; i < base64.size(); i += kPemLineLength) {
    out.append(base64, i, kPemLineLength);
    out.push_back('\n');
  }
  out += kPemEnd;
  return out;
}

std::string Certificate::Sha256Thumbprint() const { return Sha256(der_); }
std::string Certificate::SubjectDn() const { return impl_->subject_dn; }
std::string Certificate::IssuerDn() const { return impl_->issuer_dn; }
std::string Certificate::SerialNumberHex() const { return impl_->serial_hex; }
TimePoint Certificate::NotBefore() const { return impl_->not_before; }
TimePoint Certificate::NotAfter() const { return impl_->not_after; }
bool Certificate::IsCa() const { return impl_->is_ca; }
std::vector<std::string> Certificate::SanDns() const { return impl_->san_dns; }
std::vector<std::string> Certificate::SanUri() const { return impl_->san_uri; }
std::vector<std::string> Certificate::SanEmail() const { return impl_->san_email; }
std::vector<std::string> Certificate::SanIp() const { return impl_->san_ip; }

bool Certificate::HasPublicKey(const PublicKey& key) const {
  const EVP_PKEY* own = X509_get0_pubkey(impl_->x509.get());
  const bool equal = own != nullptr && EVP_PKEY_eq(key.Native(), own) == 1;
  internal::ClearErrors();
  return equal;
}

bool Certificate::SubjectIs(std::string_view normalized_dn) const {
  return impl_->canonical_subject && *impl_->canonical_subject == normalized_dn;
}

std::optional<std::string> NormalizeDn(std::string_view dn) {
  auto rdns = DnParser(dn).Parse();
  if (!rdns) return std::nullopt;
  return Canonical(*rdns);
}

std::optional<std::string> ParseIpAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(text);  // inet_pton wants a terminated string
  if (z.find('\0') != std::string::npos) return std::nullopt;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET, z.c_str(), bytes.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), 4);
  }
  if (inet_pton(AF_INET6, z.c_str(), bytes.data()) == 1) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), 16);
  }
  return std::nullopt;
}

// ---- TrustAnchors ----------------------------------------------------------------------------

struct TrustAnchors::Impl {
  StorePtr store;
};

TrustAnchors::TrustAnchors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrustAnchors::~TrustAnchors() = default;

CryptoResult<std::shared_ptr<const TrustAnchors>> TrustAnchors::Create(
    std::span<const CertificatePtr> cas) {
  auto impl = std::make_unique<Impl>();
  impl->store.reset(X509_STORE_new());
  if (!impl->store) return Fail(TakeError("allocating X509_STORE"));
  for (const CertificatePtr& ca : cas) {
    if (!ca) return Fail(CryptoError{"null trust anchor"});
    X509Ptr x509 = ParseDer(ca->Der());
    if (!x509 || X509_STORE_add_cert(impl->store.get(), x509.get()) != 1) {
      return Fail(TakeError("adding trust anchor"));
    }
  }
  // Every anchor ends a chain, whether or not it is self-signed.
  if (X509_STORE_set_flags(impl->store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1) {
    return Fail(TakeError("setting X509_STORE flags"));
  }
  return std::shared_ptr<const TrustAnchors>(new TrustAnchors(std::move(impl)));
}

CryptoResult<void> TrustAnchors::Verify(const Certificate& leaf,
                                        std::span<const CertificatePtr> intermediates,
                                        TimePoint now) const {
  // The stack does not own its certificates; verification only reads them (their extensions
  // were cached when they were parsed).
  X509StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return Fail(TakeError("allocating certificate stack"));
  for (const CertificatePtr& cert : intermediates) {
    if (!cert) return Fail(CryptoError{"null intermediate certificate"});
    if (sk_X509_push(untrusted.get(), cert->impl_->x509.get()) <= 0) {
      return Fail(TakeError("collecting intermediate certificates"));
    }
  }
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), impl_->store.get(), leaf.impl_->x509.get(),
                                  untrusted.get()) != 1) {
    return Fail(TakeError("initializing certificate verification"));
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // RFC 8705 §2.1: the client authenticates with a TLS client certificate.
  if (param == nullptr || X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT) != 1) {
    return Fail(TakeError("setting verification purpose"));
  }
  X509_VERIFY_PARAM_set_depth(param, kMaxVerifyDepth);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(now));
  const int result = X509_verify_cert(ctx.get());
  if (result == 1) {
    internal::ClearErrors();
    return {};
  }
  if (result < 0) return Fail(TakeError("certificate verification failed"));
  const int error = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  internal::ClearErrors();
  return Fail(CryptoError{std::string("certificate does not verify: ") +
                          X509_verify_cert_error_string(error) + " (at depth " +
                          std::to_string(depth) + ")"});
}

}  // namespace tollgate::crypto
