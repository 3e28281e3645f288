#!/usr/bin/env bash
# Set up and run the whole helpdesk on this machine: Redis (embedded unless REDIS_URL is
# set), one Celery worker, the web server. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source .venv/bin/activate
source scripts/services.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PORT="${PORT:-8000}"

cleanup() { trap - INT TERM EXIT; echo; echo "Stopping…"; stop_services; }
trap cleanup INT TERM EXIT

python manage.py seed_demo --url "http://127.0.0.1:$PORT"

if [[ -z "${REDIS_URL:-}" ]]; then
  EMBEDDED_REDIS_PORT="${EMBEDDED_REDIS_PORT:-6399}"
  export REDIS_URL="redis://127.0.0.1:$EMBEDDED_REDIS_PORT/0"
  start_embedded_redis "$EMBEDDED_REDIS_PORT" var/redis
fi

# Two workers, so answers keep flowing while a job runs: one loads the model once and answers
# (with the default queue and beat: the sweeps), one runs the jobs (training, evaluation,
# comparisons, exports). README "Production" lists the queues.
start_service celery -A helpdesk worker -B -s var/celerybeat-schedule -Q inference,default \
  --concurrency 1 --pool prefork --loglevel INFO -n answers@%h
# It loads models per job, not at start: it has no answers to warm up for.
ASSISTANT_WARM_UP=0 start_service celery -A helpdesk worker -Q training,evaluation,exports \
  --concurrency 1 --pool prefork --loglevel INFO -n jobs@%h

start_service gunicorn helpdesk.wsgi --bind "127.0.0.1:$PORT" --workers 2 --threads 4 \
  --keep-alive 10 --access-logfile - --graceful-timeout 5

echo
echo "Helpdesk running at http://127.0.0.1:$PORT/  (admin: http://127.0.0.1:$PORT/admin/)"
echo "Press Ctrl-C to stop."
wait -n "${SERVICE_PIDS[@]}" || true
