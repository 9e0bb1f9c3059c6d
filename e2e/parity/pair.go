package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// diffRow is one difference between the connectors' outputs: which topic
// (table), record key and operation, which field (a column "after.c_int4",
// a source field "source.lsn", "key", "header ce_id", ...), and each
// connector's value as compact JSON ("(absent)" when it has none).
type diffRow struct {
	Pass     string `json:"pass"`
	Table    string `json:"table"`
	Key      string `json:"key"`
	Op       string `json:"op"`
	Field    string `json:"field"`
	Walrelay string `json:"walrelay"`
	Debezium string `json:"debezium"`
}

// ignoredValue lists envelope fields whose values legitimately differ per
// connector; only their presence is compared. source.name is compared after
// replacing each connector's own topic prefix by "<prefix>".
var ignoredValue = map[string]bool{
	"ts_ms": true, "ts_us": true, "ts_ns": true, // processing time of the connector
	"source.version": true,
}

// comparer pairs and compares the records of one pass.
type comparer struct {
	pass     string
	prefixes map[string]string // side -> topic prefix
	avro     bool              // records decoded from Avro: partitions follow registry IDs, not compared
	headers  topicHeaders      // header names each side sets per topic (compareRecords)
	rows     []diffRow
}

// compareRecords groups both sides' records by topic and canonical key,
// pairs them in offset order, and compares each pair; unpaired records are
// reported as missing on the other side. Headers are compared per pair
// (compareHeaderValues), but one only one connector sets in a topic is
// reported once for the topic (compareHeaders).
func (c *comparer) compareRecords(recs []record) {
	c.headers = headerNames(recs)
	type group struct{ wr, dbz []record }
	groups := map[string]*group{}
	var order []string
	for _, r := range recs {
		id := r.Topic + "\x00" + groupKey(r)
		g := groups[id]
		if g == nil {
			g = &group{}
			groups[id] = g
			order = append(order, id)
		}
		if r.Side == "walrelay" {
			g.wr = append(g.wr, r)
		} else {
			g.dbz = append(g.dbz, r)
		}
	}
	sort.Strings(order)
	for _, id := range order {
		g := groups[id]
		for i := 0; i < max(len(g.wr), len(g.dbz)); i++ {
			switch {
			case i >= len(g.wr):
				c.add(g.dbz[i], "record", absent, summary(g.dbz[i]))
			case i >= len(g.dbz):
				c.add(g.wr[i], "record", summary(g.wr[i]), absent)
			default:
				c.comparePair(g.wr[i], g.dbz[i])
			}
		}
	}
	c.compareHeaders(recs)
}

// groupKey is the pairing form of a record's key: its canonical JSON, but
// for transaction BEGIN/END records the transaction ID's txId part (before
// ':'; the LSN after it differs between the connectors, and the key would
// then pair nothing) and the status (BEGIN and END may have different keys,
// hence partitions, so offset order would not pair them).
func groupKey(r record) string {
	if r.Key == nil {
		return "null"
	}
	if r.Topic == "transaction" {
		var k struct{ ID string }
		if json.Unmarshal(r.Key, &k) == nil {
			tx, _, _ := strings.Cut(k.ID, ":")
			return "txId " + tx + " " + opOf(r)
		}
	}
	return canonical(r.Key)
}

