#include "config/store/store_jtis.h"

#include <utility>

namespace tollgate::config {
namespace {

template <class T>
JtiResult<T> Pass(storage::StoreResult<T> r) {
  if (!r) return Fail(JtiStoreError{std::move(r).error().message});
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(r).value();
  }
}

}  // namespace

JtiResult<bool> StoreJtis::Remember(const model::RememberedJti& jti, TimePoint now) {
  return Pass(store_.RememberJti(jti, now));
}

JtiResult<void> StoreJtis::RememberAll(const std::vector<model::RememberedJti>& jtis,
                                       TimePoint now) {
  return Pass(store_.RememberJtis(jtis, now));
}

JtiResult<std::vector<model::RememberedJti>> StoreJtis::Load(model::JtiKind kind, TimePoint now) {
  return Pass(store_.LoadJtis(kind, now));
}

JtiResult<void> StoreJtis::PurgeExpired(TimePoint now) {
  return Pass(store_.PurgeExpiredJtis(now));
}

}  // namespace tollgate::config
