#!/usr/bin/env bash
# Prints the path of a Python with Confluent's client (confluent-kafka with its
# Avro and Schema Registry extras), in a venv cached between runs. The e2e
# tests use it (WALRELAY_TEST_PYTHON) to read walrelay's topics the way an
# independent Confluent consumer does.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/lib.sh"

spec='confluent-kafka[avro,schemaregistry]==2.16.1'
venv=${WALRELAY_CACHE:-$HOME/.cache/walrelay}/pyvenv-confluent-2.16.1
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import confluent_kafka.schema_registry.avro' 2>/dev/null; then
  log "installing $spec into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec" >&2
fi
"$venv/bin/python" -c 'import confluent_kafka.schema_registry.avro' >&2
echo "$venv/bin/python"
