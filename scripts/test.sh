#!/usr/bin/env bash
# Set up and run the whole test suite: on SQLite, then the database-sensitive tests on
# PostgreSQL (started here unless DATABASE_URL is given). Starts and stops Redis itself.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
source .venv/bin/activate
source scripts/services.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export PYTHONDONTWRITEBYTECODE=1

trap 'stop_services' INT TERM EXIT

# Tests get their own Redis on their own port, never the one the app runs on.
TEST_REDIS_PORT="${TEST_REDIS_PORT:-6398}"
export TEST_REDIS_URL="redis://127.0.0.1:$TEST_REDIS_PORT/0"
# The code under test publishes to REDIS_URL: the test Redis, never the app's.
export REDIS_URL="$TEST_REDIS_URL"
start_embedded_redis "$TEST_REDIS_PORT" var/test-redis

echo "== Lint, types and migrations"
ruff check .
mypy
python manage.py makemigrations --check --dry-run >/dev/null

if [[ -n "${DATABASE_URL:-}" ]]; then
  echo "== Full suite on the given database"
  pytest "$@"
  exit 0
fi

echo "== Full suite on SQLite"
pytest "$@"

start_postgres "${TEST_PG_PORT:-54329}" var/test-postgres
echo "== Database-sensitive tests on PostgreSQL (all but the real-model and browser tests)"
pytest -m "postgres or not (slow or browser)" "$@"
