package devenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// ErrNoPostgresBinaries is returned (wrapped) by StartPostgres and
// FindPostgresBinDir when no directory holding initdb, pg_ctl and postgres was
// found. Callers that can do without PostgreSQL (tests) check it with
// errors.Is and skip; the error text says how to install the binaries.
var ErrNoPostgresBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")

// pgTools are the binaries a bin directory must hold to be usable.
var pgTools = []string{"initdb", "pg_ctl", "postgres"}

// FindPostgresBinDir returns the directory holding initdb, pg_ctl and
// postgres. It looks, in order, at `pg_config --bindir`, at PATH and at the
// newest /usr/lib/postgresql/<version>/bin. The error wraps
// ErrNoPostgresBinaries and names every place it looked plus the install
// command for this operating system.
func FindPostgresBinDir() (string, error) {
	var looked []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if hasPGTools(dir) {
			return dir, nil
		}
		looked = append(looked, "pg_config --bindir ("+dir+")")
	} else {
		looked = append(looked, "pg_config --bindir (pg_config not runnable)")
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			dir = filepath.Dir(resolved)
		}
		if hasPGTools(dir) {
			return dir, nil
		}
	}
	looked = append(looked, "PATH")
	if dir := newestDebianBinDir(); dir != "" {
		return dir, nil
	}
	looked = append(looked, "/usr/lib/postgresql/*/bin")
	return "", fmt.Errorf("%w: looked in %s; install them with %s",
		ErrNoPostgresBinaries, strings.Join(looked, ", "), installHint())
}

// hasPGTools reports whether dir holds every binary in pgTools.
func hasPGTools(dir string) bool {
	for _, tool := range pgTools {
		st, err := os.Stat(filepath.Join(dir, tool))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// newestDebianBinDir returns the usable /usr/lib/postgresql/<v>/bin with the
// highest major version, or "".
func newestDebianBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if hasPGTools(dir) {
			return dir
		}
	}
	return ""
}

// installHint names the command that installs the PostgreSQL server here.
func installHint() string {
	if runtime.GOOS == "darwin" {
		return "`brew install postgresql`"
	}
	return "`apt-get install postgresql` (Debian/Ubuntu; the binaries land in /usr/lib/postgresql/<version>/bin) or your distribution's PostgreSQL server package"
}
