package startup

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// The texts each way of starting at boot needs. They are OS-neutral so
// that every one is tested (with golden files) on any machine.

// SystemdUnit is the unit that starts spec at boot (system) or at the
// user's login (user). The start command may leave the node running in the
// background and exit: KillMode=process and RemainAfterExit keep systemd
// from killing what it started.
func SystemdUnit(spec Spec, system bool) ([]byte, error) {
	if err := checkText(spec); err != nil {
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
		escapePercent(filepath.Join(spec.Dir, LogFile)), escapePercent(filepath.Join(spec.Dir, LogFile)), want)), nil
}

// CronLine is the crontab line that starts spec at boot. It starts the node
// only while its start command is still there, so a node deleted without an
// uninstall does not leave cron failing at every boot.
func CronLine(spec Spec) (string, error) {
	if err := checkText(spec); err != nil {
		return "", err
	}
	cmd := shellQuote(spec.Command)
	for _, a := range spec.Args {
		cmd += " " + shellQuote(a)
	}
	line := fmt.Sprintf("@reboot [ -e %s ] && cd %s && %s >> %s 2>&1 # seattle-installer %s",
		shellQuote(spec.Command), shellQuote(spec.Dir), cmd, shellQuote(filepath.Join(spec.Dir, LogFile)), ID(spec.Dir))
	// cron turns an unescaped % into a newline.
	return strings.ReplaceAll(line, "%", `\%`), nil
}

// LaunchAgentPlist is the property list of a LaunchAgent that starts spec
// when the donor logs in.
func LaunchAgentPlist(label string, spec Spec) ([]byte, error) {
	if err := checkText(spec); err != nil {
		return nil, err
	}
	var args strings.Builder
	for _, a := range append([]string{spec.Command}, spec.Args...) {
		args.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	log := xmlEscape(filepath.Join(spec.Dir, LogFile))
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
// crontab line or a unit's setting.
func checkText(spec Spec) error {
	for _, s := range append([]string{spec.Dir, spec.Command}, spec.Args...) {
		if strings.ContainsAny(s, "\x00\n\r") {
			return errors.New("the install directory or start command holds a line break, which no start-at-boot entry can hold: choose a plainer --dir")
		}
	}
	if !filepath.IsAbs(spec.Command) || !filepath.IsAbs(spec.Dir) {
		return fmt.Errorf("the start command %q and the directory %q must be absolute paths", spec.Command, spec.Dir)
	}
	return nil
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
