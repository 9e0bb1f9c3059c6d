package main

import (
	"testing"

	"github.com/walrelay/walrelay/config"
)

func TestGCSettings(t *testing.T) {
	lim := config.Limits{MaxInflightBytes: 64 << 20}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	p, setP, l, setL := gcSettings(lim, getenv)
	if p != 400 || !setP || l != 512<<20 || !setL {
		t.Fatalf("defaults: percent %d (set %v), limit %d (set %v); want 400 and 512 MiB, both set", p, setP, l, setL)
	}
	env["GOGC"], env["GOMEMLIMIT"] = "100", "1GiB"
	if _, setP, _, setL = gcSettings(lim, getenv); setP || setL {
		t.Fatalf("GOGC/GOMEMLIMIT in the environment must win: set percent %v, set limit %v", setP, setL)
	}
}
