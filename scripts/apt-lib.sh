# Shared by the setup-*.sh scripts (sourced, not run): install one Debian package with
# apt-get, as root or through non-interactive sudo, quietly, with a clear failure message.
# Set TAG (message prefix) and PACKAGE before calling apt_install; define fail() or use ours.

fail() { echo "$TAG: $1" >&2; exit 1; }

# SUDO=() as root, (sudo -n) otherwise; fails with a hint when neither works.
apt_sudo() {
    command -v apt-get >/dev/null 2>&1 \
        || fail "$1 not found and apt-get unavailable; install the '$PACKAGE' package yourself"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 \
            || fail "$1 not found; run as root or install sudo, or install the '$PACKAGE' package yourself"
        SUDO=(sudo)
        [ -t 0 ] || SUDO=(sudo -n)  # never wait for a password in CI
    fi
}

# apt-get update + install $PACKAGE, its output kept in a temporary log shown on failure.
apt_install() {
    echo "$TAG: installing $PACKAGE with apt-get (once, about a minute)" >&2
    local log
    log=$(mktemp)
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 \
        || ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "$PACKAGE" >>"$log" 2>&1; then
        tail -n 5 "$log" >&2
        rm -f "$log"
        fail "apt-get could not install $PACKAGE (see the lines above); install the '$PACKAGE' package by hand"
    fi
    rm -f "$log"
}
