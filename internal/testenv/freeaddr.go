package testenv

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 host:port nothing listens on right now: for
// a server a test starts (metrics.listen, an embedded registry), or as an
// address where nothing answers.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
