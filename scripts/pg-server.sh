#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL 15 server for tests and benchmarks.
#   scripts/pg-server.sh start [DIR] [PORT]   prints the admin URL on stdout
#   scripts/pg-server.sh stop  [DIR]
# initdb refuses to run as root, so the server runs as the `postgres` user, trusts loopback
# only, and runs with fsync off: it holds nothing worth keeping.
set -euo pipefail
PG_BIN=/usr/lib/postgresql/15/bin
cmd="${1:-start}"; dir="${2:-/tmp/wukong-pg}"; port="${3:-55432}"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${cmd}" in
  start)
    if [ ! -f "${dir}/PG_VERSION" ]; then
      mkdir -p "${dir}"; [ "$(id -u)" = 0 ] && chown postgres:postgres "${dir}"
      as_pg "${PG_BIN}/initdb" -D "${dir}" -A trust -U postgres --no-sync -E UTF8 >/dev/null
    fi
    if ! as_pg "${PG_BIN}/pg_ctl" -D "${dir}" status >/dev/null 2>&1; then
      as_pg "${PG_BIN}/pg_ctl" -D "${dir}" -l "${dir}/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p ${port} -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB -c track_functions=all" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:${port}/postgres"
    ;;
  stop)
    as_pg "${PG_BIN}/pg_ctl" -D "${dir}" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
