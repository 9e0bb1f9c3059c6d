#!/usr/bin/env bash
# A real Apache Kafka 4.x broker (KRaft, one node: broker+controller) from
# Maven Central jars, for CI and developers. No Docker, no tarball.
#
#   bash .ci/kafka.sh start DIR     first time: resolve jars, write DIR/server.properties
#                                   on two free ports, format storage; then start and wait
#                                   until a metadata request lists the broker
#   bash .ci/kafka.sh stop DIR      SIGTERM (controlled shutdown), SIGKILL after 30 s
#   bash .ci/kafka.sh restart DIR   stop + start, same ports and data
#   bash .ci/kafka.sh kill DIR      SIGKILL at once (a crash; start recovers the logs)
#   bash .ci/kafka.sh jars          only resolve the jars into the cache
#
# Writes DIR/brokers (host:port) and DIR/ctl, an executable that takes
# `stop` or `start` for this broker (what WALRELAY_TEST_KAFKA_CTL points to).
#
# Besides PLAINTEXT the broker has two secured listeners, for the TLS and SASL
# tests (certificates from a throwaway CA made with openssl in DIR/tls):
#   DIR/tls_brokers   SSL, client certificate required (DIR/tls/client.pem and
#                     client-key.pem, signed by DIR/tls/ca.pem)
#   DIR/sasl_brokers  SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for
#                     the user in DIR/sasl_user, password in DIR/sasl_password
# The broker log is DIR/kafka.log; its tail is printed when a start fails.
#
# Environment: KAFKA_VERSION (default 4.1.1), WALRELAY_CACHE (default
# ~/.cache/walrelay; jars go to $WALRELAY_CACHE/kafka-$KAFKA_VERSION/lib),
# KAFKA_HEAP (default -Xms256m -Xmx1g).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
CACHE=${WALRELAY_CACHE:-${HOME:-/root}/.cache/walrelay}
LIB=$CACHE/kafka-$KAFKA_VERSION/lib
PING=$CACHE/kafka-$KAFKA_VERSION/kafkaping

