#pragma once
// JtiCache's port to the store (config::JtiStore) over storage::Store: each call is the Store
// call of the same name (RememberJti, RememberJtis, LoadJtis, PurgeExpiredJtis), its StoreError
// passed on as the message. Thread-safe as the Store is.

#include "config/jti_cache.h"
#include "storage/store.h"

namespace tollgate::config {

class StoreJtis final : public JtiStore {
 public:
  // `store` is not owned and must outlive this.
  explicit StoreJtis(storage::Store& store) : store_(store) {}

  JtiResult<bool> Remember(const model::RememberedJti& jti, TimePoint now) override;
  JtiResult<void> RememberAll(const std::vector<model::RememberedJti>& jtis,
                              TimePoint now) override;
  JtiResult<std::vector<model::RememberedJti>> Load(model::JtiKind kind, TimePoint now) override;
  JtiResult<void> PurgeExpired(TimePoint now) override;

 private:
  storage::Store& store_;
};

}  // namespace tollgate::config