// comparePair compares one walrelay record with its Debezium counterpart.
func (c *comparer) comparePair(wr, dbz record) {
	if !jsonEqual(wr.Key, dbz.Key) {
		c.add(wr, "key", renderRaw(wr.Key), renderRaw(dbz.Key))
	} else if string(wr.Key) != string(dbz.Key) {
		c.add(wr, "key (bytes)", string(wr.Key), string(dbz.Key))
	}
	c.compareHeaderValues(wr, dbz)
	if !c.avro && wr.Partition != dbz.Partition {
		c.add(wr, "partition", fmt.Sprint(wr.Partition), fmt.Sprint(dbz.Partition))
	}
	if wr.Value == nil || dbz.Value == nil {
		if (wr.Value == nil) != (dbz.Value == nil) {
			c.add(wr, "value", valueText(wr.Value), valueText(dbz.Value))
		}
		return
	}
	a, errA := objectOf(wr.Value)
	b, errB := objectOf(dbz.Value)
	if errA != nil || errB != nil {
		for _, d := range compareJSON(wr.Value, dbz.Value) {
			c.add(wr, joinPath("value", d.Path), d.A, d.B)
		}
		return
	}
	for _, f := range unionRawKeys(a, b) {
		c.compareField(wr, f, a[f], b[f])
	}
}

// compareField compares one top-level envelope field: before/after column
// by column, source/transaction/message field by field, the rest whole.
func (c *comparer) compareField(wr record, f string, a, b json.RawMessage) {
	if a == nil || b == nil {
		if a != nil || b != nil {
			c.add(wr, f, renderRaw(a), renderRaw(b))
		}
		return
	}
	if ignoredValue[f] {
		return
	}
	oa, errA := objectOf(a)
	ob, errB := objectOf(b)
	if errA != nil || errB != nil || oa == nil || ob == nil {
		for _, d := range compareJSON(a, b) {
			c.add(wr, joinPath(f, d.Path), d.A, d.B)
		}
		return
	}
	for _, k := range unionRawKeys(oa, ob) {
		p := f + "." + k
		va, vb := oa[k], ob[k]
		switch {
		case va == nil || vb == nil:
			c.add(wr, p, renderRaw(va), renderRaw(vb))
		case ignoredValue[p]:
		case p == "source.name":
			na, nb := c.unprefix("walrelay", va), c.unprefix("debezium", vb)
			if na != nb {
				c.add(wr, p, na, nb)
			}
		case !jsonEqual(va, vb):
			c.add(wr, p, renderRaw(va), renderRaw(vb))
		}
	}
}

// unprefix renders a source.name value with the side's own topic prefix
// replaced by "<prefix>".
func (c *comparer) unprefix(side string, v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil && s == c.prefixes[side] {
		return `"<prefix>"`
	}
	return renderRaw(v)
}

// add records one difference, labelled with wr's topic, key and op.
func (c *comparer) add(r record, field, a, b string) {
	c.rows = append(c.rows, diffRow{Pass: c.pass, Table: r.Topic, Key: keyText(r.Key), Op: opOf(r),
		Field: field, Walrelay: a, Debezium: b})
}

// opOf is a record's op (or transaction status) for the report; a null
// value is a tombstone.
func opOf(r record) string {
	if r.Value == nil {
		return "tombstone"
	}
	o, err := objectOf(r.Value)
	if err != nil {
		return "?"
	}
	for _, f := range []string{"op", "status"} {
		var s string
		if json.Unmarshal(o[f], &s) == nil {
			return s
		}
	}
	return "?"
}

// summary describes a record that has no counterpart.
func summary(r record) string {
	return fmt.Sprintf("key=%s value=%s", keyText(r.Key), clip(valueText(r.Value), 200))
}

// keyText is a key's compact JSON, "null" for a null key.
func keyText(k []byte) string {
	if k == nil {
		return "null"
	}
	return renderRaw(k)
}

// valueText is a value's compact JSON, "(tombstone)" for a null value.
func valueText(v []byte) string {
	if v == nil {
		return "(tombstone)"
	}
	return renderRaw(v)
}

