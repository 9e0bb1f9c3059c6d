package schema

import (
	"slices"
	"unicode/utf16"

	"github.com/walrelay/walrelay/event"
)

// appendHStoreJSON appends h as the JSON object Debezium's default
// hstore.handling.mode=json writes (Jackson, no spaces): {"k":"v","n":null},
// keys in the order of the java.util.HashMap Debezium fills (javaHashOrder).
func appendHStoreJSON(dst []byte, h event.HStore) []byte {
	dst = append(dst, '{')
	for i, j := range javaHashOrder(h) {
		p := h[j]
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

// javaHashOrder returns the indexes of h's pairs in the order a
// java.util.HashMap iterates them after they were put in h's order (as
// PostgreSQL JDBC's HStoreConverter.fromString does): by bucket, (capacity-1)
// & spread(String.hashCode()), where the capacity starts at 16 and doubles
// whenever the size passes 3/4 of it; within a bucket, in insertion order.
// A bucket of 8 or more keys becomes a tree in Java and may iterate
// differently; hstores that large and that colliding are not expected.
func javaHashOrder(h event.HStore) []int {
	capacity := 16
	for len(h) > capacity*3/4 {
		capacity *= 2
	}
	order := make([]int, len(h))
	bucket := make([]int, len(h))
	for i, p := range h {
		order[i] = i
		code := javaStringHash(p.Key)
		bucket[i] = int((code ^ code>>16) & uint32(capacity-1))
	}
	slices.SortStableFunc(order, func(a, b int) int { return bucket[a] - bucket[b] })
	return order
}

// javaStringHash is java.lang.String.hashCode: s*31 over its UTF-16 code
// units, in uint32 arithmetic (Java's int, as bits; >>> is then >>).
func javaStringHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}
