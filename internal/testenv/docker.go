package testenv

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

var docker struct {
	once    sync.Once
	healthy bool
	reason  string
}

// dockerStatus probes the Docker engine once per test binary with
// `docker info` bounded by 2 s, and reports whether it is healthy and, if
// not, why (for skip messages).
func dockerStatus() (bool, string) {
	docker.once.Do(func() {
		if _, err := exec.LookPath("docker"); err != nil {
			docker.reason = "no `docker` command in PATH"
			if _, serr := os.Stat("/var/run/docker.sock"); serr != nil {
				docker.reason += " and no /var/run/docker.sock"
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
		if err != nil {
			docker.reason = "`docker info` failed within 2s: " + strings.TrimSpace(string(out))
			return
		}
		docker.healthy = true
	})
	return docker.healthy, docker.reason
}
