#!/usr/bin/env bash
# A real three-node Apache Kafka 4.x cluster (KRaft) on loopback, from the
# Maven Central jars .ci/kafka.sh resolves, for the leader-failover test.
#
#   bash .ci/kafka-cluster.sh start DIR         first time: write DIR/node{1,2,3}/server.properties
#                                               on free ports, format storage; start the three
#                                               nodes and wait until the metadata lists all three
#   bash .ci/kafka-cluster.sh stop DIR          SIGTERM every node, SIGKILL after 30 s
#   bash .ci/kafka-cluster.sh kill-node DIR N   SIGKILL node N (1-3) at once: a crash
#   bash .ci/kafka-cluster.sh start-node DIR N  start node N again (same ports and logs) and wait
#                                               until the metadata lists all three brokers
#
# Every node is broker+controller (node.id 1-3, a controller quorum of three
# that survives one dead node), PLAINTEXT only, with the settings of a
# production cluster that matter to a producer: default.replication.factor 3,
# min.insync.replicas 2 (walrelay writes with acks=all). A killed broker is
# fenced after broker.session.timeout.ms (Kafka's default, 9 s), then its
# partitions get new leaders.
#
# Writes DIR/brokers (the three host:ports, comma-separated) and DIR/ctl, an
# executable taking `kill N`, `start N` or `stop`. Node N's log is
# DIR/nodeN/kafka.log; its tail is printed when a start fails.
#
# Environment: KAFKA_VERSION, WALRELAY_CACHE (as .ci/kafka.sh), KAFKA_HEAP
# (per node; default -Xms128m -Xmx384m).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
CACHE=${WALRELAY_CACHE:-${HOME:-/root}/.cache/walrelay}
LIB=$CACHE/kafka-$KAFKA_VERSION/lib
NODES=(1 2 3)

# prepare resolves the jars (kafka.sh's cache) and builds kafkaping into
# DIR (not kafka.sh's cached one, which may predate -min-brokers).
prepare() {
  bash "$here/kafka.sh" jars || exit $?
  PING=$1/kafkaping
  [[ -x $PING ]] || (cd "$here/.." && go build -o "$PING" ./.ci/kafkaping) || die "go build ./.ci/kafkaping failed"
}

# configure writes each node's server.properties and log4j2 config, the
# brokers file and ctl, and formats the three storages with one cluster id.
configure() {
  local dir=$1 n cid voters="" brokers="" ports=() cports=() all
  for n in "${NODES[@]}"; do
    ports[n]=$(free_port); cports[n]=$(free_port)
  done
  all=$(printf '%s\n' "${ports[@]}" "${cports[@]}" | sort -u | wc -l)
  [[ $all == 6 ]] || die "free_port gave the same port twice; run start again"
  for n in "${NODES[@]}"; do
    voters+="${voters:+,}$n@127.0.0.1:${cports[n]}"
    brokers+="${brokers:+,}127.0.0.1:${ports[n]}"
  done
  cid=$(kafka_cluster_id)
  for n in "${NODES[@]}"; do
    local nd=$dir/node$n
    mkdir -p "$nd/data"
    cat >"$nd/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[n]},CONTROLLER://127.0.0.1:${cports[n]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[n]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$nd/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=true
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=9000
replica.lag.time.max.ms=10000
log.flush.interval.messages=9223372036854775807
PROPS
    kafka_log4j2 "$nd/log4j2.properties"
    echo "127.0.0.1:${ports[n]}" >"$nd/broker"
    java -cp "$LIB/*" -Dlog4j2.configurationFile="$nd/log4j2.properties" kafka.tools.StorageTool format \
      -t "$cid" -c "$nd/server.properties" --ignore-formatted >"$nd/format.log" 2>&1 \
      || { cat "$nd/format.log" >&2; die "kafka storage format of node $n failed"; }
  done
  echo "$brokers" >"$dir/brokers"
  cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
# Controls the Kafka cluster in $dir: kill N, start N (N = 1..3) or stop.
case "\$1" in
  kill) exec bash '$here/kafka-cluster.sh' kill-node '$dir' "\$2" ;;
  start) exec bash '$here/kafka-cluster.sh' start-node '$dir' "\$2" ;;
  stop) exec bash '$here/kafka-cluster.sh' stop '$dir' ;;
  *) echo "usage: \$0 kill N | start N | stop" >&2; exit 2 ;;
