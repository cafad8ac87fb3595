#!/usr/bin/env bash
# Install Debian's headless Chromium for the browser tests (tests/browser.py).
# Idempotent: returns at once when chromium is already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi

TAG=setup-browser PACKAGE=chromium
source "$(dirname "$0")/apt-lib.sh"
apt_sudo chromium
apt_install

[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 \
    || fail "apt-get finished but no chromium executable was found; install the 'chromium' package by hand"
