#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback for the test suite: `scripts/pg.sh start` prints
# the URL to use, `scripts/pg.sh stop` removes the cluster. Installs Debian's postgresql if needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${FINISHLINE_TEST_PG_PORT:-54329}"
PG_DIR="${FINISHLINE_TEST_PG_DIR:-/tmp/finishline-test-pg}"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] || { apt_install postgresql >&2; dir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"; }
  echo "$dir"
}

# PostgreSQL refuses to run as root; run it as the postgres system user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin
  bin="$(pg_bin)"
  if ! as_owner "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR"
    as_owner "$bin/initdb" -D "$PG_DIR" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
    as_owner "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null
  fi
  echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

stop() {
  local bin
  bin="$(pg_bin)"
  as_owner "$bin/pg_ctl" -D "$PG_DIR" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/pg.sh start|stop" >&2; exit 2 ;;
esac
