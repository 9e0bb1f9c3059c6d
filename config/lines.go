package config

import "gopkg.in/yaml.v3"

// keyLines maps each dotted key of a YAML document ("kafka.brokers") to the
// 1-based line of its key, for error messages. Malformed input gives nil.
func keyLines(data []byte) map[string]int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	lines := map[string]int{}
	var visit func(n *yaml.Node, prefix string)
	visit = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := prefix + n.Content[i].Value
			lines[k] = n.Content[i].Line
			visit(n.Content[i+1], k+".")
		}
	}
	visit(doc.Content[0], "")
	return lines
}
