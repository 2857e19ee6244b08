#include "oauth/pending.h"

namespace tollgate::oauth {

void Flight::Then(std::function<void()> wake) {
  {
    common::MutexLock lock(mu_);
    if (!done_) {
      wakes_.push_back(std::move(wake));
      return;
    }
  }
  wake();
}

void Flight::Finish() {
  std::vector<std::function<void()>> wakes;
  {
    common::MutexLock lock(mu_);
    done_ = true;
    wakes.swap(wakes_);
  }
  for (auto& wake : wakes) wake();
}

void Pending::Then(std::function<void()> wake) const {
  // The slot stays held until the callback has run and is dropped.
  flight_->Then([slot = slot_, wake = std::move(wake)] { wake(); });
}

}  // namespace tollgate::oauth
