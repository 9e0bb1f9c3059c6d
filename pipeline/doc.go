// Package pipeline wires walrelay's stages together and owns their goroutines:
//
//	replication (reader goroutine) -> decoder -> encoder -> tracker -> sink
//	sink partition writers -> record Ack -> tracker -> committer -> store
//	reader goroutine <- committer.Persisted() -> standby status updates
//
// One reader goroutine owns the replication connection, the decoder and the
// encoder; it never waits on the sink except through the in-flight caps, and
// while it waits it keeps sending status updates. The committer goroutine
// persists the tracker's watermark; only the persisted LSN is confirmed to
// Postgres (invariant 1). Run restarts a failed session from the checkpoint with
// exponential backoff and jitter.
package pipeline
