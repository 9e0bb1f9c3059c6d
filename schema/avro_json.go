package schema

import "strconv"

// jobj is a JSON object that keeps its keys in the order given, so derived
// Avro schemas read like Debezium's (type, name, namespace, fields, then the
// connect.* properties) and are byte-for-byte deterministic. Values are
// string, int, bool, nil, jobj, jarr or jref.
type jobj []jkv

type jkv struct {
	k string
	v any
}

// jarr is a JSON array of the same value kinds.
type jarr []any

// jref is a JSON string naming an already defined Avro type (a reference).
type jref string

// set returns o with key k set to v (appended).
func (o jobj) set(k string, v any) jobj { return append(o, jkv{k, v}) }

// get returns the value of key k, nil when o has none.
func (o jobj) get(k string) any {
	for _, kv := range o {
		if kv.k == k {
			return kv.v
		}
	}
	return nil
}

// appendJSONNode appends v as JSON.
func appendJSONNode(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return appendJSONString(dst, x)
	case jref:
		return appendJSONString(dst, string(x))
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case bool:
		return strconv.AppendBool(dst, x)
	case jobj:
		dst = append(dst, '{')
		for i, kv := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, kv.k)
			dst = append(dst, ':')
			dst = appendJSONNode(dst, kv.v)
		}
		return append(dst, '}')
	case jarr:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONNode(dst, e)
		}
		return append(dst, ']')
	}
	panic("schema: unsupported JSON node type")
}

// jsonText renders v as a string.
func jsonText(v any) string { return string(appendJSONNode(nil, v)) }
