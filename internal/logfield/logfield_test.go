package logfield

import (
	"bytes"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestSecondsPrintsMilliseconds: a duration logged with Seconds reads as
// seconds with at most three decimals, rounded to the millisecond.
func TestSecondsPrintsMilliseconds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{1234567891 * time.Nanosecond, `{"took_seconds":1.235}`},
		{2 * time.Millisecond, `{"took_seconds":0.002}`},
		{400 * time.Microsecond, `{"took_seconds":0}`},
		{5 * time.Minute, `{"took_seconds":300}`},
		{-1500 * time.Millisecond, `{"took_seconds":-1.5}`},
	} {
		var out bytes.Buffer
		log := zerolog.New(&out)
		log.Log().Float64("took_seconds", Seconds(c.d)).Send()
		if got := bytes.TrimSpace(out.Bytes()); string(got) != c.want {
			t.Errorf("%s logged as %s, want %s", c.d, got, c.want)
		}
	}
}
