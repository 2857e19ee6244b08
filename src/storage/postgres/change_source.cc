#include "storage/postgres/change_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/log.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/schema.h"
#include "storage/sql/query.h"
#include "storage/sql/tables.h"

namespace tollgate::storage::postgres {
namespace {

namespace remembered_jtis = sql::remembered_jtis;

// The change feed's listening connection.
class PgChangeSource final : public ChangeSource {
 public:
  static StoreResult<std::unique_ptr<ChangeSource>> Open(const std::string& conninfo) {
    const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) return Fail(InternalError("postgres: eventfd failed"));
    std::unique_ptr<PgChangeSource> source(new PgChangeSource(conninfo, wake));
    TG_STORE_TRY(source->Connect());
    return std::unique_ptr<ChangeSource>(std::move(source));
  }

  ~PgChangeSource() override { ::close(wake_fd_); }
  PgChangeSource(const PgChangeSource&) = delete;
  PgChangeSource& operator=(const PgChangeSource&) = delete;

  StoreResult<ChangeBatch> Wait(std::chrono::milliseconds timeout) override {
    if (conn_.Broken()) {
      conn_ = PgConnection();
      TG_STORE_TRY(Connect());
      resync_pending_ = true;
    }
    ChangeBatch batch;
    TG_STORE_TRY(Collect(batch));
    if (batch.environments.empty() && batch.jtis.empty() && !resync_pending_) {
      std::array<pollfd, 2> fds{{{PQsocket(conn_.Handle()), POLLIN, 0}, {wake_fd_, POLLIN, 0}}};
      const auto millis = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 60'000));
      const int n = ::poll(fds.data(), fds.size(), millis);
      if (n < 0 && errno != EINTR) return Fail(InternalError("postgres: poll failed"));
      if (n > 0 && (fds[1].revents & POLLIN) != 0) {
        uint64_t ignored = 0;
        while (::read(wake_fd_, &ignored, sizeof(ignored)) > 0) {
        }
      }
      if (n > 0 && fds[0].revents != 0) {
        if (PQconsumeInput(conn_.Handle()) == 0 || conn_.Broken()) {
          return Fail(UnavailableError("postgres: the change feed's connection was lost: " +
                                       OneLine(PQerrorMessage(conn_.Handle()))));
        }
        TG_STORE_TRY(Collect(batch));
      }
    }
    batch.resync = std::exchange(resync_pending_, false) || batch.resync;
    return batch;
  }

  void Interrupt() override {
    const uint64_t one = 1;
    // A full counter still wakes the reader; nothing to handle.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

  StoreResult<std::vector<EnvironmentVersion>> Versions() override { return LoadVersions(conn_); }

  StoreResult<std::vector<SharedJti>> JtisAfter(model::JtiKind kind, int64_t after,
                                                TimePoint now) override {
    TG_STORE_ASSIGN(auto stmt,
                    sql::Query(conn_,
                               "SELECT environment_id, jti, expires_at, seq "
                               "FROM remembered_jtis WHERE kind = ?1 AND seq > ?2 "
                               "AND expires_at > ?3 ORDER BY seq",
                               remembered_jtis::KindName(kind), after, ToUnixMillis(now)));
    std::vector<SharedJti> out;
    TG_STORE_TRY(sql::ForEachRow(*stmt, [&](const sql::Row& r) -> StoreResult<void> {
      out.push_back({remembered_jtis::Read(kind, r), r.Int(3)});
      return {};
    }));
    return out;
  }

  StoreResult<int64_t> LastJtiSeq(model::JtiKind kind) override {
    TG_STORE_ASSIGN(auto stmt, sql::Query(conn_,
                                          "SELECT COALESCE(MAX(seq), 0)::bigint "
                                          "FROM remembered_jtis WHERE kind = ?1",
                                          remembered_jtis::KindName(kind)));
    int64_t seq = 0;
    TG_STORE_TRY(sql::ForEachRow(*stmt, [&](const sql::Row& r) -> StoreResult<void> {
      seq = r.Int(0);
      return {};
    }));
    return seq;
  }

 private:
  PgChangeSource(std::string conninfo, int wake_fd)
      : conninfo_(std::move(conninfo)), wake_fd_(wake_fd) {}

  StoreResult<void> Connect() {
    TG_STORE_ASSIGN(auto conn, PgConnection::Connect(conninfo_));
    TG_STORE_TRY(conn.Exec("LISTEN tollgate_config; LISTEN tollgate_jtis"));
    conn_ = std::move(conn);
    return {};
  }

  // Moves the notifications libpq has read into `batch`.
  StoreResult<void> Collect(ChangeBatch& batch) {
    if (PQconsumeInput(conn_.Handle()) == 0) {
      return Fail(UnavailableError("postgres: the change feed's connection was lost: " +
                                   OneLine(PQerrorMessage(conn_.Handle()))));
    }
    while (PGnotify* raw = PQnotifies(conn_.Handle())) {
      std::unique_ptr<PGnotify, void (*)(void*)> n(raw, &PQfreemem);
      const std::string_view channel = n->relname != nullptr ? n->relname : "";
      const std::string_view payload = n->extra != nullptr ? n->extra : "";
      bool parsed = false;
      if (channel == kConfigChannel) {
        parsed = ParseConfig(payload, batch);
      } else if (channel == kJtiChannel) {
        TG_STORE_ASSIGN(parsed, ParseJti(payload, batch));
      }
      if (!parsed) {
        log::Warn("postgres: unreadable change notification on '{}'; checking everything", channel);
        batch.resync = true;
      }
    }
    return {};
  }

  static std::optional<int64_t> Number(std::string_view text) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
  }

