#!/usr/bin/env bash
# Throwaway PostgreSQL for CI and developers.
#
#   bash .ci/pg.sh start DIR   initdb into DIR/data (first time) and start it on a
#                              free 127.0.0.1 port; writes the superuser DSN to DIR/dsn
#   bash .ci/pg.sh stop DIR    stop it (pg_ctl stop -m fast)
#
# wal_level=logical, max_replication_slots=20, max_wal_senders=20, fsync=off,
# trust authentication on 127.0.0.1 only, superuser "postgres". As root the
# server runs as the system user walrelay-pg (PostgreSQL refuses root). When
# initdb is missing it installs Debian's postgresql package (root only).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

PG_USER=${WALRELAY_PG_USER:-walrelay-pg}

# pg_bindir prints the directory holding initdb/pg_ctl/postgres, or fails.
pg_bindir() {
  local d
  if d=$(pg_config --bindir 2>/dev/null) && [[ -x $d/initdb && -x $d/pg_ctl ]]; then echo "$d"; return; fi
  if d=$(command -v initdb 2>/dev/null); then
    d=$(dirname "$(readlink -f "$d")")
    [[ -x $d/pg_ctl && -x $d/postgres ]] && { echo "$d"; return; }
  fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4n | tail -n1 || true)
  [[ -n $d && -x $d/initdb ]] && { echo "$d"; return; }
  return 1
}

install_pg() {
  [[ $(id -u) == 0 ]] || die "PostgreSQL binaries not found; install them: sudo apt-get install -y postgresql (Debian/Ubuntu) or brew install postgresql (macOS)"
  command -v apt-get >/dev/null || die "PostgreSQL binaries not found and apt-get is missing: install the PostgreSQL server package"
  log "initdb not found: installing Debian's postgresql package (apt-get update && apt-get install -y postgresql)"
  # policy-rc.d exit 101 keeps the package from starting its own cluster.
  local policy=/usr/sbin/policy-rc.d created=
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 || { [[ -n $created ]] && rm -f "$policy"; die "apt-get install postgresql failed"; }
  [[ -n $created ]] && rm -f "$policy"
  return 0
}

# ensure_postgis installs the PostGIS extension for the server in $1 when it
# is missing (Debian's postgresql-<major>-postgis-3, without recommends).
# Only TestPostGIS needs it; without it that test skips, and this says why.
ensure_postgis() {
  local major
  major=$("$1/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
  [[ -f /usr/share/postgresql/$major/extension/postgis.control ]] && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    log "PostGIS not installed for PostgreSQL $major (TestPostGIS will skip): apt-get install postgresql-$major-postgis-3"
    return 0
  fi
  log "installing PostGIS for PostgreSQL $major (postgresql-$major-postgis-3)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "postgresql-$major-postgis-3" >&2 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "postgresql-$major-postgis-3" >&2; } \
    || log "WARNING: apt-get install postgresql-$major-postgis-3 failed: TestPostGIS will skip"
}

# server_cert turns TLS on for the cluster in $1 (plaintext stays allowed):
# a self-signed certificate for 127.0.0.1 and localhost, which is also the
# clients' root ($1/root.crt, for sslmode=verify-full). Skipped with a note
# when openssl is missing: only the TLS test needs it.
server_cert() {
  local dir=$1
  if ! command -v openssl >/dev/null; then
    log "openssl not found: PostgreSQL runs without TLS (the TLS test will skip)"
    return 0
  fi
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >"$dir/openssl.log" 2>&1 \
    || { cat "$dir/openssl.log" >&2; die "openssl could not make PostgreSQL's certificate"; }
  chmod 600 "$dir/data/server.key"
  [[ $(id -u) == 0 ]] && chown "$PG_USER:" "$dir/data/server.key" "$dir/data/server.crt"
  cp "$dir/data/server.crt" "$dir/root.crt"
  chmod 644 "$dir/root.crt"
  run_user "$PG_USER" tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
CONF
}

start() {
  local dir=$1 bindir port
  bindir=$(pg_bindir) || { install_pg; bindir=$(pg_bindir) || die "PostgreSQL installed but initdb still not found"; }
  ensure_postgis "$bindir"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) == 0 ]]; then
    ensure_system_user "$PG_USER"
    chown -R "$PG_USER:" "$dir"
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    log "initdb $dir/data ($bindir)"
    run_user "$PG_USER" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    port=$(free_port)
    run_user "$PG_USER" tee "$dir/data/pg_hba.conf" >/dev/null <<HBA
local all all trust
local replication all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
HBA
    run_user "$PG_USER" tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF

# walrelay CI settings
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
fsync = off
full_page_writes = off
CONF
    server_cert "$dir"
    echo "$port" >"$dir/port"
  fi
  port=$(cat "$dir/port")
  log "starting PostgreSQL on 127.0.0.1:$port (log $dir/postgres.log)"
  if ! (cd "$dir" && run_user "$PG_USER" "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/postgres.log" -w -t 120 -s); then
    tail -n 40 "$dir/postgres.log" >&2 || true
    die "PostgreSQL did not start"
  fi
  echo "$bindir" >"$dir/bindir"
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" >"$dir/dsn"
  if [[ -f $dir/root.crt ]]; then
    echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=verify-full&sslrootcert=$dir/root.crt" >"$dir/dsn_tls"
  fi
  log "PostgreSQL up: $(cat "$dir/dsn")"
}

stop() {
  local dir=$1
  [[ -f $dir/bindir && -f $dir/data/postmaster.pid ]] || return 0
  log "stopping PostgreSQL in $dir"
  (cd "$dir" && run_user "$PG_USER" "$(cat "$dir/bindir")/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 -s) \
    || (cd "$dir" && run_user "$PG_USER" "$(cat "$dir/bindir")/pg_ctl" stop -D "$dir/data" -m immediate -w -t 60 -s) || true
}

case "${1:-}" in
  start) start "${2:?usage: pg.sh start DIR}" ;;
  stop) stop "${2:?usage: pg.sh stop DIR}" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
