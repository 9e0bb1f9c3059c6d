package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// dumpLine is one record as --dump writes it: JSON key and value inline
// (a value that is not JSON, such as Avro, as a string of its bytes).
type dumpLine struct {
	Pass      string            `json:"pass"`
	Side      string            `json:"side"`
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       json.RawMessage   `json:"key"`
	Value     json.RawMessage   `json:"value"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// dumpRecords appends a pass's records to path, one JSON object a line, so
// the raw output of both connectors can be inspected after the run.
func dumpRecords(path, pass string, recs []record) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("dump %s: %w", path, err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		l := dumpLine{Pass: pass, Side: r.Side, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Key: rawOrString(r.Key), Value: rawOrString(r.Value)}
		for _, h := range r.Headers {
			if l.Headers == nil {
				l.Headers = map[string]string{}
			}
			l.Headers[h.Key] = string(h.Value)
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("dump %s: %w", path, err)
		}
	}
	return nil
}

// rawOrString is b itself when it is JSON, else b as a JSON string; nil
// stays JSON null.
func rawOrString(b []byte) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}
