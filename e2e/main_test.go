package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// relayBin is the path of the walrelay binary that TestMain builds once for
// all tests of the package.
var relayBin string

// TestMain builds the walrelay binary once (without -race, even when the
// tests themselves run under it, so that memory and speed are the product's),
// runs the tests and removes the binary. WALRELAY_E2E_RACE=1 builds it with
// -race instead, for a run that hunts races in the product: a data race
// prints "WARNING: DATA RACE" to the binary's stderr (the test's walrelay
// log) and makes it exit 66 (GORACE, passed through, can set log_path).
//
// It does not use testenv.Main: that exits the process itself, which would
// leave the binary behind. Without it each test that has no
// WALRELAY_TEST_PG_DSN gets a private throwaway PostgreSQL.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "walrelay-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: temp dir for the binary: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	relayBin = filepath.Join(dir, "walrelay")
	args := []string{"build", "-o", relayBin}
	if os.Getenv("WALRELAY_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "github.com/walrelay/walrelay")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go %v: %v\n%s", args, err, out)
		return 1
	}
	return m.Run()
}
