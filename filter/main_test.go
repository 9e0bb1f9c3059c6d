package filter

import (
	"testing"

	"github.com/walrelay/walrelay/internal/testenv"
)

// TestMain shares one throwaway PostgreSQL among the package's tests when
// WALRELAY_TEST_PG_DSN is not set.
func TestMain(m *testing.M) { testenv.Main(m) }
