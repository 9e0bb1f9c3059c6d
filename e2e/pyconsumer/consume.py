"""Read walrelay's Avro topics with Confluent's own Python client.

Usage: consume.py --brokers HOST:PORT --registry URL [--latest] TOPIC...

Consumes every record of the topics from the beginning up to the end
offsets at start, deserializes keys and values with confluent_kafka's
AvroDeserializer through the schema registry at URL (the writer's schema by
the ID in each record; with --latest, resolved against the subject's latest
version, as consumers with use.latest.version do), and prints one JSON line
per record: topic, partition, offset, the schema IDs from the wire header,
the ce_id header, and the decoded key and value. Decimals print as strings,
bytes as base64. Exits non-zero if any record fails to deserialize.
"""

import argparse
import base64
import decimal
import json
import struct
import sys
import uuid

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    """Turn a deserialized value into JSON-printable data."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return repr(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    return v


def schema_id(b):
    if b is None or len(b) < 5 or b[0] != 0:
        return None
    return struct.unpack(">I", b[1:5])[0]


def end_offsets(consumer, topics):
    parts = []
    meta = consumer.list_topics(timeout=30)
    for t in topics:
        tm = meta.topics.get(t)
        if tm is None or tm.error is not None:
            raise SystemExit(f"topic {t}: {tm.error if tm else 'missing'}")
        for p in tm.partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(t, p), timeout=30)
            parts.append((t, p, high))
    return parts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--latest", action="store_true")
    ap.add_argument("topics", nargs="+")
    args = ap.parse_args()

    sr = SchemaRegistryClient({"url": args.registry})
    conf = {"use.latest.version": True} if args.latest else {}
    key_de = AvroDeserializer(sr)
    value_de = AvroDeserializer(sr, conf=conf)
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": "walrelay-pyconsumer",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    ends = end_offsets(consumer, args.topics)
    consumer.assign([TopicPartition(t, p, 0) for t, p, high in ends if high > 0])
    remaining = {(t, p): high for t, p, high in ends if high > 0}
    failures = 0
    while remaining:
        msg = consumer.poll(10)
        if msg is None:
            raise SystemExit(f"no record within 10s; still waiting for {remaining}")
        if msg.error():
            raise SystemExit(f"consume: {msg.error()}")
        tp = (msg.topic(), msg.partition())
        if msg.offset() + 1 >= remaining.get(tp, 0):
            remaining.pop(tp, None)
        if msg.offset() >= dict(((t, p), h) for t, p, h in ends)[tp]:
            continue
        out = {"topic": msg.topic(), "partition": msg.partition(), "offset": msg.offset(),
               "key_schema_id": schema_id(msg.key()), "value_schema_id": schema_id(msg.value()),
               "ce_id": dict((k, v.decode()) for k, v in (msg.headers() or [])).get("ce_id")}
        try:
            key_ctx = SerializationContext(msg.topic(), MessageField.KEY, msg.headers())
            value_ctx = SerializationContext(msg.topic(), MessageField.VALUE, msg.headers())
            out["key"] = plain(key_de(msg.key(), key_ctx)) if msg.key() is not None else None
            out["value"] = plain(value_de(msg.value(), value_ctx)) if msg.value() is not None else None
        except Exception as e:  # report and go on, so the test sees every failure
            failures += 1
            out["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(out, sort_keys=True), flush=True)
    consumer.close()
    if failures:
        print(f"{failures} records failed to deserialize", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
