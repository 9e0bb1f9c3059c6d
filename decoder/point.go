package decoder

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/walrelay/walrelay/event"
)

// convPoint parses a point's text form "(x,y)" (float8 text: "1.5",
// "-1e+20", "Infinity", "NaN") into an event.Point.
func convPoint(src []byte) (any, error) {
	body, open := bytes.CutPrefix(src, []byte{'('})
	body, closed := bytes.CutSuffix(body, []byte{')'})
	if !open || !closed {
		return nil, fmt.Errorf("invalid point %q", src)
	}
	xs, ys, ok := bytes.Cut(body, []byte{','})
	if !ok {
		return nil, fmt.Errorf("invalid point %q", src)
	}
	x, errX := strconv.ParseFloat(string(bytes.TrimSpace(xs)), 64)
	y, errY := strconv.ParseFloat(string(bytes.TrimSpace(ys)), 64)
	if errX != nil || errY != nil {
		return nil, fmt.Errorf("invalid point %q", src)
	}
	return event.Point{X: x, Y: y}, nil
}
