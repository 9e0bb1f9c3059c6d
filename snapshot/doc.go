// Package snapshot reads the existing rows of the captured tables inside one
// exported PostgreSQL snapshot, in parallel and in primary-key chunks, and
// hands them out as decoded rows with deterministic positions.
//
// # Consistency
//
// Every reader connection runs BEGIN ISOLATION LEVEL REPEATABLE READ READ
// ONLY; SET TRANSACTION SNAPSHOT '<name>', so all of them see the database as
// of one instant. The pipeline takes that snapshot either from
// CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT (the slot's consistent point:
// every transaction is either in the snapshot or streamed by the slot,
// exactly once) or, when the slot already exists, from Export on a normal
// connection (the stream then starts at or before the snapshot and replays
// the overlap: at least once, final state per key correct). Each reader also
// takes ACCESS SHARE locks on every table right after importing, so DDL
// cannot change a table between the snapshot's catalog and its rows.
//
// # Plan, chunks and ordinals
//
// Open plans each table inside the snapshot: its columns exactly as pgoutput
// would announce them (a decoder.RowDecoder converts text rows with the
// stream decoder's converters), its chunk key (the primary key, else the
// replica identity index), and the upper bound of every chunk of ChunkSize
// rows from one ordered scan of the key:
//
//	SELECT k FROM (SELECT k, row_number() OVER (ORDER BY k) rn FROM t) WHERE rn % ChunkSize = 0
//
// plus the count of the rows past the last bound. The row count of every
// table is therefore exact, and so is the snapshot's total. Tables are
// ordered by (schema, name); a table's Base is the number of rows of the
// tables before it. The ordinal of a row is
//
//	Base(table) + chunk × ChunkSize + index of the row in its chunk
//
// i.e. its 0-based position in primary-key order across the whole snapshot.
// It does not depend on which reader read which chunk or when, and is the
// same on every read of the same snapshot with the same ChunkSize (Read checks
// that every chunk returns exactly the rows the plan counted). A table
// without a primary key or replica identity index is read whole, in physical
// order with synchronized scans and parallel query off, after a warning.
//
// EventPosition turns (snapshot LSN, ordinal) into the two parts of an event
// ID (event.FormatID): a "commit LSN" just below the snapshot's LSN that is
// not 8-byte aligned, so it can never be the LSN of a real commit record, and
// a 1-based 32-bit ordinal. Snapshot events thus sort before every change the
// slot streams and never share an ID with one.
//
// # Memory
//
// Readers stream each chunk's result and send Batches of at most BatchRows
// rows over the caller's channel; a full channel stops them reading, so
// memory is bounded by the channel's capacity times BatchRows rows, plus
// whatever the consumer keeps in flight.
package snapshot
