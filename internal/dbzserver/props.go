package dbzserver

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/walrelay/walrelay/devenv"
)

// Source names what one Debezium Server run reads and where it writes.
type Source struct {
	DSN         string   // PostgreSQL, parsed for host, port, user, password, database
	Brokers     []string // the Kafka sink
	Dir         string   // the run's directory (offsets file)
	Prefix      string   // topic.prefix
	Slot        string   // an existing logical slot
	Publication string   // an existing publication
	Include     string   // table.include.list, a regular expression
}

// Props is the application.properties of a run of s: the PostgreSQL source
// with pgoutput on s's slot and publication (not auto-created), no
// snapshot, a Kafka sink with acks=all, JSON without schemas (the shape of
// walrelay's JSON), the HTTP port on a free port, plain INFO logs. Callers
// add or override entries for their runs.
func Props(s Source) (map[string]string, error) {
	pc, err := pgconn.ParseConfig(s.DSN)
	if err != nil {
		return nil, fmt.Errorf("debezium: parse DSN: %w", err)
	}
	port, err := devenv.FreePort()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"debezium.sink.type":                             "kafka",
		"debezium.sink.kafka.producer.bootstrap.servers": strings.Join(s.Brokers, ","),
		"debezium.sink.kafka.producer.key.serializer":    "org.apache.kafka.common.serialization.StringSerializer",
		"debezium.sink.kafka.producer.value.serializer":  "org.apache.kafka.common.serialization.StringSerializer",
		"debezium.sink.kafka.producer.acks":              "all",
		"debezium.source.connector.class":                "io.debezium.connector.postgresql.PostgresConnector",
		"debezium.source.offset.storage.file.filename":   filepath.Join(s.Dir, "offsets.dat"),
		"debezium.source.offset.flush.interval.ms":       "1000",
		"debezium.source.database.hostname":              pc.Host,
		"debezium.source.database.port":                  strconv.Itoa(int(pc.Port)),
		"debezium.source.database.user":                  pc.User,
		"debezium.source.database.password":              pc.Password,
		"debezium.source.database.dbname":                pc.Database,
		"debezium.source.topic.prefix":                   s.Prefix,
		"debezium.source.plugin.name":                    "pgoutput",
		"debezium.source.slot.name":                      s.Slot,
		"debezium.source.publication.name":               s.Publication,
		"debezium.source.publication.autocreate.mode":    "disabled",
		"debezium.source.snapshot.mode":                  "no_data",
		"debezium.source.table.include.list":             s.Include,
		"debezium.format.key":                            "json",
		"debezium.format.value":                          "json",
		"debezium.format.key.schemas.enable":             "false",
		"debezium.format.value.schemas.enable":           "false",
		"quarkus.http.port":                              strconv.Itoa(port),
		"quarkus.log.console.json":                       "false",
		"quarkus.log.level":                              "INFO",
	}, nil
}
