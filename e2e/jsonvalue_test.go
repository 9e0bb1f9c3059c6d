package e2e

import (
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
)

// rawAfter returns the columns of a record's "after" image unparsed.
func rawAfter(t *testing.T, r *rec) map[string]json.RawMessage {
	t.Helper()
	var v struct {
		After map[string]json.RawMessage `json:"after"`
	}
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatalf("%s: value %s: %v", r.ID, r.Value, err)
	}
	return v.After
}

// jsonEqual reports whether two JSON texts hold the same value, comparing
// numbers by exact value (1.5 == 1.50 == 15e-1) and objects regardless of
// key order.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if decodeJSON(a, &va) != nil || decodeJSON(b, &vb) != nil {
		return false
	}
	return sameJSON(va, vb)
}

func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		rx, okx := new(big.Rat).SetString(x.String())
		ry, oky := new(big.Rat).SetString(y.String())
		return okx && oky && rx.Cmp(ry) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

// javaBytes is BigInteger.toByteArray: the minimal big-endian two's
// complement of n.
func javaBytes(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n-1 has the bits of n inverted; its minimal length plus a sign bit.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	size := m.BitLen()/8 + 1
	v := new(big.Int).Lsh(big.NewInt(1), uint(8*size))
	v.Add(v, n)
	b := v.Bytes()
	for len(b) < size {
		b = append([]byte{0}, b...)
	}
	return b
}

// decimalB64 is a fixed-scale decimal's JSON value: base64 of its unscaled
// value's javaBytes.
func decimalB64(unscaled *big.Int) string {
	return base64.StdEncoding.EncodeToString(javaBytes(unscaled))
}

// varDecimal is an unconstrained numeric's JSON value (VariableScaleDecimal).
func varDecimal(scale int, unscaled *big.Int) map[string]any {
	return map[string]any{"scale": scale, "value": decimalB64(unscaled)}
}

// b64 is the base64 of bytes.
func b64(bs ...byte) string { return base64.StdEncoding.EncodeToString(bs) }

func TestJavaBytes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "AA=="}, {1, "AQ=="}, {127, "fw=="}, {128, "AIA="}, {-1, "/w=="}, {-128, "gA=="},
		{-129, "/38="}, {-150, "/2o="}, {12345678, "ALxhTg=="}, {-500, "/gw="},
	} {
		if got := decimalB64(big.NewInt(c.n)); got != c.want {
			t.Errorf("javaBytes(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}
