#!/bin/sh
# Set up dcindex on a fresh machine: a virtual environment in .venv with dcindex installed (editable),
# plus the test tools with --test. Installs Debian's CJK font (for PNG figures with Chinese labels) when
# apt-get is available and the font is missing; everything else comes from PyPI.
set -eu
cd "$(dirname "$0")/.."
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
if ! (fc-list 2>/dev/null | grep -qi "CJK"); then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1)) \
      || echo "setup: could not install fonts-noto-cjk; PNG figures will lack Chinese glyphs" >&2
  else
    echo "setup: no CJK font found; install fonts-noto-cjk for Chinese labels in PNG figures" >&2
  fi
fi
echo "setup: dcindex is installed in .venv"
