#!/usr/bin/python3
"""PostgreSQL helper of bench/run.sh: a throwaway cluster (tests/testutil/pg_cluster.py, as the
test suite uses: initdb in DIR, a free loopback port, run as `nobody` under root) with one
database for the benchmark's nodes.

  pg.py start DIR   starts the cluster, creates the database; prints {"store", "version"}
  pg.py xacts DIR   transactions committed plus rolled back in that database so far, read from
                    pg_stat_database through a connection to another database (so the reading
                    itself is not counted)
  pg.py stop DIR    stops the cluster and removes DIR
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "testutil"))
from pg_cluster import PgCluster  # noqa: E402


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "xacts", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    cluster = PgCluster(argv[2])
    name_file = os.path.join(cluster.root, "bench-database")
    if argv[1] == "start":
        cluster.start()
        database = cluster.create_database("tollgate_bench")
        with open(name_file, "w") as f:
            f.write(database)
        version = cluster.psql("SHOW server_version")
        print(json.dumps({"store": cluster.uri(database), "version": version}))
    elif argv[1] == "xacts":
        with open(name_file) as f:
            database = f.read().strip()
        print(cluster.psql("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                           f"WHERE datname = '{database}'"))
    else:
        cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
