#!/usr/bin/env bash
# The README's demo command: sets up a virtualenv on a fresh machine, installs the gateway and
# the official artefacts (from ../shared/reference when it is there) into the gateway's data
# home ($LINGANG_HOME, else ~/.lingang: the one every `lingang` command uses), and runs
# `lingang demo`. Arguments go to `lingang demo`: `bash deploy/demo.sh --keep` keeps the demo's
# data directory (store, test PKI, every document's outputs) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e .
export LINGANG_HOME="${LINGANG_HOME:-$HOME/.lingang}"
if [ -d ../shared/reference ] && .venv/bin/lingang artefacts --help >/dev/null 2>&1; then
  .venv/bin/lingang artefacts import ../shared/reference
fi
exec .venv/bin/lingang demo "$@"
