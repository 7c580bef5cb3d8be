// Package startup makes a Seattle node start when the machine boots or the
// donor logs in, takes that back, and starts and stops the node now.
//
// Each operating system has its own way (SPEC.md's installer did the same):
// on Linux a systemd unit (a user unit when a systemd user session is
// reachable; a system unit as root on a machine booted by systemd), else a
// crontab "@reboot" line; on macOS a LaunchAgent; on Windows the current
// user's Run registry value. Everything outside the files this package
// writes goes through a System, the seam tests replace.
package startup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Method names a way of starting at boot.
type Method string

const (
	SystemdUser   Method = "systemd-user"   // ~/.config/systemd/user/NAME.service, enabled
	SystemdSystem Method = "systemd-system" // /etc/systemd/system/NAME.service, enabled (as root)
	Cron          Method = "cron"           // a crontab @reboot line of the installing user
	LaunchAgent   Method = "launchagent"    // ~/Library/LaunchAgents/NAME.plist (macOS)
	RunKey        Method = "registry"       // HKCU\Software\Microsoft\Windows\CurrentVersion\Run (Windows)
)

// LogFile is where the node's start command writes, in the install
// directory, whether started by the installer or at boot.
const LogFile = "start_seattle.log"

// ErrNotImplemented is returned where this operating system has no way to
// do what was asked.
var ErrNotImplemented = errors.New("not implemented on this operating system")

// Spec is what starts the node.
type Spec struct {
	Dir     string // the install directory, absolute: the command runs there
	Command string // the start command's program, absolute (start_seattle.sh or .bat, or --start-command)
	Args    []string
}

// ID is a short name for the install in dir, so that two installs in two
// directories get two registrations.
func ID(dir string) string {
	h := sha256.Sum256([]byte(dir))
	return "seattle-" + hex.EncodeToString(h[:4])
}

// Registration is a registration at boot, as recorded for Unregister.
type Registration struct {
	Method Method `json:"method"`
	Name   string `json:"name"`           // unit, LaunchAgent label or registry value name
	Path   string `json:"path,omitempty"` // the unit or plist file written
	Line   string `json:"line,omitempty"` // the crontab line added
	Note   string `json:"note,omitempty"` // a warning, e.g. cron does not run
}

