#!/usr/bin/env bash
# Installs PostgreSQL and Redis from Debian's packages when they are missing.
# Idempotent: a second run with both present does nothing. The Debian services are
# not needed running: ops/services.py starts throwaway servers of its own on loopback.
set -euo pipefail

have_postgres() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}
have_redis() { command -v redis-server >/dev/null 2>&1; }

missing=()
have_postgres || missing+=(postgresql)
have_redis || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install_services: need root (or password-less sudo) to install: ${missing[*]}" >&2
    exit 2
  fi
else
  SUDO=()
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install_services: apt-get not available; install ${missing[*]} by hand" >&2
  exit 2
fi
echo "install_services: installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts would start the system services; nothing here needs them.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT
if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
have_postgres && have_redis
