package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestPostGIS: PostGIS geometry and geography columns (extension types,
// found by name) are Debezium's io.debezium.data.geometry.Geometry and
// Geography structs: wkb is the value's EWKB (ST_AsEWKB) and srid its SRID
// (null when it has none), in JSON and in Avro. CI installs PostGIS
// (.ci/pg.sh); without it the test skips and says so.
func TestPostGIS(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	conn := connect(t, dsn)
	var available bool
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&available); err != nil {
		t.Fatal(err)
	}
	if !available {
		t.Skip("PostGIS is not installed on this PostgreSQL (Debian: apt-get install postgresql-15-postgis-3; .ci/pg.sh does)")
	}
	brokers := kafkaBrokers(t)
	mustExec(t, conn, `CREATE EXTENSION IF NOT EXISTS postgis;
		CREATE TABLE geo_json (id int PRIMARY KEY, g geometry, p geometry(Point, 4326), gg geography);
		CREATE TABLE geo_avro (id int PRIMARY KEY, g geometry, p geometry(Point, 4326), gg geography);`+markerDDL)
	for _, format := range []string{"json", "avro"} {
		t.Run(format, func(t *testing.T) {
			table := "geo_" + format
			cfg := newRelayConfig(t, dsn, brokers, "public."+table, markerTable)
			var url string
			if format == "avro" {
				url = avroConfig(t, cfg)
			}
			startRelay(t, cfg)
			mustExec(t, conn, `INSERT INTO `+table+` VALUES (1, ST_GeomFromText('LINESTRING(0 0, 1 1)'),
				ST_GeomFromText('POINT(1 2)', 4326), ST_GeogFromText('SRID=4326;POINT(13.4 52.5)'))`)
			want := map[string]geoWant{}
			for _, col := range []string{"g", "p", "gg"} {
				var w geoWant
				if err := conn.QueryRow(ctx, "SELECT ST_AsEWKB("+col+"::geometry), ST_SRID("+col+"::geometry) FROM "+table).Scan(&w.wkb, &w.srid); err != nil {
					t.Fatal(err)
				}
				want[col] = w
			}
			after := geoAfter(t, cfg, conn, brokers, url, table)
			for col, w := range want {
				if !w.matches(after[col]) {
					t.Errorf("after.%s = %#v, want {wkb %x, srid %d}", col, after[col], w.wkb, w.srid)
				}
			}
		})
	}
}

type geoWant struct {
	wkb  []byte
	srid int32
}

// matches compares a decoded struct: JSON has base64 wkb and a number
// srid, Avro bytes and an int.
func (w geoWant) matches(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	var wkb []byte
	switch x := m["wkb"].(type) {
	case string:
		wkb, _ = base64.StdEncoding.DecodeString(x)
	case []byte:
		wkb = x
	}
	var srid int64 // 0: null, what a value without an SRID has
	switch x := m["srid"].(type) {
	case int:
		srid = int64(x)
	case interface{ Int64() (int64, error) }:
		srid, _ = x.Int64()
	}
	return bytes.Equal(wkb, w.wkb) && srid == int64(w.srid) && (w.srid != 0 || m["srid"] == nil)
}

// geoAfter returns the after image of the single record of table.
func geoAfter(t *testing.T, cfg *relayConfig, conn *pgx.Conn, brokers []string, url, table string) map[string]any {
	t.Helper()
	if url != "" {
		col := newAvroCollector(t, brokers, url, cfg.topics()...)
		catchUp(t, cfg, conn, col.collector, col.collector, 2*time.Minute)
		recs := col.byTopic(cfg.topic("public." + table))
		if len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		return recs[0].Env.After
	}
	col := newCollector(t, brokers, cfg.topics()...)
	catchUp(t, cfg, conn, col, col, 2*time.Minute)
	recs := byTopic(col.recs)[cfg.topic("public."+table)]
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	return recs[0].Env.After
}
