#!/usr/bin/env bash
# A real Apicurio Registry (Confluent-compatible schema registry API) from
# Maven Central artifacts, for CI and developers. No Docker, no tarball.
#
#   bash .ci/apicurio.sh start DIR     first time: build the registry (about a
#                                      minute, cached); then start it on a free
#                                      port with in-memory (H2) storage and wait
#                                      until it is ready
#   bash .ci/apicurio.sh stop DIR      SIGTERM, SIGKILL after 30 s
#   bash .ci/apicurio.sh restart DIR   stop + start, same port (schemas are lost:
#                                      the storage is in memory)
#   bash .ci/apicurio.sh build         only build the registry into the cache
#
# Writes DIR/url, the base URL of the Confluent-compatible API
# (http://127.0.0.1:PORT/apis/ccompat/v7; .../v6 answers too), and DIR/port.
# The registry log is DIR/apicurio.log; its tail is printed when a start fails.
#
# Maven Central publishes Apicurio Registry only as a thin Quarkus application
# jar, so .ci/apicurio/pom.xml runs Quarkus's build-time augmentation on it
# (see the comments there). It is release 2.4.2.Final (Quarkus 2.16): newer
# releases lack modules on Maven Central.
#
# Environment: WALRELAY_CACHE (default ~/.cache/walrelay; the build goes to
# $WALRELAY_CACHE/apicurio-2.4.2.Final/app), APICURIO_HEAP (default
# -Xms64m -Xmx512m).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

APICURIO_VERSION=2.4.2.Final # must match apicurio.version in .ci/apicurio/pom.xml
CACHE=${WALRELAY_CACHE:-${HOME:-/root}/.cache/walrelay}
APP=$CACHE/apicurio-$APICURIO_VERSION/app

# build augments the registry into $APP (a Quarkus fast-jar: quarkus-run.jar
# and its lib/ and quarkus/ folders) once. Exit status 3 means Maven failed.
build() {
  local tmp=$APP.build.$$ t0=$SECONDS mlog
  if [[ -f $APP/.complete ]]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found (apt-get install -y maven)"; return 3; }
  command -v java >/dev/null || { log "java not found (apt-get install -y openjdk-17-jre-headless)"; return 3; }
  mkdir -p "$CACHE/apicurio-$APICURIO_VERSION"
  mlog=$CACHE/mvn-apicurio-$APICURIO_VERSION.log
  log "building Apicurio Registry $APICURIO_VERSION from Maven Central into $APP (Maven log $mlog)"
  rm -rf "$tmp"
  if ! mvn -B -Dstyle.color=never -f "$here/apicurio/pom.xml" package -DskipTests \
      -Dapicurio.build.dir="$tmp" -Dquarkus.package.type=fast-jar >"$mlog" 2>&1 \
      || [[ ! -f $tmp/quarkus-app/quarkus-run.jar ]]; then
    log "Maven could not build Apicurio Registry; its output:"
    grep -E '^\[(ERROR|WARNING)\]' "$mlog" | head -n 20 >&2 || true
    tail -n 20 "$mlog" >&2 || true
    rm -rf "$tmp"
    return 3
  fi
  rm -rf "$APP"; mv "$tmp/quarkus-app" "$APP"; rm -rf "$tmp"; touch "$APP/.complete"
  log "Apicurio Registry built in $(( SECONDS - t0 ))s"
}

# ready PORT: the registry reports ready and its ccompat API answers.
ready() {
  curl -sf -o /dev/null "http://127.0.0.1:$1/health/ready" \
    && curl -sf -o /dev/null "http://127.0.0.1:$1/apis/ccompat/v7/subjects"
}

start() {
  local dir=$1 pid port t0=$SECONDS deadline
  build || exit $?
  command -v curl >/dev/null || die "curl not found (apt-get install -y curl): needed to wait for the registry"
  mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
  if [[ -f $dir/pid ]] && alive "$(cat "$dir/pid")"; then
    log "Apicurio Registry already running in $dir (pid $(cat "$dir/pid"))"; return 0
  fi
  [[ -f $dir/port ]] || free_port >"$dir/port"
  port=$(cat "$dir/port")
  log "starting Apicurio Registry $APICURIO_VERSION on 127.0.0.1:$port (log $dir/apicurio.log)"
  # setsid: own process group, so a Ctrl-C meant for a test run does not
  # kill it behind the stop command's back. Storage: the prod profile's
  # default, H2 in memory (jdbc:h2:mem:registry_db).
  (cd "$dir" && exec setsid java ${APICURIO_HEAP:--Xms64m -Xmx512m} -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -jar "$APP/quarkus-run.jar" >>"$dir/apicurio.log" 2>&1 </dev/null) &
  pid=$!
  echo "$pid" >"$dir/pid"
  deadline=$(( SECONDS + 90 ))
  until ready "$port"; do
    if ! alive "$pid" || (( SECONDS >= deadline )); then
      log "Apicurio Registry did not come up; last lines of $dir/apicurio.log:"
      tail -n 60 "$dir/apicurio.log" >&2 || true
      stop "$dir"
      return 1
    fi
    sleep 0.2
  done
  echo "http://127.0.0.1:$port/apis/ccompat/v7" >"$dir/url"
  log "Apicurio Registry up at $(cat "$dir/url") in $(( SECONDS - t0 ))s (pid $pid)"
}

stop() { stop_pidfile "$1" "Apicurio Registry"; }

case "${1:-}" in
  start) start "${2:?usage: apicurio.sh start DIR}" ;;
  stop) stop "${2:?usage: apicurio.sh stop DIR}" ;;
  restart) stop "${2:?usage: apicurio.sh restart DIR}"; start "$2" ;;
  build) build ;;
  *) echo "usage: $0 start|stop|restart DIR | build" >&2; exit 2 ;;
esac
