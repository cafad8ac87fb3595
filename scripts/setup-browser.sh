#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests (tests/browser.py).
# Idempotent: returns at once when chromium is already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi

fail() { echo "setup-browser: $1" >&2; exit 1; }

command -v apt-get >/dev/null 2>&1 \
    || fail "chromium not found and apt-get unavailable; install Chromium so that /usr/bin/chromium exists"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
        || fail "chromium not found; run as root or install sudo, or install the 'chromium' package yourself"
    SUDO=(sudo)
    [ -t 0 ] || SUDO=(sudo -n)  # never wait for a password in CI
fi

echo "setup-browser: installing chromium with apt-get (once, about a minute)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 \
    || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends chromium >>"$log" 2>&1; then
    tail -n 5 "$log" >&2
    fail "apt-get could not install chromium (see the lines above); install the 'chromium' package by hand"
fi

[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 \
    || fail "apt-get finished but no chromium executable was found; install the 'chromium' package by hand"
