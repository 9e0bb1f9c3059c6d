// Package replication talks to the PostgreSQL walsender: it opens replication
// connections, prepares the publication and the logical slot, starts pgoutput
// streaming and exchanges XLogData, keepalives and standby status updates.
//
// A Stream is owned by one goroutine (the pipeline's reader): pgconn is not
// safe for concurrent use, so receiving and sending status updates happen on
// the same goroutine, interleaved by receive deadlines.
package replication
