// Package e2e holds walrelay's end-to-end tests: they build the walrelay
// binary, run it as a separate process against a real PostgreSQL and a real
// Kafka-protocol broker (see internal/testenv for where those come from), and
// check what a consumer reads back from Kafka against what the database
// clients committed.
//
// The tests live in _test.go files; this file only names the package.
// Run them with
//
//	go test ./e2e/ -timeout 15m -v
//
// TestKillRestartNoLoss and TestLargeTransactionBoundedMemory run alone; the
// other tests run in parallel with each other.
package e2e
