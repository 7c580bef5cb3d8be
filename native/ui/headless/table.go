package headless

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/benchmark"
	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
)

// WritePlan prints the plan: what the donor gives in words, then one
// table per vessel with its share, its owner key abbreviated, every
// resource by its label and value (package resource's words), and its
// ports.
func WritePlan(w io.Writer, p *install.Plan) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan: %s%% of this computer for %d vessel%s: %s.\n", strconv.FormatFloat(p.Percent, 'f', -1, 64), len(p.Vessels), plural(len(p.Vessels)), resource.Headline(p.Donated))
	width := 0
	for _, n := range resource.All {
		width = max(width, len(resource.Describe(n).Label))
	}
	for _, v := range p.Vessels {
		fmt.Fprintf(&b, "\n%s  %d%% of the donation  owner %s  %d user key%s\n", v.Name, v.Percent, Abbreviate(v.Owner), len(v.Users), plural(len(v.Users)))
		for _, n := range resource.All {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, resource.Describe(n).Label, resource.Format(n, v.Resources[n]))
		}
		if len(v.Ports) > 0 {
			fmt.Fprintf(&b, "  %-*s  %d-%d (%d, each as messport and connport)\n", width, "Ports", v.Ports[0], v.Ports[len(v.Ports)-1], len(v.Ports))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFailures lists the measurements that failed and the safe default
// the plan uses instead of each.
func WriteFailures(w io.Writer, fs []benchmark.Failure, p *install.Plan) {
	fmt.Fprintln(w, "Not measured (the safe default is used instead):")
	for _, f := range fs {
		def := ""
		if p != nil {
			def = ": " + resource.Format(f.Resource, p.Maximums[f.Resource]) + " at most"
		}
		fmt.Fprintf(w, "  %s%s (%s)\n", resource.Describe(f.Resource).Label, def, f.Error)
	}
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