# jars resolves the broker's runtime classpath into $LIB once (Maven's
# ~/.m2 caches the downloads too). Exit status 3 means Maven failed.
jars() {
  if [[ -f $LIB/.complete ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found (apt-get install -y maven)"; return 3; }
  command -v java >/dev/null || { log "java not found (apt-get install -y openjdk-17-jre-headless)"; return 3; }
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies from Maven Central into $LIB"
  mkdir -p "$CACHE"
  rm -rf "$LIB.tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIB.tmp" >"$CACHE/mvn-kafka-$KAFKA_VERSION.log" 2>&1; then
    log "Maven could not resolve the Kafka broker jars; its output:"
    tail -n 40 "$CACHE/mvn-kafka-$KAFKA_VERSION.log" >&2 || true
    return 3
  fi
  rm -rf "$LIB"; mv "$LIB.tmp" "$LIB"; touch "$LIB/.complete"
  log "jars ready: $(ls "$LIB" | wc -l) files"
}

# ping_tool builds .ci/kafkaping once per cache (a real metadata request).
ping_tool() {
  [[ -x $PING ]] && return 0
  (cd "$here/.." && go build -o "$PING" ./.ci/kafkaping) || die "go build ./.ci/kafkaping failed"
}

# SASL_USER and SASL_PASSWORD are the test user of the SASL_SSL listener.
SASL_USER=walrelay
SASL_PASSWORD=walrelay-test-secret

# make_certs writes a throwaway CA, a server certificate for 127.0.0.1 and
# localhost (Kafka's PEM keystore: PKCS#8 key and certificate in one file) and
# a client certificate into $1, all valid for ten years.
make_certs() {
  local d=$1
  if ! command -v openssl >/dev/null; then
    [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || die "openssl not found (apt-get install -y openssl): the TLS listeners need certificates"
    log "openssl not found: installing Debian's openssl package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >&2 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >&2; } \
      || die "apt-get install openssl failed"
  fi
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 3650 -subj "/CN=walrelay test CA"
    openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 3650 -extfile server.ext
    cat server-key.pem server.pem >server-keystore.pem
    openssl req -newkey rsa:2048 -nodes -keyout client-key.pem -out client.csr -subj "/CN=walrelay-client"
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client.pem -days 3650
    rm -f ./*.csr server.ext
  ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl could not make the test certificates"; }
}

# secure_props prints the settings of the SSL (mutual TLS) and SASL_SSL
# listeners; $1 is the directory of the certificates.
secure_props() {
  local t=$1
  cat <<PROPS
ssl.keystore.type=PEM
ssl.keystore.location=$t/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$t/ca.pem
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
PROPS
}

# configure writes server.properties, log4j2 config and the ctl script, and
# formats the storage with a random cluster id and the SCRAM user.
configure() {
  local dir=$1 port cport sport aport cid
  port=$(free_port); cport=$(free_port); sport=$(free_port); aport=$(free_port)
  while [[ $(printf '%s\n' "$port" "$cport" "$sport" "$aport" | sort -u | wc -l) != 4 ]]; do
    cport=$(free_port); sport=$(free_port); aport=$(free_port)
  done
  mkdir -p "$dir/data"
  make_certs "$dir/tls"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SSL://127.0.0.1:$sport,SASL_SSL://127.0.0.1:$aport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SSL://127.0.0.1:$sport,SASL_SSL://127.0.0.1:$aport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
PROPS
  secure_props "$dir/tls" >>"$dir/server.properties"
  kafka_log4j2 "$dir/log4j2.properties"
  echo "127.0.0.1:$port" >"$dir/brokers"
  echo "127.0.0.1:$sport" >"$dir/tls_brokers"
  echo "127.0.0.1:$aport" >"$dir/sasl_brokers"
  echo "$SASL_USER" >"$dir/sasl_user"
  echo "$SASL_PASSWORD" >"$dir/sasl_password"
  cat >"$dir/ctl" <<CTL
#!/usr/bin/env bash
# Controls the Kafka broker in $dir: \$1 is stop, start, restart or kill.
exec bash '$here/kafka.sh' "\$1" '$dir'
CTL
  chmod +x "$dir/ctl"
  cid=$(kafka_cluster_id)
  log "formatting Kafka storage in $dir/data (cluster id $cid)"
  java -cp "$LIB/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool format \
    -t "$cid" -c "$dir/server.properties" --ignore-formatted \
    --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" >"$dir/format.log" 2>&1 \
    || { cat "$dir/format.log" >&2; die "kafka storage format failed"; }
}

start() {
  local dir=$1 pid brokers t0=$SECONDS
  jars || exit $?
  ping_tool
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && alive "$(cat "$dir/pid")"; then
    log "Kafka already running in $dir (pid $(cat "$dir/pid"))"; return 0
  fi
  [[ -f $dir/server.properties ]] || configure "$dir"
  brokers=$(cat "$dir/brokers")
  log "starting Kafka $KAFKA_VERSION on $brokers (log $dir/kafka.log)"
  # setsid: the broker gets its own process group, so a Ctrl-C meant for a
  # test run does not kill it behind the stop command's back.
  setsid java ${KAFKA_HEAP:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$LIB/*" \
    kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  if ! wait_tcp "${brokers##*:}" 90 || ! "$PING" -brokers "$brokers" -timeout 60s >&2; then
    log "Kafka did not come up; last lines of $dir/kafka.log:"
    tail -n 60 "$dir/kafka.log" >&2 || true
    stop "$dir"
    return 1
  fi
  alive "$pid" || { tail -n 60 "$dir/kafka.log" >&2; die "Kafka exited right after start"; }
  log "Kafka up on $brokers in $(( SECONDS - t0 ))s (pid $pid)"
}

# kill_now crashes the broker: SIGKILL, no controlled shutdown.
kill_now() {
  local dir=$1 pid
  [[ -f $dir/pid ]] || return 0
  pid=$(cat "$dir/pid")
  log "killing Kafka in $dir (pid $pid, SIGKILL)"
  kill -KILL "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.1; done
  rm -f "$dir/pid"
}

stop() { stop_pidfile "$1" "Kafka"; }

case "${1:-}" in
  start) start "${2:?usage: kafka.sh start DIR}" ;;
  stop) stop "${2:?usage: kafka.sh stop DIR}" ;;
  restart) stop "${2:?usage: kafka.sh restart DIR}"; start "$2" ;;
  kill) kill_now "${2:?usage: kafka.sh kill DIR}" ;;
  jars) jars ;;
  *) echo "usage: $0 start|stop|restart|kill DIR | jars" >&2; exit 2 ;;
esac
