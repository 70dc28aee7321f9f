#!/usr/bin/env bash
# The README's test command: sets up everything on a fresh machine (Debian packages, a
# virtualenv, the official artefacts from ../shared/reference) and runs lint, types and tests.
# Runs as a normal user when the Debian packages are installed; installing them needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

# CI runs every official case: without the reference data beside this clone it stops at once,
# before installing anything, naming what is missing (locally those tests skip instead).
reference=../shared/reference
if [ "${CI:-}" = "true" ] && [ ! -d "$reference" ]; then
  where="$(cd .. && pwd)/shared"
  if [ -d ../shared ]; then
    echo "tests/run.sh: $reference is missing ($where has no reference/):" >&2
  else
    echo "tests/run.sh: ../shared is missing (no $where beside this clone):" >&2
  fi
  echo "  CI needs $reference (official XSD, Schematron, examples, unit tests);" >&2
  echo "  no official-case test may skip in CI (CI=true)" >&2
  exit 2
fi

need=()
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
# A live OCSP responder for the revocation tests (`openssl ocsp`).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
# The JVM Schematron engine: a JDK (javac compiles its small host once) and Saxon-HE.
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/Saxon-HE.jar ] || need+=(libsaxonhe-java)
# The console's browser tests drive Debian's chromium (Playwright never downloads a browser);
# a CJK font renders the Chinese labels in screenshots and readable PDFs.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# TrustVC (npm, under Node) judges the W3C VC bills of lading.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
# The export gate's subject key inside a PKCS#11 token is tested against SoftHSM2.
[ -f /usr/lib/softhsm/libsofthsm2.so ] || need+=(softhsm2)
# Installed already: nothing needs root. Missing: apt-get as root, or through sudo when it
# works without a password prompt; otherwise stop and name the packages.
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo"
    else
      echo "tests/run.sh: missing Debian packages: ${need[*]}" >&2
      echo "install them as root, then run this again without root:" >&2
      echo "  sudo apt-get install ${need[*]}" >&2
      exit 2
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/run.sh: missing packages (Debian names): ${need[*]}; no apt-get here to install them" >&2
    exit 2
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

export LINGANG_HOME="${LINGANG_HOME:-$PWD/var/test-home}"
if [ -d "$reference" ]; then
  .venv/bin/lingang artefacts import "$reference"
else
  echo "tests/run.sh: no $reference beside this clone: the official-case tests will skip" >&2
fi

# The npm packages the interop tests run (pinned with their lock file in tests/node/), into
# the git-ignored var/node; reinstalled only when the lock file changed (npm's cache serves
# a re-install offline).
mkdir -p var/node
if ! cmp -s tests/node/package-lock.json var/node/package-lock.json \
  || [ ! -d var/node/node_modules/@trustvc/trustvc ]; then
  cp tests/node/package.json tests/node/package-lock.json var/node/
  npm ci --prefix var/node --no-audit --no-fund --ignore-scripts --loglevel=error
fi

.venv/bin/ruff check gateway adapters tests bench
.venv/bin/ruff format --check gateway adapters tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup "$@"
