// Package sink publishes encoded records (event.Record) to Kafka with
// acks=all, preserving the order of Send calls within each partition, and
// acks every record once Kafka has it (DESIGN.md invariants 1, 3 and 7).
//
// The pipeline calls Send from one goroutine. Send picks the partition —
// Java's default for keyed records, toPositive(murmur2(key)) % partitions,
// and a sticky partition that moves on per batch for records without a key —
// and queues the record for that partition's writer. Each partition has one
// writer goroutine that gathers a batch (BatchMaxRecords, BatchMaxBytes, at
// most Linger after its first record, at once after SendNow), produces it with kafka-go's
// Client.Produce, waits for the answer and acks the records in order before
// it starts the next batch. One request in flight per partition is what makes
// the order hold: kafka-go's Writer moves on to the next batch when one fails
// after its internal retries, so a later batch could land before an earlier
// one is replayed; this sink retries the same batch (exponential backoff,
// full jitter within each backoff window, MaxAttempts) and refreshes routing
// metadata before each retry.
//
// When a batch cannot be written the sink never drops it. In halt mode (the
// default) the writer stops, nothing after the failed batch is written to its
// partition, the *HaltError goes to Err, and later Sends fail with it; the
// pipeline restarts from its checkpoint. In dead_letter mode a record the
// broker rejects on its own (too large, invalid, policy, authorisation) goes
// to the dead-letter topic with walrelay.error and walrelay.original.*
// headers and is acked; unreachable brokers and a failing dead-letter write
// still halt.
//
// Partition counts are read when the sink first writes to a topic and
// re-read every Config.MetadataMaxAge by a goroutine of the sink, off the
// Send path. When a topic has grown, the next Send to it blocks until every
// record sent to the topic before was acknowledged (or dead-lettered), then
// routes keys over the new count: a key's records may change partition at
// that point, but all its earlier records are in the log first. A topic that
// shrank (deleted and re-created) or cannot be described keeps its count,
// with a warning.
//
// Delivery is at least once: a retried request that the broker had applied
// before the connection failed is written twice, in place. Consumers drop the
// duplicate by its event ID (ce_id).
package sink
