// /v1/environments/{envID}/keys[/{keyID}] through ManagementApi::Handle: which algorithm and
// keyLength combinations make a key (SPEC §3, §6), the key object, and the rules that keep one
// usable default key.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "testutil/mgmt_harness.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using testutil::ApiReply;
using testutil::Detail;
using testutil::IsApiError;
using testutil::IsInvalidData;
using testutil::KeysPath;
using testutil::MgmtHarness;
using Role = testutil::Role;

constexpr Role kAdmin = Role::kOrganizationAdmin;

class KeysTest : public ::testing::Test {
 protected:
  std::string Path() const { return KeysPath(h_.env_e()); }
  std::string CreateEc(bool is_default = false) {
    ApiReply r =
        h_.Call(kAdmin, "POST", Path(), json::object{{"algorithm", "EC"}, {"default", is_default}});
    if (r.status != 201) throw std::runtime_error("cannot create a key: " + r.body);
    return r.Str("id");
  }

  MgmtHarness h_;
};

// RSA generation is slow (2048 bits takes tenths of a second, 4096 seconds): the accepted RSA
// lengths other than the default are not generated here.
TEST_F(KeysTest, AlgorithmAndKeyLengthCombinations) {
  struct Case {
    const char* name;
    json::object body;
    // Accepted: the answered algorithm, keyLength and signatureAlgorithm; refused: details.
    const char* algorithm;
    int64_t key_length;
    const char* signature;
    std::vector<Detail> details;
  };
  const std::vector<Case> cases = {
      {"RSA defaults to 2048", {{"algorithm", "RSA"}}, "RSA", 2048, "SHA256withRSA", {}},
      {"EC defaults to P-256", {{"algorithm", "EC"}}, "EC", 256, "SHA256withECDSA", {}},
      {"EC 256", {{"algorithm", "EC"}, {"keyLength", 256}}, "EC", 256, "SHA256withECDSA", {}},
      {"EdDSA", {{"algorithm", "EdDSA"}}, "EdDSA", 256, "Ed25519", {}},
      {"EdDSA ignores keyLength",
       {{"algorithm", "EdDSA"}, {"keyLength", 4096}},
       "EdDSA",
       256,
       "Ed25519",
       {}},
      {"EC with its signature algorithm",
       {{"algorithm", "EC"}, {"signatureAlgorithm", "SHA256withECDSA"}, {"usageType", "SIGNING"}},
       "EC",
       256,
       "SHA256withECDSA",
       {}},
      {"algorithm missing",
       {{"keyLength", 2048}},
       nullptr,
       0,
       nullptr,
       {{"REQUIRED_VALUE", "algorithm"}}},
      {"algorithm unknown",
       {{"algorithm", "DSA"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "algorithm"}}},
      {"algorithm lower-case",
       {{"algorithm", "rsa"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "algorithm"}}},
      {"algorithm a number",
       {{"algorithm", 1}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "algorithm"}}},
      {"RSA 1024",
       {{"algorithm", "RSA"}, {"keyLength", 1024}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA 2047",
       {{"algorithm", "RSA"}, {"keyLength", 2047}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA 8192",
       {{"algorithm", "RSA"}, {"keyLength", 8192}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA 256",
       {{"algorithm", "RSA"}, {"keyLength", 256}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA length as a string",
       {{"algorithm", "RSA"}, {"keyLength", "2048"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA length as a fraction",
       {{"algorithm", "RSA"}, {"keyLength", 2048.5}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"EC 384",
       {{"algorithm", "EC"}, {"keyLength", 384}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"EC 2048",
       {{"algorithm", "EC"}, {"keyLength", 2048}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"EC length as a string",
       {{"algorithm", "EC"}, {"keyLength", "256"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}}},
      {"RSA with the EC signature algorithm",
       {{"algorithm", "RSA"}, {"signatureAlgorithm", "SHA256withECDSA"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "signatureAlgorithm"}}},
      {"usage other than signing",
       {{"algorithm", "EC"}, {"usageType", "ENCRYPTION"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "usageType"}}},
      {"validity of 0 days",
       {{"algorithm", "EC"}, {"validityPeriod", 0}},
       nullptr,
       0,
       nullptr,
       {{"OUT_OF_RANGE", "validityPeriod"}}},
      {"validity of 3651 days",
       {{"algorithm", "EC"}, {"validityPeriod", 3651}},
       nullptr,
       0,
       nullptr,
       {{"OUT_OF_RANGE", "validityPeriod"}}},
      {"default a string",
       {{"algorithm", "EC"}, {"default", "true"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "default"}}},
      {"subject DN without an attribute",
       {{"algorithm", "EC"}, {"subjectDN", "just a name"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "subjectDN"}}},
      {"empty name",
       {{"algorithm", "EC"}, {"name", ""}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "name"}}},
      {"several at once",
       {{"algorithm", "EC"}, {"keyLength", 521}, {"usageType", "X"}},
       nullptr,
       0,
       nullptr,
       {{"INVALID_VALUE", "keyLength"}, {"INVALID_VALUE", "usageType"}}},
  };
  for (const auto& c : cases) {
    const std::string before = h_.DumpStore(h_.env_e());
    ApiReply r = h_.Call(kAdmin, "POST", Path(), c.body);
    if (c.algorithm == nullptr) {
      EXPECT_TRUE(IsApiError(r, 400, "INVALID_DATA", c.details)) << c.name;
      EXPECT_EQ(h_.DumpStore(h_.env_e()), before) << c.name;
      continue;
    }
    ASSERT_EQ(r.status, 201) << c.name << ": " << r.body;
    const json::object& o = r.Object();
    EXPECT_EQ(o.at("algorithm"), c.algorithm) << c.name;
    EXPECT_EQ(o.at("keyLength"), c.key_length) << c.name;
    EXPECT_EQ(o.at("signatureAlgorithm"), c.signature) << c.name;
    EXPECT_EQ(o.at("usageType"), "SIGNING") << c.name;
    EXPECT_EQ(o.at("default"), false) << c.name;
    EXPECT_EQ(o.at("status"), "VALID") << c.name;
    EXPECT_EQ(o.at("validityPeriod"), 365) << c.name;
    EXPECT_EQ(o.at("subjectDN"), "CN=Administrators") << c.name;
    EXPECT_EQ(o.at("name"), json::value("Signing key " + FormatRfc3339(h_.clock().Now())))
        << c.name;
    EXPECT_EQ(o.at("expiresAt"),
              json::value(FormatRfc3339(h_.clock().Now() + std::chrono::hours(24 * 365))))
        << c.name;
    for (const char* secret : {"PRIVATE", "\"d\"", "privateKey", "pem"}) {
      EXPECT_EQ(r.body.find(secret), std::string::npos) << c.name << " shows " << secret;
    }
    EXPECT_EQ(h_.Call(kAdmin, "GET", Path() + "/" + r.Str("id")).json, r.json) << c.name;
  }
}

TEST_F(KeysTest, TheDefaultKeyCannotBeRevokedUndefaultedOrDeleted) {
  const std::string old_default = h_.DefaultKey(h_.env_e());
  const std::string path = Path() + "/" + old_default;
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", path, json::object{{"status", "REVOKED"}}),
                            "INVALID_VALUE", "status"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", path, json::object{{"default", false}}),
                            "INVALID_VALUE", "default"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "DELETE", path), "INVALID_VALUE", "default"));
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", path, json::object{{"status", "RETIRED"}}),
                            "INVALID_VALUE", "status"));
  // Renaming, and sending the read-only status it has, are fine.
  ApiReply renamed =
      h_.Call(kAdmin, "PUT", path, json::object{{"name", "main"}, {"status", "VALID"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.Object().at("name"), "main");
  EXPECT_EQ(renamed.Object().at("default"), true);
  // docs/security.md: names are limited in characters, not bytes.
  EXPECT_EQ(
      h_.Call(kAdmin, "PUT", path, json::object{{"name", testutil::TwoByteCharacters(256)}}).status,
      200);
  EXPECT_TRUE(IsInvalidData(
      h_.Call(kAdmin, "PUT", path, json::object{{"name", testutil::TwoByteCharacters(257)}}),
      "INVALID_VALUE", "name"));

  // Once another key is the default, the old one can be revoked and deleted.
  const std::string next = CreateEc();
  ApiReply promoted = h_.Call(kAdmin, "PUT", Path() + "/" + next, json::object{{"default", true}});
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(h_.DefaultKey(h_.env_e()), next);
  EXPECT_EQ(h_.Call(kAdmin, "GET", path).Object().at("default"), false);
  ApiReply revoked = h_.Call(kAdmin, "PUT", path, json::object{{"status", "REVOKED"}});
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(revoked.Object().at("status"), "REVOKED");
  EXPECT_TRUE(IsInvalidData(h_.Call(kAdmin, "PUT", path, json::object{{"default", true}}),
                            "INVALID_VALUE", "default"))
      << "a revoked key cannot become the default";
  EXPECT_EQ(h_.Call(kAdmin, "DELETE", path).status, 204);
}

TEST_F(KeysTest, ANewDefaultKeyRetiresThePreviousDefault) {
  const std::string old_default = h_.DefaultKey(h_.env_e());
  const std::string next = CreateEc(/*is_default=*/true);
  EXPECT_EQ(h_.DefaultKey(h_.env_e()), next);
  ApiReply list = h_.Call(kAdmin, "GET", Path());
  ASSERT_EQ(list.status, 200);
  int defaults = 0;
  for (const auto& k : list.Object().at("_embedded").at("keys").as_array()) {
    if (k.at("default").as_bool()) ++defaults;
  }
  EXPECT_EQ(defaults, 1);
  EXPECT_EQ(list.Object().at("count"), 2);
  EXPECT_EQ(h_.Call(kAdmin, "GET", Path() + "/" + old_default).Object().at("default"), false);
}

}  // namespace
}  // namespace tollgate::mgmt
