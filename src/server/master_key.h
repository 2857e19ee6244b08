#pragma once
// The master key that seals secrets and private keys at rest (SPEC §7), and the adapter that
// lets storage/ use crypto/'s AES-256-GCM without depending on it.

#include <memory>
#include <string>

#include "common/result.h"
#include "storage/store.h"

namespace tollgate::server {

// From TOLLGATE_MASTER_KEY (base64 of 32 bytes) when `env_value` is non-empty, else from
// `file` (base64 text). With `create` and no file, generates a key and writes the file with
// mode 0600. Errors are one line for stderr; they never contain key material.
Result<std::string, std::string> LoadMasterKey(const std::string& env_value,
                                               const std::string& file, bool create);

// AES-256-GCM sealing under `key` (32 bytes).
std::shared_ptr<const storage::SecretCodec> MakeSecretCodec(const std::string& key);

// The default key file for a store URI: "<path>.key" next to a SQLite file; empty otherwise.
std::string DefaultKeyFile(const std::string& store_uri);

}  // namespace tollgate::server