// Describe says in words what r is, for the summary and for uninstall.
func (r Registration) Describe() string {
	switch r.Method {
	case SystemdUser:
		return "a systemd user unit, " + r.Path + " (enabled)"
	case SystemdSystem:
		return "a systemd system unit, " + r.Path + " (enabled)"
	case Cron:
		return "an @reboot line in this user's crontab"
	case LaunchAgent:
		return "a LaunchAgent, " + r.Path
	case RunKey:
		return `the value "` + r.Name + `" of HKEY_CURRENT_USER\` + runKeyPath
	}
	return string(r.Method)
}

const runKeyPath = `Software\Microsoft\Windows\CurrentVersion\Run`

// Registry is the Windows registry, as far as the Run key goes.
type Registry interface {
	SetRunValue(name, data string) error
	DeleteRunValue(name string) error
}

// System is everything outside the installer's own files that this package
// touches. Local returns this machine's.
type System struct {
	GOOS          string
	Root          bool   // running as root (or an administrator)
	Home          string // the user's home directory
	ConfigHome    string // $XDG_CONFIG_HOME, else ~/.config
	SystemUnitDir string // /etc/systemd/system
	SystemdBooted bool   // the machine was booted by systemd (/run/systemd/system exists)
	// Run runs a program (systemctl, crontab) with stdin, returning its
	// combined output.
	Run func(ctx context.Context, stdin string, name string, args ...string) (string, error)
	// CronRunning says whether a cron daemon runs, and how that was found.
	CronRunning func() (bool, string)
	Registry    Registry
}

// Choose picks the way to start at boot on s.
func (s *System) Choose(ctx context.Context) Method {
	switch s.GOOS {
	case "darwin":
		return LaunchAgent
	case "windows":
		return RunKey
	case "linux":
		if s.Root && s.SystemdBooted {
			return SystemdSystem
		}
		if _, err := s.Run(ctx, "", "systemctl", "--user", "show-environment"); err == nil {
			return SystemdUser
		}
	}
	return Cron
}

// Plan says what Register would do with method m, without doing it.
func (s *System) Plan(m Method, spec Spec) Registration {
	id := ID(spec.Dir)
	r := Registration{Method: m, Name: id}
	switch m {
	case SystemdUser:
		r.Name = id + ".service"
		r.Path = filepath.Join(s.ConfigHome, "systemd", "user", r.Name)
	case SystemdSystem:
		r.Name = id + ".service"
		r.Path = filepath.Join(s.SystemUnitDir, r.Name)
	case Cron:
		r.Line, _ = CronLine(spec)
	case LaunchAgent:
		r.Name = "org.seattletestbed." + id
		r.Path = filepath.Join(s.Home, "Library", "LaunchAgents", r.Name+".plist")
	case RunKey:
	}
	return r
}

// Register makes spec start at boot with method m. On an error nothing is
// left registered, and Manual says how the donor can do it by hand.
func (s *System) Register(ctx context.Context, m Method, spec Spec) (Registration, error) {
	r := s.Plan(m, spec)
	switch m {
	case SystemdUser, SystemdSystem:
		unit, err := SystemdUnit(spec, m == SystemdSystem)
		if err != nil {
			return r, err
		}
		if err := writeNew(r.Path, unit, 0o644); err != nil {
			return r, err
		}
		if err := s.systemctl(ctx, m, "daemon-reload"); err != nil {
			os.Remove(r.Path)
			return r, err
		}
		if err := s.systemctl(ctx, m, "enable", r.Name); err != nil {
			os.Remove(r.Path)
			s.systemctl(ctx, m, "daemon-reload")
			return r, err
		}
	case Cron:
		if r.Line == "" {
			_, err := CronLine(spec)
			return r, err
		}
		tab, err := s.crontab(ctx)
		if err != nil {
			return r, err
		}
		if !hasLine(tab, r.Line) {
			if tab != "" && !strings.HasSuffix(tab, "\n") {
				tab += "\n"
			}
			if _, err := s.Run(ctx, tab+r.Line+"\n", "crontab", "-"); err != nil {
				return r, fmt.Errorf("install the new crontab: %w", err)
			}
		}
		if s.CronRunning != nil {
			if ok, how := s.CronRunning(); !ok {
				r.Note = "cron does not seem to be running (" + how + "), so the node will start at boot only once it does; start it with your system's service manager (e.g. service cron start)"
			}
		}
	case LaunchAgent:
		plist, err := LaunchAgentPlist(r.Name, spec)
		if err != nil {
			return r, err
		}
		if err := os.MkdirAll(filepath.Dir(r.Path), 0o755); err != nil {
			return r, err
		}
		if err := writeNew(r.Path, plist, 0o644); err != nil {
			return r, err
		}
	case RunKey:
		if s.Registry == nil {
			return r, fmt.Errorf("the registry: %w", ErrNotImplemented)
		}
		if err := checkWindows(spec); err != nil {
			return r, err
		}
		if err := s.Registry.SetRunValue(r.Name, RunValue(spec)); err != nil {
			return r, fmt.Errorf(`set HKEY_CURRENT_USER\%s\%s: %w`, runKeyPath, r.Name, err)
		}
	default:
		return r, fmt.Errorf("start at boot by %q: %w", m, ErrNotImplemented)
	}
	return r, nil
}

// Unregister removes r. Removing what is already gone is not an error, so
// an interrupted uninstall can run again.
func (s *System) Unregister(ctx context.Context, r Registration) error {
	switch r.Method {
	case SystemdUser, SystemdSystem:
		if !validUnitName(r.Name) || filepath.Base(r.Path) != r.Name {
			return fmt.Errorf("the recorded unit %q is not one this installer writes", r.Path)
		}
		_, err := os.Lstat(r.Path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		// Disabling fails when systemd is not reachable now; the file
		// goes all the same, and systemd forgets a unit without one.
		disableErr := s.systemctl(ctx, r.Method, "disable", r.Name)
		if err := os.Remove(r.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		s.systemctl(ctx, r.Method, "daemon-reload")
		if disableErr != nil {
			return fmt.Errorf("removed %s, but: %w", r.Path, disableErr)
		}
	case Cron:
		if !strings.HasPrefix(r.Line, "@reboot ") || !strings.Contains(r.Line, " # seattle-installer seattle-") {
			return fmt.Errorf("the recorded crontab line %q is not one this installer writes", r.Line)
		}
		tab, err := s.crontab(ctx)
		if err != nil {
			return err
		}
		if !hasLine(tab, r.Line) {
			return nil
		}
		var keep []string
		for _, l := range strings.SplitAfter(tab, "\n") {
			if strings.TrimRight(l, "\n") != r.Line && l != "" {
				keep = append(keep, l)
			}
		}
		if _, err := s.Run(ctx, strings.Join(keep, ""), "crontab", "-"); err != nil {
			return fmt.Errorf("install the crontab without the node's line: %w", err)
		}
	case LaunchAgent:
		if !strings.HasPrefix(r.Name, "org.seattletestbed.seattle-") || filepath.Base(r.Path) != r.Name+".plist" {
			return fmt.Errorf("the recorded LaunchAgent %q is not one this installer writes", r.Path)
		}
		if err := os.Remove(r.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	case RunKey:
		if s.Registry == nil {
			return fmt.Errorf("the registry: %w", ErrNotImplemented)
		}
		if !strings.HasPrefix(r.Name, "seattle-") || strings.ContainsAny(r.Name, `\/`) {
			return fmt.Errorf("the recorded Run value %q is not one this installer writes", r.Name)
		}
		if err := s.Registry.DeleteRunValue(r.Name); err != nil {
			return fmt.Errorf(`delete HKEY_CURRENT_USER\%s\%s: %w`, runKeyPath, r.Name, err)
		}
	default:
		return fmt.Errorf("unregister %q: %w", r.Method, ErrNotImplemented)
	}
	return nil
}

// Manual is the command a donor can run to do by hand what Register failed
// to do.
func (s *System) Manual(r Registration, spec Spec) string {
	switch r.Method {
	case SystemdUser:
		return fmt.Sprintf("write the unit below to %s, then run: systemctl --user daemon-reload && systemctl --user enable %s", r.Path, r.Name)
	case SystemdSystem:
		return fmt.Sprintf("write the unit below to %s, then run: systemctl daemon-reload && systemctl enable %s", r.Path, r.Name)
	case Cron:
		return "run: (crontab -l; echo " + shellQuote(r.Line) + ") | crontab -"
	case LaunchAgent:
		return "save the LaunchAgent below as " + r.Path
	case RunKey:
		return `run: reg add HKCU\` + runKeyPath + ` /v ` + r.Name + ` /t REG_SZ /d "` + strings.ReplaceAll(RunValue(spec), `"`, `\"`) + `"`
	}
	return ""
}

func (s *System) systemctl(ctx context.Context, m Method, args ...string) error {
	if m == SystemdUser {
		args = append([]string{"--user"}, args...)
	}
	if out, err := s.Run(ctx, "", "systemctl", args...); err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out))
	}
	return nil
}

// crontab returns the user's crontab, "" when there is none.
func (s *System) crontab(ctx context.Context) (string, error) {
	out, err := s.Run(ctx, "", "crontab", "-l")
	if err != nil {
		if strings.Contains(out, "no crontab for") {
			return "", nil
		}
		return "", fmt.Errorf("read the crontab (crontab -l): %w: %s", err, strings.TrimSpace(out))
	}
	return out, nil
}

func hasLine(tab, line string) bool {
	for _, l := range strings.Split(tab, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func validUnitName(n string) bool {
	return strings.HasPrefix(n, "seattle-") && strings.HasSuffix(n, ".service") && !strings.ContainsAny(n, `/\`)
}

// writeNew writes a file that must not exist yet: a unit or plist of the
// same name belongs to someone else.
func writeNew(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists already (an earlier install in the same directory?): remove it, or uninstall that install first", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}
