package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrelay/walrelay/internal/dbzserver"
)

func TestJarArtifact(t *testing.T) {
	for name, want := range map[string]string{
		"avro-1.11.1.jar": "avro",
		"apicurio-registry-utils-converter-3.2.4.jar":      "apicurio-registry-utils-converter",
		"jackson-annotations-2.21.jar":                     "jackson-annotations",
		"zstd-jni-1.5.6-10.jar":                            "zstd-jni",
		"debezium-server-core-3.6.1.Final.jar":             "debezium-server-core",
		"javax.ws.rs-api-2.1.1.jar":                        "javax.ws.rs-api",
		"apicurio-common-rest-client-jdk-0.1.15.Final.jar": "apicurio-common-rest-client-jdk",
		"noversion.jar":                                    "noversion",
	} {
		if got := jarArtifact(name); got != want {
			t.Errorf("jarArtifact(%q) = %q, want %q", name, got, want)
		}
	}
}

func touchJars(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAvroClasspath(t *testing.T) {
	root := t.TempDir()
	dbz, conv := filepath.Join(root, "dbz"), filepath.Join(root, "conv")
	touchJars(t, dbz, "apicurio-registry-utils-converter-3.2.4.jar", "apicurio-registry-common-3.2.4.jar",
		"kafka-clients-4.3.0.jar", "jackson-core-2.21.2.jar", "debezium-core-3.6.1.Final.jar")
	touchJars(t, conv, "apicurio-registry-utils-converter-2.4.2.Final.jar", "apicurio-registry-common-2.4.2.Final.jar",
		"kafka-clients-2.8.1.jar", "jackson-core-2.12.7.jar", "avro-1.11.1.jar", "lombok-1.18.26.jar")
	cp, err := avroClasspath(dbz, conv)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range strings.Split(cp, ":") {
		names = append(names, filepath.Base(p))
	}
	got := strings.Join(names, " ")
	want := "debezium-core-3.6.1.Final.jar jackson-core-2.21.2.jar kafka-clients-4.3.0.jar " +
		"apicurio-registry-common-2.4.2.Final.jar apicurio-registry-utils-converter-2.4.2.Final.jar avro-1.11.1.jar"
	if got != want {
		t.Fatalf("classpath\n got %s\nwant %s", got, want)
	}

	empty := filepath.Join(root, "empty")
	touchJars(t, empty, "avro-1.11.1.jar")
	if _, err := avroClasspath(dbz, empty); err == nil {
		t.Fatal("a converter directory without the converter jar must be refused")
	}
	if _, err := avroClasspath(filepath.Join(root, "none"), conv); err == nil {
		t.Fatal("an empty Debezium lib must be refused")
	}
}

func TestAvroFramed(t *testing.T) {
	if err := avroFramed([]byte{0, 0, 0, 0, 0, 0, 0, 0, 3, 2, 'x'}, "t"); err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]byte{nil, []byte(`{"before":null,"after":{}}`), {0, 1, 2}} {
		if err := avroFramed(v, "t"); err == nil {
			t.Errorf("%q accepted as Avro", v)
		}
	}
}

func TestAvroProps(t *testing.T) {
	p := map[string]string{
		"debezium.format.key":                  "json",
		"debezium.format.value":                "json",
		"debezium.format.key.schemas.enable":   "false",
		"debezium.format.value.schemas.enable": "false",
	}
	dbzserver.AvroProps(p, "http://127.0.0.1:1/apis/registry/v2")
	for k, want := range map[string]string{
		"debezium.format.key":                                 "avro",
		"debezium.format.value":                               "avro",
		"debezium.format.value.apicurio.registry.url":         "http://127.0.0.1:1/apis/registry/v2",
		"debezium.format.key.apicurio.registry.auto-register": "true",
		"debezium.sink.kafka.producer.value.serializer":       "org.apache.kafka.common.serialization.ByteArraySerializer",
	} {
		if p[k] != want {
			t.Errorf("%s = %q, want %q", k, p[k], want)
		}
	}
	if _, ok := p["debezium.format.value.schemas.enable"]; ok {
		t.Error("schemas.enable is a JSON converter setting and must go")
	}
}

func TestSameFormatRatios(t *testing.T) {
	r := &Report{
		Settings: Settings{Formats: []string{"json", "avro"}},
		Walrelay: []RunResult{{Consumer: "walrelay json", Rows: 1, EventsPerS: 300}, {Consumer: "walrelay avro", Rows: 1, EventsPerS: 200}},
		Debezium: []RunResult{{Consumer: "debezium-server json", Rows: 1, EventsPerS: 100}, {Consumer: "debezium-server avro", Rows: 1, EventsPerS: 50}},
	}
	computeTargets(r)
	if s := summaryFor(r, "walrelay avro"); s == nil || s.VsDebezium != 4 {
		t.Fatalf("walrelay avro vs debezium avro: %+v", s)
	}
	if s := summaryFor(r, "walrelay json"); s == nil || s.VsDebezium != 3 {
		t.Fatalf("walrelay json vs debezium json: %+v", s)
	}
	if s := summaryFor(r, "debezium-server avro"); s == nil || s.VsDebezium != 0 {
		t.Fatalf("debezium itself gets no ratio: %+v", s)
	}
}
