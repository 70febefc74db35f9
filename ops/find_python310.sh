#!/usr/bin/env bash
# Prints the path of a working Python 3.10 interpreter, or fails with a hint.
set -u
try() { "$@" -c 'import sys; assert sys.version_info[:2] == (3, 10); print(sys.executable)' 2>/dev/null; }
try python3.10 && exit 0
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -V -r); do
    PYENV_VERSION=$v try python3.10 && exit 0
  done
fi
for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -x "$p" ] && try "$p" && exit 0
done
echo "Python 3.10 not found: install python3.10 (Rasa 3.6 does not run on 3.11)" >&2
exit 1
