package schema

import "github.com/walrelay/walrelay/event"

// appendHStoreJSON appends h as the JSON object Debezium's default
// hstore.handling.mode=json writes (Jackson, no spaces): {"k":"v","n":null}.
// The keys keep PostgreSQL's order; Debezium's follows a Java HashMap, and
// key order carries no meaning in a JSON object.
func appendHStoreJSON(dst []byte, h event.HStore) []byte {
	dst = append(dst, '{')
	for i, p := range h {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p.Key)
		dst = append(dst, ':')
		if p.Null {
			dst = append(dst, "null"...)
			continue
		}
		dst = appendJSONString(dst, p.Value)
	}
	return append(dst, '}')
}

// hstoreJSON returns h as that JSON text.
func hstoreJSON(h event.HStore) string { return string(appendHStoreJSON(nil, h)) }
