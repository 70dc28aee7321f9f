#!/usr/bin/env bash
# The README's demo command: sets up a virtualenv on a fresh machine, installs the gateway and
# the official artefacts (from ../shared/reference when it is there), and runs `lingang demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
export LINGANG_HOME="${LINGANG_HOME:-$PWD/var/demo-home}"
if [ -d ../shared/reference ] && .venv/bin/lingang artefacts --help >/dev/null 2>&1; then
  .venv/bin/lingang artefacts import ../shared/reference
fi
exec .venv/bin/lingang demo "$@"
