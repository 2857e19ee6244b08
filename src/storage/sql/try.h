#pragma once
// Early returns for StoreResult, used by the storage backends and their shared SQL layer.

#include <utility>

#include "common/result.h"

// Propagates the error of a StoreResult expression out of the calling function.
#define TG_STORE_TRY(expr)                                        \
  do {                                                            \
    auto tg_try_result_ = (expr);                                 \
    if (!tg_try_result_.ok()) {                                   \
      return ::tollgate::Fail(std::move(tg_try_result_).error()); \
    }                                                             \
  } while (0)

#define TG_STORE_CONCAT_INNER(a, b) a##b
#define TG_STORE_CONCAT(a, b) TG_STORE_CONCAT_INNER(a, b)
// `TG_STORE_ASSIGN(auto x, expr);` declares x from the value of a StoreResult expression, or
// returns its error.
#define TG_STORE_ASSIGN(lhs, expr) \
  TG_STORE_ASSIGN_IMPL(TG_STORE_CONCAT(tg_assign_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` may be a declaration.
#define TG_STORE_ASSIGN_IMPL(tmp, lhs, expr)                      \
  auto tmp = (expr);                                              \
  if (!tmp.ok()) return ::tollgate::Fail(std::move(tmp).error()); \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
