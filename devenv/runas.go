package devenv

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// DefaultPGUser is the unprivileged system user that runs PostgreSQL when the
// calling process is root (PostgreSQL refuses to run as root). StartPostgres
// creates it with `useradd --system --no-create-home` when it does not exist.
const DefaultPGUser = "walrelay-pg"

// runAs says which user runs the PostgreSQL binaries. The zero value runs
// them as the calling user.
type runAs struct {
	name     string
	uid, gid uint32
}

// resolveRunAs returns the zero runAs when the process is not root, and the
// (created if missing) system user name otherwise.
func resolveRunAs(name string) (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{}, nil
	}
	if name == "" {
		name = DefaultPGUser
	}
	u, err := ensureSystemUser(name)
	if err != nil {
		return runAs{}, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return runAs{}, fmt.Errorf("devenv: user %q has a non-numeric uid %q or gid %q", name, u.Uid, u.Gid)
	}
	return runAs{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
}

// ensureSystemUser looks the user up and creates it when missing. Several
// test binaries may race to create it; a failed useradd is retried after a
// fresh lookup, since the other process may have won.
func ensureSystemUser(name string) (*user.User, error) {
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
		out, err := exec.Command("useradd", "--system", "--no-create-home",
			"--user-group", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil {
			continue
		}
		lastErr = fmt.Errorf("%w: %s", err, out)
		time.Sleep(200 * time.Millisecond)
	}
	return nil, fmt.Errorf("devenv: running as root and cannot create the unprivileged user %q "+
		"that PostgreSQL must run as (useradd --system --no-create-home %s): %w", name, name, lastErr)
}

// command builds a command that runs bin as the target user, in dir.
func (r runAs) command(ctx context.Context, dir, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	if r.name != "" {
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: []uint32{}},
		}
	}
	return cmd
}

// chownTree gives everything under root to the target user.
func (r runAs) chownTree(root string) error {
	if r.name == "" {
		return nil
	}
	return filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(r.uid), int(r.gid))
	})
}

// checkReachable fails when some parent of dir cannot be traversed by the
// target user (for example a temporary directory under a 0700 /root).
func (r runAs) checkReachable(dir string) error {
	if r.name == "" {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("devenv: stat %s: %w", p, err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("devenv: user %q cannot reach %s: its parent %s is not world-searchable; "+
				"set PGOptions.Dir (or TMPDIR) to a directory such as /tmp", r.name, dir, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
