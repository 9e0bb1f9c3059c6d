// Package checkpoint turns out-of-order Kafka acknowledgements into an
// in-order, durable replication position (DESIGN "Checkpoints and replay",
// invariants 1, 2 and 5).
//
// Three parts, each with one job:
//
//   - Tracker: the in-order watermark. The replication reader registers
//     transactions in receive order (Begin), reserves room for each event under
//     the in-flight caps (Acquire, which blocks while the caps are full), attaches
//     the event to its transaction (Track, which returns the ack that travels
//     with the encoded record) and closes the transaction with its
//     TransactionEndLSN (Commit). The watermark is the end LSN of the newest
//     transaction that, with all its predecessors, is fully acknowledged.
//   - Store: where the watermark is persisted (FileStore in the data directory,
//     or PostgresStore, a table in the source database that is never captured).
//   - Committer: the goroutine that saves the watermark to the Store and
//     publishes Persisted, the only LSN the replication reader may confirm to
//     Postgres as Flush.
package checkpoint