  // Splits off the text before the next space.
  static std::string_view Field(std::string_view& rest) {
    const size_t space = rest.find(' ');
    std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return field;
  }

  // "<environment id> <version>"
  static bool ParseConfig(std::string_view payload, ChangeBatch& batch) {
    std::string_view env = Field(payload);
    auto version = Number(payload);
    if (env.empty() || !version) return false;
    for (auto& e : batch.environments) {
      if (e.environment_id.str() == env) {
        e.version = std::max(e.version, *version);
        return true;
      }
    }
    batch.environments.push_back({EnvId(std::string(env)), *version});
    return true;
  }

  // "<kind> <seq> <expires_at ms> <environment id> <jti>" or "<kind> <seq> *"
  StoreResult<bool> ParseJti(std::string_view payload, ChangeBatch& batch) {
    auto kind = remembered_jtis::ParseKind(Field(payload));
    auto seq = Number(Field(payload));
    if (!kind || !seq) return false;
    if (payload == "*") {
      TG_STORE_ASSIGN(auto stmt, sql::Query(conn_,
                                            "SELECT environment_id, jti, expires_at FROM "
                                            "remembered_jtis WHERE kind = ?1 AND seq = ?2",
                                            remembered_jtis::KindName(*kind), *seq));
      TG_STORE_TRY(sql::ForEachRow(*stmt, [&](const sql::Row& r) -> StoreResult<void> {
        batch.jtis.push_back({remembered_jtis::Read(*kind, r), *seq});
        return {};
      }));
      return true;  // a row already purged needs nothing
    }
    auto expires = Number(Field(payload));
    std::string_view env = Field(payload);
    if (!expires || env.empty()) return false;
    batch.jtis.push_back(
        {{*kind, EnvId(std::string(env)), std::string(payload), FromUnixMillis(*expires)}, *seq});
    return true;
  }

  const std::string conninfo_;
  const int wake_fd_;
  PgConnection conn_;
  bool resync_pending_ = false;
};

}  // namespace

StoreResult<std::unique_ptr<ChangeSource>> OpenChangeSource(const std::string& conninfo) {
  return PgChangeSource::Open(conninfo);
}

StoreResult<std::vector<EnvironmentVersion>> LoadVersions(sql::Connection& db) {
  TG_STORE_ASSIGN(auto stmt, sql::Query(db, "SELECT environment_id, version FROM config_versions"));
  std::vector<EnvironmentVersion> out;
  TG_STORE_TRY(sql::ForEachRow(*stmt, [&](const sql::Row& r) -> StoreResult<void> {
    out.push_back({EnvId(r.Text(0)), r.Int(1)});
    return {};
  }));
  return out;
}

}  // namespace tollgate::storage::postgres
