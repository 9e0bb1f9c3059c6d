# Shared helpers for the .ci scripts; sourced, not run.

# log prints a timestamped progress line on stderr (stdout stays clean for
# scripts whose output is eval'd).
log() { printf '[ci %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# die prints an error and exits non-zero.
die() { log "ERROR: $*"; exit 1; }

# free_port prints a TCP port on 127.0.0.1 that nothing listens on. It picks
# below Linux's ephemeral range (32768+) so outgoing connections don't take it.
free_port() {
  local p i
  for i in $(seq 1 100); do
    p=$(( RANDOM % 12000 + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      if ! command -v ss >/dev/null || ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
        echo "$p"; return 0
      fi
    fi
  done
  die "no free TCP port found on 127.0.0.1"
}

# wait_tcp PORT SECONDS: wait until something accepts on 127.0.0.1:PORT.
wait_tcp() {
  local port=$1 deadline=$(( SECONDS + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    (( SECONDS < deadline )) || return 1
    sleep 0.2
  done
}

# run_user USER CMD...: run CMD as USER when root, else as the current user.
run_user() {
  local user=$1; shift
  if [[ $(id -u) == 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# ensure_system_user NAME: create an unprivileged system user when missing.
ensure_system_user() {
  local name=$1 i
  for i in 1 2 3 4 5; do
    id -u "$name" >/dev/null 2>&1 && return 0
    useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$name" 2>/dev/null || sleep 0.3
  done
  id -u "$name" >/dev/null 2>&1 || die "cannot create system user $name (useradd)"
}

# alive PID: the process exists and is not a zombie (a killed broker whose
# parent is gone may linger as a zombie where nothing reaps it).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)
  [[ $state != Z ]]
}

# stop_pidfile DIR NAME: stop the process whose PID is in DIR/pid with
# SIGTERM, SIGKILL after 30 s, and remove DIR/pid; nothing to do without it.
stop_pidfile() {
  local dir=$1 name=$2 pid i
  [[ -f $dir/pid ]] || return 0
  pid=$(cat "$dir/pid")
  if alive "$pid"; then
    log "stopping $name in $dir (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then
      log "$name did not stop within 30 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$dir/pid"
}

# kafka_log4j2 FILE writes the broker's log4j2 configuration (console,
# INFO, state changes at WARN), shared by kafka.sh and kafka-cluster.sh.
kafka_log4j2() {
  cat >"$1" <<'L4J'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.change.name = state.change.logger
logger.change.level = WARN
L4J
}

# kafka_cluster_id prints a random KRaft cluster id (16 bytes, base64url).
# A base64url id may start with '-', which StorageTool's argument parser
# takes for an option (about 1 start in 64 failed that way): that first
# character is changed, which keeps a valid 16-byte id.
kafka_cluster_id() {
  local cid
  cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  [[ $cid == -* ]] && cid="A${cid:1}"
  printf '%s\n' "$cid"
}
