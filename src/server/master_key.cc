#include "server/master_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/base64.h"
#include "crypto/keys.h"

namespace tollgate::server {
namespace {

class AesCodec final : public storage::SecretCodec {
 public:
  explicit AesCodec(crypto::Aead aead) : aead_(std::move(aead)) {}
  std::string Seal(std::string_view plaintext, std::string_view aad) const override {
    return aead_.Seal(plaintext, aad);
  }
  std::optional<std::string> Open(std::string_view sealed, std::string_view aad) const override {
    return aead_.Open(sealed, aad);
  }

 private:
  crypto::Aead aead_;
};

Result<std::string, std::string> Decode(std::string text, const std::string& source) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  auto key = Base64Decode(text);
  if (!key || key->size() != 32) {
    return Fail(source + " must hold the base64 encoding of exactly 32 bytes");
  }
  return std::move(*key);
}

}  // namespace

std::string DefaultKeyFile(const std::string& store_uri) {
  constexpr std::string_view kPrefix = "sqlite:";
  if (store_uri.rfind(kPrefix, 0) != 0) return "";
  std::string path = store_uri.substr(kPrefix.size());
  if (path.empty() || path == ":memory:") return "";
  return path + ".key";
}

Result<std::string, std::string> LoadMasterKey(const std::string& env_value,
                                               const std::string& file, bool create) {
  if (!env_value.empty()) return Decode(env_value, "TOLLGATE_MASTER_KEY");
  if (file.empty()) {
    return Fail(std::string(
        "no master key: set TOLLGATE_MASTER_KEY or --master-key-file (a SQLite store keeps it "
        "next to the database by default)"));
  }
  if (int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    // Like ssh with a private key: a key others could read is a key others may have.
    struct stat st {};
    const bool stated = ::fstat(fd, &st) == 0;
    std::string text;
    char buf[256];
    for (ssize_t n; stated && (n = ::read(fd, buf, sizeof(buf))) > 0 && text.size() < 4096;) {
      text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (!stated) return Fail("cannot read master key file " + file + ": " + std::strerror(errno));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return Fail("master key file " + file + " is accessible by group or others (mode " + mode +
                  "); run chmod 600 " + file);
    }
    return Decode(std::move(text), "master key file " + file);
  }
  if (errno != ENOENT || !create) {
    return Fail("cannot read master key file " + file + ": " + std::strerror(errno));
  }
  std::string key = crypto::RandomBytes(32);
  std::string text = Base64Encode(key) + "\n";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail("cannot create master key file " + file + ": " + std::strerror(errno));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail("cannot write master key file " + file);
  return key;
}

std::shared_ptr<const storage::SecretCodec> MakeSecretCodec(const std::string& key) {
  auto aead = crypto::Aead::Create(key);
  if (!aead) return nullptr;
  return std::make_shared<AesCodec>(std::move(aead).value());
}

}  // namespace tollgate::server
