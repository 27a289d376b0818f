#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test tier: trust auth, loopback only, its own free port,
# fsync off. `start` prints the admin URL (postgres://postgres@127.0.0.1:PORT/postgres) on stdout;
# `stop DIR` stops and removes it. initdb refuses root, so it runs as the postgres user.
# HELDAR_PG_TEST_OPTS adds server options to `start` (e.g. the cluster bench's
# `-c shared_preload_libraries=pg_stat_statements`).
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
[ -x "$PGBIN/initdb" ] || { echo "pg-test: PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/heldar-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_pg "'$PGBIN/initdb' -D '$dir/data' -U postgres -A trust --no-sync >'$dir/initdb.log' 2>&1" \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "'$PGBIN/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 30 \
      -o \"-k '$dir' -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${HELDAR_PG_TEST_OPTS:-}\" start >/dev/null" \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "$dir" > "$dir/.dir"
    echo "postgres://postgres@127.0.0.1:$port/postgres $dir"
    ;;
  stop)
    dir=${2:?usage: pg-test.sh stop DIR}
    [ -d "$dir/data" ] && as_pg "'$PGBIN/pg_ctl' -D '$dir/data' -m immediate -w stop >/dev/null 2>&1" || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-test.sh start | stop DIR" >&2
    exit 2
    ;;
esac
