#!/usr/bin/env bash
# Prepares the real-browser tests (tests/browser/) on a fresh machine. Idempotent:
#  1. Debian's chromium at /usr/bin/chromium (apt-get only when it is missing);
#  2. Playwright for Python in .venv at the version pinned in requirements.txt
#     (the Python package only: the browser is Debian's, never a Playwright download);
#  3. axe-core (exact version below) from the npm registry into .vendor/axe/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION="4.14.1"

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

playwright_pin=$(grep -E '^playwright==' requirements.txt || true)
if [ -n "$playwright_pin" ] && [ -x .venv/bin/python ]; then
  wanted=${playwright_pin#playwright==}
  if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('playwright') != '$wanted')" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "$playwright_pin"
  fi
fi

AXE_DIR=.vendor/axe
mkdir -p "$AXE_DIR"
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] || \
   ! grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
  npm install --prefix "$AXE_DIR" --no-save --no-audit --no-fund --no-package-lock --silent \
    "axe-core@$AXE_VERSION" >/dev/null
fi

/usr/bin/chromium --version
