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

TAG=setup-postgres PACKAGE=postgresql
source "$(dirname "$0")/apt-lib.sh"
apt_sudo "initdb/pg_ctl"

# policy-rc.d exit 101: the package must not start (or enable) a system-wide server
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
    if printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null 2>&1 \
        && "${SUDO[@]}" chmod 755 "$policy"; then
        added_policy=1
    fi
fi
cleanup_policy() { if [ "$added_policy" -eq 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup_policy EXIT
apt_install

have_postgres \
    || fail "apt-get finished but initdb/pg_ctl were not found (looked on PATH and in /usr/lib/postgresql/*/bin); install the 'postgresql' package by hand"
