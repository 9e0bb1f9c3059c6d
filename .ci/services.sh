#!/usr/bin/env bash
# PostgreSQL + a real Kafka broker for a developer, started the way CI does.
#
#   eval "$(bash .ci/services.sh start)"   starts both, prints the export lines
#   bash .ci/services.sh stop              stops both and removes their state
#
# State lives in $WALRELAY_SERVICES_DIR (default /tmp/walrelay-services).
# Progress goes to stderr; only the export lines go to stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

dir=${WALRELAY_SERVICES_DIR:-/tmp/walrelay-services}

case "${1:-}" in
  start)
    mkdir -p "$dir"; chmod 755 "$dir"
    bash "$here/pg.sh" start "$dir/pg"
    bash "$here/kafka.sh" start "$dir/kafka"
    bash "$here/apicurio.sh" start "$dir/apicurio"
    echo "export WALRELAY_TEST_PG_DSN='$(cat "$dir/pg/dsn")'"
    [[ -f $dir/pg/root.crt ]] && echo "export WALRELAY_TEST_PG_ROOTCERT='$dir/pg/root.crt'"
    echo "export WALRELAY_TEST_KAFKA_BROKERS='$(cat "$dir/kafka/brokers")'"
    echo "export WALRELAY_TEST_KAFKA_CTL='$dir/kafka/ctl'"
    echo "export WALRELAY_TEST_KAFKA_TLS_BROKERS='$(cat "$dir/kafka/tls_brokers")'"
    echo "export WALRELAY_TEST_KAFKA_SASL_BROKERS='$(cat "$dir/kafka/sasl_brokers")'"
    echo "export WALRELAY_TEST_KAFKA_TLS_DIR='$dir/kafka/tls'"
    echo "export WALRELAY_TEST_KAFKA_SASL_USER='$(cat "$dir/kafka/sasl_user")'"
    echo "export WALRELAY_TEST_KAFKA_SASL_PASSWORD='$(cat "$dir/kafka/sasl_password")'"
    echo "export WALRELAY_TEST_REGISTRY_URL='$(cat "$dir/apicurio/url")'"
    ;;
  stop)
    bash "$here/apicurio.sh" stop "$dir/apicurio"
    bash "$here/kafka.sh" stop "$dir/kafka"
    bash "$here/pg.sh" stop "$dir/pg"
    rm -rf "$dir"
    log "services stopped; unset WALRELAY_TEST_PG_DSN WALRELAY_TEST_PG_ROOTCERT WALRELAY_TEST_KAFKA_BROKERS WALRELAY_TEST_KAFKA_CTL WALRELAY_TEST_KAFKA_TLS_BROKERS WALRELAY_TEST_KAFKA_SASL_BROKERS WALRELAY_TEST_KAFKA_TLS_DIR WALRELAY_TEST_KAFKA_SASL_USER WALRELAY_TEST_KAFKA_SASL_PASSWORD WALRELAY_TEST_REGISTRY_URL"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
