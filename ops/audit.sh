#!/usr/bin/env bash
# Security audit of the pinned dependencies: pip-audit (in its own venv, so it cannot
# disturb Rasa's pins) plus the curated list in security/advisories.yml.
set -uo pipefail
cd "$(dirname "$0")/.."
tool=.venv-audit
if [ ! -x "$tool/bin/pip-audit" ]; then
  py=$(bash ops/find_python310.sh) || exit 1
  "$py" -m venv "$tool" && "$tool/bin/pip" install --quiet --disable-pip-version-check "pip-audit==2.10.1" >/dev/null
fi
report=$(mktemp)
timeout 600 "$tool/bin/pip-audit" -r requirements.txt --no-deps --disable-pip --progress-spinner off \
  -f json -o "$report" >/dev/null 2>&1
.venv/bin/python ops/audit_pins.py --pip-audit-json "$report"
rc=$?
rm -f "$report"
exit $rc
