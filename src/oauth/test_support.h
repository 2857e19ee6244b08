#pragma once
// Test-only helpers for the oauth unit tests.

#include <gtest/gtest.h>

#include <utility>

#include "common/result.h"
#include "oauth/pending.h"

namespace tollgate::oauth {

// `r` with its failure as an OAuthError, for steps that cannot wait in the test at hand (no
// jwksUrl fetch is due): a Pending fails the test.
template <class T>
Result<T, OAuthError> Settled(Result<T, ErrorOrPending> r) {
  if (r) return std::move(r).value();
  if (auto* e = std::get_if<OAuthError>(&r.error())) return Fail(std::move(*e));
  ADD_FAILURE() << "unexpected Pending";
  return Fail(ServerError("unexpected Pending"));
}

inline Result<void, OAuthError> Settled(Result<void, ErrorOrPending> r) {
  if (r) return {};
  if (auto* e = std::get_if<OAuthError>(&r.error())) return Fail(std::move(*e));
  ADD_FAILURE() << "unexpected Pending";
  return Fail(ServerError("unexpected Pending"));
}

}  // namespace tollgate::oauth
