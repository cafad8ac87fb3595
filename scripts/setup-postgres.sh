#!/usr/bin/env bash
# Install Debian's PostgreSQL server binaries for the store tests (tests/postgres.py).
# Idempotent: returns at once when initdb and pg_ctl are already there. Starts no server
# (the tests start a throwaway one on 127.0.0.1 and stop it).
set -euo pipefail

have_postgres() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        return 0
    fi
    local bin
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && [ -x "$bin/postgres" ] && return 0
    done
    return 1
}

have_postgres && exit 0

fail() { echo "setup-postgres: $1" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 \
    || fail "initdb/pg_ctl not found and apt-get unavailable; install the PostgreSQL server so that initdb and pg_ctl are on PATH"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
        || fail "PostgreSQL not found; run as root or install sudo, or install the 'postgresql' package yourself"
    SUDO=(sudo)
    [ -t 0 ] || SUDO=(sudo -n)  # never wait for a password in CI
fi

echo "setup-postgres: installing postgresql with apt-get (once, about a minute)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# policy-rc.d exit 101: the package must not start (or enable) a system-wide server
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    if printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null 2>&1 \
        && "${SUDO[@]}" chmod 755 "$policy"; then
        added_policy=1
    fi
fi
cleanup_policy() { [ "$added_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"; rm -f "$log"; }
trap cleanup_policy EXIT
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 \
    || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends postgresql >>"$log" 2>&1; then
    tail -n 5 "$log" >&2
    fail "apt-get could not install postgresql (see the lines above); install the 'postgresql' package by hand"
fi

have_postgres \
    || fail "apt-get finished but initdb/pg_ctl were not found (looked on PATH and in /usr/lib/postgresql/*/bin); install the 'postgresql' package by hand"
