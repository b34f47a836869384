#!/usr/bin/env bash
# System packages the test suite needs (Debian/Ubuntu): installs only what is missing.
# The call-store tests run a throwaway PostgreSQL cluster from the server binaries; the
# multi-instance test puts nginx in front of two bridge processes; the console tests drive
# Debian's Chromium through Playwright's own driver (no browser download).
set -euo pipefail

packages=(postgresql nginx chromium)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
