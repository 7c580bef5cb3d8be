package startup

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// The texts each way of starting at boot needs. They are OS-neutral so
// that every one is tested (with golden files) on any machine: the paths
// in them are judged and joined the way of the system the text is for
// (slash-separated for systemd, cron and launchd; drive letters and
// backslashes for the Windows registry), never the way of the machine
// that makes them.

// SystemdUnit is the unit that starts spec at boot (system) or at the
// user's login (user). The start command may leave the node running in the
// background and exit: KillMode=process and RemainAfterExit keep systemd
// from killing what it started.
func SystemdUnit(spec Spec, system bool) ([]byte, error) {
	if err := checkUnix(spec); err != nil {
		return nil, err
	}
	want := "default.target"
	if system {
		want = "multi-user.target"
	}
	exec := []string{systemdQuote(spec.Command)}
	for _, a := range spec.Args {
		exec = append(exec, systemdQuote(a))
	}
	return []byte(fmt.Sprintf(`# Written by seattle-installer; "seattle-installer uninstall --dir %s" removes it.
[Unit]
Description=Seattle node in %s
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
WorkingDirectory=%s
ExecStart=%s
StandardOutput=append:%s
StandardError=append:%s
KillMode=process
RemainAfterExit=yes

[Install]
WantedBy=%s
`, spec.Dir, escapePercent(spec.Dir), escapePercent(spec.Dir), strings.Join(exec, " "),
		escapePercent(path.Join(spec.Dir, LogFile)), escapePercent(path.Join(spec.Dir, LogFile)), want)), nil
}

// CronLine is the crontab line that starts spec at boot. It starts the node
// only while its start command is still there, so a node deleted without an
// uninstall does not leave cron failing at every boot.
func CronLine(spec Spec) (string, error) {
	if err := checkUnix(spec); err != nil {
		return "", err
	}
	cmd := shellQuote(spec.Command)
	for _, a := range spec.Args {
		cmd += " " + shellQuote(a)
	}
	line := fmt.Sprintf("@reboot [ -e %s ] && cd %s && %s >> %s 2>&1 # seattle-installer %s",
		shellQuote(spec.Command), shellQuote(spec.Dir), cmd, shellQuote(path.Join(spec.Dir, LogFile)), ID(spec.Dir))
	// cron turns an unescaped % into a newline.
	return strings.ReplaceAll(line, "%", `\%`), nil
}

// LaunchAgentPlist is the property list of a LaunchAgent that starts spec
// when the donor logs in.
func LaunchAgentPlist(label string, spec Spec) ([]byte, error) {
	if err := checkUnix(spec); err != nil {
		return nil, err
	}
	var args strings.Builder
	for _, a := range append([]string{spec.Command}, spec.Args...) {
		args.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	log := xmlEscape(path.Join(spec.Dir, LogFile))
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + xmlEscape(label) + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>WorkingDirectory</key>
	<string>` + xmlEscape(spec.Dir) + `</string>
	<key>RunAtLoad</key>
	<true/>
	<key>StandardOutPath</key>
	<string>` + log + `</string>
	<key>StandardErrorPath</key>
	<string>` + log + `</string>
</dict>
</plist>
`), nil
}

// RunValue is the data of the Run registry value: the command line.
func RunValue(spec Spec) string {
	parts := []string{`"` + spec.Command + `"`}
	for _, a := range spec.Args {
		parts = append(parts, `"`+a+`"`)
	}
	return strings.Join(parts, " ")
}

// checkText refuses what none of the formats can hold: a newline ends a
// crontab line, a unit's setting or a registry value's command line.
func checkText(spec Spec) error {
	for _, s := range append([]string{spec.Dir, spec.Command}, spec.Args...) {
		if strings.ContainsAny(s, "\x00\n\r") {
			return errors.New("the install directory or start command holds a line break, which no start-at-boot entry can hold: choose a plainer --dir")
		}
	}
	return nil
}

// checkUnix is checkText for the Unix formats, whose paths must be
// absolute Unix paths.
func checkUnix(spec Spec) error {
	if err := checkText(spec); err != nil {
		return err
	}
	if !path.IsAbs(spec.Command) || !path.IsAbs(spec.Dir) {
		return fmt.Errorf("the start command %q and the directory %q must be absolute paths", spec.Command, spec.Dir)
	}
	return nil
}

// checkWindows is checkText for the Run registry value, whose paths must
// be absolute Windows paths (C:\... or \\server\share\...): Windows runs
// a relative one from wherever it starts the donor's session.
func checkWindows(spec Spec) error {
	if err := checkText(spec); err != nil {
		return err
	}
	if !windowsAbs(spec.Command) || !windowsAbs(spec.Dir) {
		return fmt.Errorf("the start command %q and the directory %q must be absolute Windows paths", spec.Command, spec.Dir)
	}
	return nil
}

func windowsAbs(p string) bool {
	if strings.HasPrefix(p, `\\`) {
		return len(p) > 2 && p[2] != '\\'
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func systemdQuote(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `%`, `%%`, `$`, `$$`).Replace(s)
	return `"` + s + `"`
}

func escapePercent(s string) string { return strings.ReplaceAll(s, "%", "%%") }

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
