#pragma once
// Pending: a step of the auth surface that cannot finish yet because it waits for something slow
// elsewhere (today: the keys behind a client's jwksUrl, being fetched on another thread). It is
// neither an answer nor an error. Whoever gets one asks to be woken, lets go of its thread, and
// runs the step again when woken (docs/decisions/0003-outbound-fetch.md).

#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "common/thread_annotations.h"
#include "oauth/oauth_error.h"

namespace tollgate::oauth {

// One slow operation in flight and the callbacks waiting for its end. Thread-safe.
class Flight {
 public:
  // Calls `wake` once when the operation has ended: from the thread that calls Finish(), or at
  // once on this thread when it already has.
  void Then(std::function<void()> wake);
  // Marks the operation ended and calls every waiting callback (outside the lock), then drops
  // them. Called once, by the owner of the operation.
  void Finish();

 private:
  common::Mutex mu_;
  bool done_ GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> wakes_ GUARDED_BY(mu_);
};

// A handle on one Flight, as returned by the step that must wait. Copyable, thread-safe.
class Pending {
 public:
  // `slot` is what this wait holds of its owner's limits; it is released when the last copy of
  // this handle, and the callback given to Then(), are gone.
  Pending(std::shared_ptr<Flight> flight, std::shared_ptr<const void> slot)
      : flight_(std::move(flight)), slot_(std::move(slot)) {}

  // Calls `wake` exactly once when the awaited operation has ended: later, from the thread
  // that ends it, or at once on this thread when it already has. `wake` must not block (post
  // to an executor) and must own what it touches: it may run after the caller has returned.
  void Then(std::function<void()> wake) const;

 private:
  std::shared_ptr<Flight> flight_;
  std::shared_ptr<const void> slot_;
};

// What a step of the auth surface has instead of a result: an error for the wire, or "not yet".
using ErrorOrPending = std::variant<OAuthError, Pending>;

}  // namespace tollgate::oauth
