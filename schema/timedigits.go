package schema

import "strconv"

// timeDigits are the decimal texts of one instant in ms, µs and ns since the
// epoch (ts_ms, ts_us, ts_ns). Where they agree, as they do for any instant
// after 1970 that fits in int64 nanoseconds, ms and µs are prefixes of the
// ns digits, so the instant is formatted once instead of three times: the
// three formats were a tenth of the JSON encoder's time.
type timeDigits struct {
	ms, us, ns []byte
}

// timeDigitsOf formats ms, us and ns (of one instant) into tmp, which must
// have room for 60 bytes to format without allocating.
func timeDigitsOf(tmp []byte, ms, us, ns int64) timeDigits {
	if ns >= 1_000_000 && ns/1_000 == us && ns/1_000_000 == ms {
		d := strconv.AppendInt(tmp[:0], ns, 10)
		return timeDigits{ms: d[:len(d)-6], us: d[:len(d)-3], ns: d}
	}
	d := strconv.AppendInt(tmp[:0], ms, 10)
	n1 := len(d)
	d = strconv.AppendInt(d, us, 10)
	n2 := len(d)
	d = strconv.AppendInt(d, ns, 10)
	return timeDigits{ms: d[:n1], us: d[n1:n2], ns: d[n2:]}
}