// objectOf decodes a JSON object into its raw fields; a JSON null is a nil
// map without error.
func objectOf(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// unionRawKeys returns the keys of both objects, sorted.
func unionRawKeys(a, b map[string]json.RawMessage) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]json.RawMessage{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// topicHeaders counts, per topic and side, the records carrying each
// header name and keeps one example value: topic -> side -> name.
type topicHeaders map[string]map[string]map[string]*headerSeen

// headerSeen is one header name's count and first value in a topic.
type headerSeen struct {
	n       int
	example string
}

// headerNames collects the header names of recs per topic and side.
func headerNames(recs []record) topicHeaders {
	names := topicHeaders{}
	for _, r := range recs {
		if names[r.Topic] == nil {
			names[r.Topic] = map[string]map[string]*headerSeen{"walrelay": {}, "debezium": {}}
		}
		for _, h := range r.Headers {
			s := names[r.Topic][r.Side][h.Key]
			if s == nil {
				s = &headerSeen{example: clip(string(h.Value), 120)}
				names[r.Topic][r.Side][h.Key] = s
			}
			s.n++
		}
	}
	return names
}

// oneSided reports whether only one connector sets header name in topic
// (such a header is listed once per topic, not per record).
func (h topicHeaders) oneSided(topic, name string) bool {
	t := h[topic]
	return t == nil || (t["walrelay"][name] == nil) != (t["debezium"][name] == nil)
}

// compareHeaders reports, per topic, each header name only one connector
// sets (once, with the count of records and one example value); headers
// both set are compared per pair by compareHeaderValues.
func (c *comparer) compareHeaders(recs []record) {
	names := c.headers
	if names == nil {
		names = headerNames(recs)
	}
	topics := make([]string, 0, len(names))
	for t := range names {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	for _, t := range topics {
		for _, side := range []string{"walrelay", "debezium"} {
			other := "debezium"
			if side == "debezium" {
				other = "walrelay"
			}
			hs := names[t][side]
			keys := make([]string, 0, len(hs))
			for k := range hs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if names[t][other][k] != nil {
					continue
				}
				v := fmt.Sprintf("%d records, e.g. %q", hs[k].n, hs[k].example)
				row := diffRow{Pass: c.pass, Table: t, Key: "*", Op: "*", Field: "header " + k}
				row.Walrelay, row.Debezium = v, absent
				if side == "debezium" {
					row.Walrelay, row.Debezium = absent, v
				}
				c.rows = append(c.rows, row)
			}
		}
	}
}

// compareHeaderValues reports, for one record pair, each header whose
// values differ (all values of a repeated name, in order), once each
// side's topic prefix in a schema name (the key-change headers' Key struct)
// reads "<prefix>"; a header only one record of the pair carries is
// reported too, unless that connector alone sets it in the topic
// (compareHeaders lists those).
func (c *comparer) compareHeaderValues(wr, dbz record) {
	mine, theirs := c.headerValues("walrelay", wr), c.headerValues("debezium", dbz)
	var keys []string
	for k := range mine {
		keys = append(keys, k)
	}
	for k := range theirs {
		if _, ok := mine[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		a, okA := mine[k]
		b, okB := theirs[k]
		switch {
		case okA && okB && a != b:
			c.add(wr, "header "+k, a, b)
		case okA != okB && !c.headers.oneSided(wr.Topic, k):
			if !okA {
				a = absent
			}
			if !okB {
				b = absent
			}
			c.add(wr, "header "+k, a, b)
		}
	}
}

// headerValues maps each header name of r to its values, quoted and
// joined by commas, with side's topic prefix replaced (unprefixName).
func (c *comparer) headerValues(side string, r record) map[string]string {
	out := map[string]string{}
	for _, h := range r.Headers {
		v := strconv.Quote(c.unprefixName(side, string(h.Value)))
		if prev, ok := out[h.Key]; ok {
			v = prev + "," + v
		}
		out[h.Key] = v
	}
	return out
}

// unprefixName replaces the side's topic prefix where it starts a JSON
// string (a schema name such as "<prefix>.public.t.Key") by "<prefix>".
func (c *comparer) unprefixName(side, v string) string {
	return strings.ReplaceAll(v, `"`+c.prefixes[side]+`.`, `"<prefix>.`)
}
