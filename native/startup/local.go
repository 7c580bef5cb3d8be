package startup

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Local returns this machine's System.
func Local() *System {
	home, _ := os.UserHomeDir()
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" || !filepath.IsAbs(cfg) {
		cfg = filepath.Join(home, ".config")
	}
	_, err := os.Stat("/run/systemd/system")
	return &System{
		GOOS:          runtime.GOOS,
		Root:          isRoot(),
		Home:          home,
		ConfigHome:    cfg,
		SystemUnitDir: "/etc/systemd/system",
		SystemdBooted: err == nil,
		Run:           run,
		CronRunning:   cronRunning,
		Registry:      localRegistry(),
	}
}

func run(ctx context.Context, stdin, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = bytes.NewBufferString(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
