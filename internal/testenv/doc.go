// Package testenv gives tests of every walrelay package a real PostgreSQL
// and a Kafka broker, or skips the test saying exactly what was missing.
//
// PostgreSQL (PG): in this order
//  1. WALRELAY_TEST_PG_DSN, a superuser DSN (CI sets it); unreachable = test failure;
//  2. a Docker engine via testcontainers-go: probed (`docker info`, 2 s), but
//     the container path is not built in, so a healthy engine only gets a log
//     line and the search goes on;
//  3. a throwaway cluster from local PostgreSQL binaries (devenv.StartPostgres);
//  4. otherwise t.Skip, naming each source and why it was unusable.
//
// Sharing: call testenv.Main(m) (or testenv.Run(m)) from TestMain to share one
// throwaway cluster per test binary (started lazily by the first PG call,
// removed when the binary's tests end). Without Main each PG call starts a
// private cluster for its test (about a second each) and removes it at the
// test's cleanup. PrivatePG always starts a private cluster, for tests that
// stop or restart the server. A test isolates its data with NewDatabase.
//
// Kafka: WALRELAY_TEST_KAFKA_BROKERS (comma list; CI runs a real Apache
// Kafka broker) or else an in-process kfake broker per test. FakeKafka is
// always kfake, for fault injection. Topics are isolated by NewTopicPrefix.
//
// A real broker can be stopped and started with StopBroker/StartBroker when
// WALRELAY_TEST_KAFKA_CTL names its control script. That broker is shared by
// every test binary that `go test ./...` runs in parallel, so an outage test
// disturbs other packages' tests: prefer FakeKafka (Stop/Start) for outages.
package testenv
