package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/walrelay/walrelay/config"
	"github.com/walrelay/walrelay/internal/testenv"
)

// TestMetricsScrapedAsSessionGoesLive: a scrape of /metrics at the moment
// a session starts streaming reads that session's counters. OnStreaming
// runs right after the session goes live and before its reader loop, so a
// scrape from it hits the window deterministically. Before, the publisher
// holding the counters was made only by the reader loop: the scrape
// dereferenced nil and the HTTP server dropped the connection (CI saw it
// once in e2e TestMetrics: "EOF").
func TestMetricsScrapedAsSessionGoesLive(t *testing.T) {
	t.Parallel()
	dsn := testenv.PG(t).NewDatabase(t)
	testenv.ExecDSN(t, dsn, `CREATE TABLE live_met (id int PRIMARY KEY)`, `INSERT INTO live_met VALUES (1), (2)`)
	kafka := testenv.FakeKafka(t)
	listen := testenv.FreeAddr(t)
	cfg, err := config.Load("", []string{
		"WALRELAY_POSTGRES_DSN=" + dsn, "WALRELAY_POSTGRES_SLOT=live_met", "WALRELAY_POSTGRES_PUBLICATION=live_met",
		"WALRELAY_POSTGRES_TABLES=public.live_met", "WALRELAY_KAFKA_BROKERS=" + strings.Join(kafka.Brokers(), ","),
		"WALRELAY_FORMAT=json", "WALRELAY_DATA_DIR=" + t.TempDir(), "WALRELAY_METRICS_LISTEN=" + listen,
	})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	scraped := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Log: zerolog.Nop(), OnStreaming: func() {
			once.Do(func() { scraped <- scrapeEvents("http://" + listen + "/metrics") })
		}})
	}()
	select {
	case err := <-scraped:
		if err != nil {
			t.Error(err)
		}
	case err := <-done:
		t.Fatalf("Run ended before streaming: %v", err)
	case <-time.After(time.Minute):
		t.Error("no session streamed within a minute")
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// scrapeEvents GETs url and checks that it serves walrelay_events_total.
func scrapeEvents(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("scrape as the session went live: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("scrape as the session went live: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "walrelay_events_total") {
		return fmt.Errorf("scrape as the session went live: %s, walrelay_events_total missing:\n%s", resp.Status, body)
	}
	return nil
}
