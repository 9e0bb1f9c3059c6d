package config

import (
	"sort"

	"gopkg.in/yaml.v3"
)

// docIndex is what error messages and defaults need to know about the
// YAML document a config was loaded from.
type docIndex struct {
	// lines maps each dotted key ("kafka.brokers") to the 1-based line of
	// the key.
	lines map[string]int
	// nulls holds the keys written without a value (`linger:`) or with
	// null/~: they are not set, so their defaults apply.
	nulls map[string]bool
	// values maps a line to the dotted key whose value (or list item) is
	// written there, for errors that give only a line.
	values map[int]string
}

// indexDoc indexes a YAML document's keys. Malformed input gives an
// empty index.
func indexDoc(data []byte) docIndex {
	ix := docIndex{lines: map[string]int{}, nulls: map[string]bool{}, values: map[int]string{}}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return ix
	}
	var visit func(n *yaml.Node, prefix string)
	visit = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := prefix+n.Content[i].Value, n.Content[i+1]
			ix.lines[k] = n.Content[i].Line
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				ix.nulls[k] = true
			}
			ix.markValues(v, k)
			visit(v, k+".")
		}
	}
	visit(doc.Content[0], "")
	return ix
}

// markValues records key as the key of the lines n spans that no deeper
// key claims (a nested mapping's keys record their own lines afterwards).
func (ix docIndex) markValues(n *yaml.Node, key string) {
	ix.values[n.Line] = key
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		for _, c := range n.Content {
			ix.markValues(c, key)
		}
	}
}

// keyAt returns the dotted key whose value is written at line: the key
// claiming that line, else the last key written at or before it.
func (ix docIndex) keyAt(line int) string {
	if k, ok := ix.values[line]; ok {
		return k
	}
	best, bestLine := "", 0
	keys := make([]string, 0, len(ix.lines))
	for k := range ix.lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if l := ix.lines[k]; l <= line && l > bestLine {
			best, bestLine = k, l
		}
	}
	return best
}
