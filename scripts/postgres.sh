#!/usr/bin/env bash
# A private PostgreSQL cluster for the test suite: start | stop | status.
#
# The cluster is this repository's own (never the system one): it lives under
# <repo>/.tools/postgres (git-ignored) or, when the `postgres` OS user cannot reach the
# repository, under /tmp/exchange-pg-<uid>. It listens on 127.0.0.1 only (port 5433, or
# $PGPORT_TEST), trusts local TCP connections, and runs with fsync off: it is for tests.
#
#   start   start the cluster (installing PostgreSQL first if its binaries are missing)
#           and print the URL the tests use; a no-op when a server already answers
#   stop    stop the cluster if it runs
#   status  exit 0 when a server answers at the test URL, 3 otherwise
#
# The URL checked is $EXCHANGE_TEST_DATABASE_URL when set, else the default printed by
# `start`: postgresql+psycopg://exchange:exchange@127.0.0.1:5433/exchange_test
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly HOST=127.0.0.1
readonly PORT="${PGPORT_TEST:-5433}"
readonly DEFAULT_URL="postgresql+psycopg://exchange:exchange@${HOST}:${PORT}/exchange_test"
readonly TARGET_URL="${EXCHANGE_TEST_DATABASE_URL:-$DEFAULT_URL}"
readonly REPO_CLUSTER_ROOT="$REPO_DIR/.tools/postgres"
readonly TMP_CLUSTER_ROOT="/tmp/exchange-pg-$(id -u)"

die() {
    echo "postgres.sh: $*" >&2
    exit 1
}

# The newest installed server's bin directory, or nothing when none is installed.
server_bin_dir() {
    local postgres_binary
    postgres_binary="$(ls -1 /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$postgres_binary" ]] && dirname "$postgres_binary"
    return 0
}

install_postgresql() {
    echo "PostgreSQL server binaries not found: installing the Debian package" >&2
    local sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
}

# Runs a command as the user that owns the cluster: root may not run PostgreSQL itself.
# From `/`, because that user may not be allowed into the caller's working directory.
as_cluster_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Host and port of the target URL (postgresql[+driver]://[user[:pw]@]host[:port]/db).
target_host_port() {
    local pattern='^[a-z0-9+]+://([^@/]*@)?([^:/?]+)(:([0-9]+))?'
    [[ "$TARGET_URL" =~ $pattern ]] || die "cannot parse database URL: $TARGET_URL"
    echo "${BASH_REMATCH[2]} ${BASH_REMATCH[4]:-5432}"
}

server_answers() {
    local host port bin_dir
    read -r host port < <(target_host_port)
    bin_dir="$(server_bin_dir)"
    if [[ -n "$bin_dir" && -x "$bin_dir/pg_isready" ]]; then
        "$bin_dir/pg_isready" -q -h "$host" -p "$port" -t 3
    elif command -v pg_isready >/dev/null; then
        pg_isready -q -h "$host" -p "$port" -t 3
    else
        # No client tools yet: an open TCP port is the best answer available.
        timeout 3 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
    fi
}

# The cluster root already in use, if any; else where a new one would go.
cluster_root() {
    local root
    for root in "$REPO_CLUSTER_ROOT" "$TMP_CLUSTER_ROOT"; do
        if [[ -f "$root/data/PG_VERSION" ]]; then
            echo "$root"
            return
        fi
    done
    echo "$REPO_CLUSTER_ROOT"
}

# Creates the cluster root owned by the cluster's user; falls back to /tmp when that user
# cannot traverse the repository (e.g. a home directory with mode 0700).
prepare_cluster_root() {
    local root="$1"
    mkdir -p "$root"
    [[ "$(id -u)" -eq 0 ]] && chown postgres:postgres "$root"
    if as_cluster_owner test -w "$root"; then
        echo "$root"
        return
    fi
    [[ "$root" == "$TMP_CLUSTER_ROOT" ]] && die "the cluster owner cannot write to $root"
    echo "postgres.sh: $root is not reachable by the cluster owner, using $TMP_CLUSTER_ROOT" >&2
    prepare_cluster_root "$TMP_CLUSTER_ROOT"
}

init_cluster() {
    local bin_dir="$1" root="$2"
    as_cluster_owner "$bin_dir/initdb" --pgdata="$root/data" --username=postgres \
        --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$root/initdb.log"
    # Trust TCP from 127.0.0.1 only; there is no Unix socket to authenticate.
    as_cluster_owner tee "$root/data/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  trust
EOF
    as_cluster_owner tee -a "$root/data/postgresql.conf" >/dev/null <<'EOF'

# exchange test cluster: durability traded for speed
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

create_test_role_and_database() {
    local bin_dir="$1"
    "$bin_dir/psql" --quiet --no-psqlrc -v ON_ERROR_STOP=1 \
        -h "$HOST" -p "$PORT" -U postgres -d postgres <<'EOF'
SELECT 'CREATE ROLE exchange LOGIN CREATEDB PASSWORD ''exchange'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exchange')
\gexec
SET client_min_messages = warning;
-- DROP DATABASE ... WITH (FORCE) in the tests must be allowed to end an autovacuum worker.
GRANT pg_signal_backend TO exchange;
SELECT 'CREATE DATABASE exchange_test OWNER exchange'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'exchange_test')
\gexec
EOF
}

start() {
    if server_answers; then
        echo "already running"
        echo "$TARGET_URL"
        return
    fi
    local bin_dir root
    bin_dir="$(server_bin_dir)"
    if [[ -z "$bin_dir" ]]; then
        install_postgresql
        bin_dir="$(server_bin_dir)"
        [[ -n "$bin_dir" ]] || die "PostgreSQL installed but no server binary found"
    fi
    root="$(prepare_cluster_root "$(cluster_root)")"
    [[ -f "$root/data/PG_VERSION" ]] || init_cluster "$bin_dir" "$root"
    as_cluster_owner "$bin_dir/pg_ctl" start -w -t 60 --pgdata="$root/data" \
        --log="$root/postgres.log" -o "-p $PORT" >/dev/null
    create_test_role_and_database "$bin_dir"
    echo "started"
    echo "postgresql+psycopg://exchange:exchange@${HOST}:${PORT}/exchange_test"
}

stop() {
    local bin_dir root
    bin_dir="$(server_bin_dir)"
    root="$(cluster_root)"
    if [[ -z "$bin_dir" || ! -f "$root/data/PG_VERSION" ]]; then
        echo "not running"
        return
    fi
    if as_cluster_owner "$bin_dir/pg_ctl" status --pgdata="$root/data" >/dev/null; then
        as_cluster_owner "$bin_dir/pg_ctl" stop -w -m fast --pgdata="$root/data" >/dev/null
        echo "stopped"
    else
        echo "not running"
    fi
}

status() {
    if server_answers; then
        echo "running: $TARGET_URL"
    else
        echo "not running: $TARGET_URL"
        exit 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