esac
CTL
  chmod +x "$dir/ctl"
  log "formatted a 3-node cluster in $dir (cluster id $cid): $brokers"
}

# launch starts node $2 of cluster $1 in the background (no wait).
launch() {
  local nd=$1/node$2
  if [[ -f $nd/pid ]] && alive "$(cat "$nd/pid")"; then
    log "node $2 already running (pid $(cat "$nd/pid"))"; return 0
  fi
  # setsid: the node gets its own process group (see kafka.sh).
  setsid java ${KAFKA_HEAP:--Xms128m -Xmx384m} -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$nd/log4j2.properties" -cp "$LIB/*" \
    kafka.Kafka "$nd/server.properties" >>"$nd/kafka.log" 2>&1 </dev/null &
  echo "$!" >"$nd/pid"
}

# ready waits until every node answers a metadata request listing three
# brokers; on failure it prints the tail of each node's log.
ready() {
  local dir=$1 n
  for n in "${NODES[@]}"; do
    if ! "$PING" -brokers "$(cat "$dir/node$n/broker")" -min-brokers 3 -timeout 90s >&2; then
      for n in "${NODES[@]}"; do
        log "last lines of $dir/node$n/kafka.log:"; tail -n 30 "$dir/node$n/kafka.log" >&2 || true
      done
      return 1
    fi
  done
}

start() {
  local dir=$1 n t0=$SECONDS
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  prepare "$dir"
  [[ -f $dir/brokers ]] || configure "$dir"
  log "starting the 3-node Kafka $KAFKA_VERSION cluster $(cat "$dir/brokers")"
  for n in "${NODES[@]}"; do launch "$dir" "$n"; done
  ready "$dir" || { stop "$dir"; die "the Kafka cluster did not come up"; }
  log "Kafka cluster up in $(( SECONDS - t0 ))s"
}

start_node() {
  local dir=$1 n=$2 t0=$SECONDS
  node_dir "$dir" "$n" >/dev/null
  prepare "$dir"
  launch "$dir" "$n"
  ready "$dir" || die "node $n did not rejoin the cluster"
  log "node $n rejoined in $(( SECONDS - t0 ))s"
}

# kill_node crashes node N: SIGKILL, no controlled shutdown.
kill_node() {
  local nd pid
  nd=$(node_dir "$1" "$2")
  [[ -f $nd/pid ]] || return 0
  pid=$(cat "$nd/pid")
  log "killing Kafka node $2 (pid $pid, SIGKILL)"
  kill -KILL "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.1; done
  rm -f "$nd/pid"
}

node_dir() {
  [[ $2 =~ ^[123]$ && -d $1/node$2 ]] || die "no node '$2' in $1 (nodes 1, 2, 3)"
  echo "$1/node$2"
}

stop() {
  local n
  for n in "${NODES[@]}"; do # all at once, then wait for each
    [[ -f $1/node$n/pid ]] && kill -TERM "$(cat "$1/node$n/pid")" 2>/dev/null
  done
  for n in "${NODES[@]}"; do
    [[ -d $1/node$n ]] && stop_pidfile "$1/node$n" "Kafka node $n"
  done
  return 0
}

case "${1:-}" in
  start) start "${2:?usage: kafka-cluster.sh start DIR}" ;;
  stop) stop "${2:?usage: kafka-cluster.sh stop DIR}" ;;
  kill-node) kill_node "${2:?usage: kafka-cluster.sh kill-node DIR N}" "${3:?usage: kafka-cluster.sh kill-node DIR N}" ;;
  start-node) start_node "${2:?usage: kafka-cluster.sh start-node DIR N}" "${3:?usage: kafka-cluster.sh start-node DIR N}" ;;
  *) echo "usage: $0 start|stop DIR | kill-node|start-node DIR N" >&2; exit 2 ;;
esac
