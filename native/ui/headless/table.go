package headless

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

// WritePlan prints the plan as one table per vessel: its share, its owner
// key abbreviated, every resource with its unit, and its ports.
func WritePlan(w io.Writer, p *install.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %s%% of this machine, for %d vessel%s\n", strconv.FormatFloat(p.Percent, 'f', -1, 64), len(p.Vessels), plural(len(p.Vessels)))
	for _, v := range p.Vessels {
		fmt.Fprintf(&b, "\n%s  %d%% of the donation  owner %s  %d user key%s\n", v.Name, v.Percent, Abbreviate(v.Owner), len(v.Users), plural(len(v.Users)))
		width := 0
		for _, n := range resource.All {
			width = max(width, len(value(n, v.Resources[n])))
		}
		for _, n := range resource.All {
			fmt.Fprintf(&b, "  %-12s %*s %s\n", n, width, value(n, v.Resources[n]), install.Unit(n))
		}
		if len(v.Ports) > 0 {
			fmt.Fprintf(&b, "  ports %d-%d (%d, each as messport and connport)\n", v.Ports[0], v.Ports[len(v.Ports)-1], len(v.Ports))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func value(n resource.Name, v float64) string {
	if n.Whole() {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	// Six digits: the resource file keeps every digit of the float
	// (0.15680000000000002); a person wants 0.1568.
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Abbreviate shortens a public key "e n" to the first and last four digits
// of n, like 1234…6789: enough to recognise a key, short enough for a table.
func Abbreviate(key string) string {
	n := key
	if i := strings.LastIndexByte(key, ' '); i >= 0 {
		n = key[i+1:]
	}
	if len(n) <= 9 {
		return n
	}
	return n[:4] + "…" + n[len(n)-4:]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
