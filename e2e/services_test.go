package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/testenv"
)

// newDatabase returns the superuser DSN of a fresh database for t on
// testenv's PostgreSQL (WALRELAY_TEST_PG_DSN, else a private throwaway
// cluster); testenv drops it, and its slots, at t's cleanup.
func newDatabase(t *testing.T) string {
	t.Helper()
	return testenv.PG(t).NewDatabase(t)
}

// kafkaBrokers returns testenv's Kafka broker for t
// (WALRELAY_TEST_KAFKA_BROKERS, else an in-process kfake broker).
func kafkaBrokers(t *testing.T) []string {
	t.Helper()
	return testenv.Kafka(t).Brokers()
}

// randomSuffix returns 8 random lowercase hex characters.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTestDB is the start of most tests: a fresh database holding what ddl
// creates, a connection to it, and the Kafka brokers.
func newTestDB(t *testing.T, ddl string) (dsn string, brokers []string, conn *pgx.Conn) {
	t.Helper()
	dsn = newDatabase(t)
	brokers = kafkaBrokers(t)
	conn = connect(t, dsn)
	mustExec(t, conn, ddl)
	return dsn, brokers, conn
}
