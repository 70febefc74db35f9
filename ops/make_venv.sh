#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the exact pins of requirements.txt.
# A second run with unchanged requirements does nothing (the Makefile checks a stamp).
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(bash ops/find_python310.sh)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
  rm -rf .venv
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==24.0"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip check
