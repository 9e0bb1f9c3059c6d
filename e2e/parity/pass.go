package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5"

	"github.com/walrelay/walrelay/internal/dbzserver"
)

// runPass sets up a fresh database and slots for p, starts walrelay and
// Debezium Server, applies the workload (the snapshot pass: waits until
// both published their snapshot, then streams the end marker), reads both
// connectors' topics and compares them. An error means the pass could not be run (setup, a
// connector that died, a timeout); rows then holds what was compared, if
// anything.
func runPass(ctx context.Context, o options, bin string, p *pass) (passSummary, []diffRow, error) {
	sum := passSummary{Pass: p.tag, WalrelayPrefix: p.relayPrefix(), DebeziumPrefix: p.dbzPrefix(), ConnectorLogsDir: p.dir}
	progress("pass %s: %s vs %s", p.tag, p.relayPrefix(), p.dbzPrefix())
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return sum, nil, fmt.Errorf("pass directory: %w", err)
	}
	cols := columns()
	if p.postgis = hasPostGIS(ctx, o.pgDSN); p.postgis {
		cols = append(cols, postgisColumns()...)
	}
	dsn, err := setupDatabase(ctx, o.pgDSN, cols, p)
	if err != nil {
		return sum, nil, err
	}
	p.dsn = dsn
	sum.Database = redact(dsn)
	defer dropSlots(context.Background(), dsn, p)
	if err := createTopics(ctx, o.brokers, p); err != nil {
		return sum, nil, err
	}
	var libCP string
	if p.format == "avro" {
		if libCP, err = avroSetup(o, p); err != nil {
			return sum, nil, err
		}
	}
	wr, err := startRelay(ctx, bin, p, o.brokers)
	if err != nil {
		return sum, nil, err
	}
	defer wr.stop(15 * time.Second)
	props, err := debeziumProps(p, o.brokers)
	if err != nil {
		return sum, nil, err
	}
	if p.format == "avro" {
		dbzserver.AvroProps(props, dbzRegistryURL(p.registryURL))
	}
	dbz, err := startDebezium(ctx, o.java, o.dbzDir, p, props, libCP)
	if err != nil {
		return sum, nil, err
	}
	defer dbz.stop(30 * time.Second)
	alive := func() error {
		for _, pr := range []*proc{wr, dbz} {
			if pr.done() {
				return pr.failure()
			}
		}
		return nil
	}
	prefixes := map[string]string{"walrelay": p.relayPrefix(), "debezium": p.dbzPrefix()}
	steps := workload(cols)
	if p.postgis {
		steps = append(steps[:len(steps)-1:len(steps)-1], append(geoToastSteps(), steps[len(steps)-1])...)
	}
	var dec *avroDecoder
	view := func(u until) until { return u }
	if p.format == "avro" {
		dec = &avroDecoder{ctx: ctx, registry: p.registryURL, prefixes: prefixes, schemas: map[string]avro.Schema{}}
		view = dec.viaJSON
	}
	if p.snapshot {
		if _, err := collect(ctx, o.brokers, prefixes, o.timeout, 0, alive,
			view(until{what: fmt.Sprintf("%d snapshot reads", snapshotRows), done: readCounter(snapshotRows)})); err != nil {
			return sum, nil, fmt.Errorf("waiting for the snapshots: %w", err)
		}
		steps = snapshotStream()
	}
	if err := applyWorkload(ctx, dsn, steps); err != nil {
		return sum, nil, err
	}
	recs, err := collect(ctx, o.brokers, prefixes, o.timeout, o.settle, alive, view(endMarker))
	var rows []diffRow
	if dec != nil { // decoded for the dump and the comparison
		recs, rows = dec.asJSON(p.tag, recs)
	}
	for _, r := range recs {
		if r.Side == "walrelay" {
			sum.WalrelayRecords++
		} else {
			sum.DebeziumRecords++
		}
	}
	if o.dump != "" {
		if derr := dumpRecords(o.dump, p.tag, recs); derr != nil {
			progress("%v", derr)
		}
	}
	if err != nil {
		return sum, nil, err
	}
	progress("pass %s: %d walrelay and %d debezium records", p.tag, sum.WalrelayRecords, sum.DebeziumRecords)
	if p.format == "avro" {
		schemaRows, err := compareAvroSchemas(ctx, p, o)
		rows = append(rows, schemaRows...)
		if err != nil {
			return sum, rows, err
		}
	}
	c := &comparer{pass: p.tag, prefixes: prefixes, avro: p.format == "avro"}
	c.compareRecords(recs)
	rows = append(rows, c.rows...)
	sum.Differences = len(rows)
	return sum, rows, nil
}

// applyWorkload connects to the pass's database and runs steps.
func applyWorkload(ctx context.Context, dsn string, steps []step) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect %s: %w", redact(dsn), err)
	}
	defer conn.Close(context.Background())
	return runWorkload(ctx, conn, steps)
}
