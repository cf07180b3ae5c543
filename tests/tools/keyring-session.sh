#!/usr/bin/env bash
# Run a command with a real, unlocked Secret Service: a private D-Bus session bus
# (dbus-run-session) with gnome-keyring-daemon's secrets component, its "login" keyring
# unlocked with a fixed test password. Keyrings live in $XDG_DATA_HOME/keyrings (or
# ~/.local/share/keyrings), so runs sharing a HOME see the same secrets.
#
# usage: tests/tools/keyring-session.sh COMMAND [ARGS...]
#   KEYRING_PASSWORD  test password of the login keyring (default "cec-test")
set -euo pipefail

if [ "${1:-}" = "--inner" ]; then
    shift
    # Give the command back the caller's stderr (the bus daemon's noise went to /dev/null).
    exec 2>&3 3>&-
    # Start the daemon on this session bus and unlock (creating if needed) the login keyring.
    eval "$(printf '%s' "${KEYRING_PASSWORD:-cec-test}" |
        gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
    # Wait until org.freedesktop.secrets answers on the bus (bounded).
    for _ in $(seq 50); do
        if dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
            grep -q 'boolean true'; then
            break
        fi
        sleep 0.1
    done
    exec "$@"
fi

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
for tool in dbus-run-session gnome-keyring-daemon dbus-send; do
    command -v "$tool" >/dev/null || { echo "keyring-session: $tool missing (make deps)" >&2; exit 127; }
done
mkdir -p "${XDG_DATA_HOME:-$HOME/.local/share}/keyrings"
# dbus-daemon chatters on stderr ("Failed to set fd limit"): keep it out of the command's
# stderr, which tests check line by line.
exec 3>&2
exec dbus-run-session -- "$0" --inner "$@" 2>/dev/null
