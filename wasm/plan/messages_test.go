package plan

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// TestMessagesAreWhatFmtWrote: the package builds its messages without fmt
// (it is compiled into the browser's module); each is still, byte for
// byte, what the fmt format it replaced gives.
func TestMessagesAreWhatFmtWrote(t *testing.T) {
	ie := &InsufficientError{Vessels: 10, Percent: 1.5, Negative: []resource.Name{resource.CPU, resource.Memory},
		After: resource.Values{resource.CPU: -0.005, resource.Memory: -4900000}}
	one := &InsufficientError{Vessels: 1, Percent: 100, Negative: []resource.Name{resource.FilesOpened},
		After: resource.Values{resource.FilesOpened: -2}}
	insufficient := func(e *InsufficientError) string {
		parts := make([]string, len(e.Negative))
		for i, n := range e.Negative {
			parts[i] = fmt.Sprintf("%s would be %s", n, FormatAmount(n, e.After[n]))
		}
		return fmt.Sprintf("insufficient resources: %s%% of this machine cannot pay for %d vessel%s (the cost of each is in resources.offcut): %s",
			strconv.FormatFloat(e.Percent, 'f', -1, 64), e.Vessels, plural(e.Vessels), strings.Join(parts, ", "))
	}
	long := strings.Repeat("y", 50)
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"insufficient", ie.Error(), insufficient(ie)},
		{"insufficient, one vessel", one.Error(), insufficient(one)},
		{"values", FormatValues(maximums()), func() string {
			var b strings.Builder
			for i, n := range resource.All {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s %s", n, FormatAmount(n, maximums()[n]))
			}
			return b.String()
		}()},
		{"quote", quote(long), strconv.QuoteToASCII(long[:40]) + fmt.Sprintf(" (%d bytes in all)", len(long))},
		{"oversized", offcutError(strings.Repeat("#", MaxOffcutSize+1)),
			fmt.Sprintf("%s is larger than %d KiB: not a resources.offcut file", "f", MaxOffcutSize>>10)},
		{"not a resource line", offcutError("\n call  " + long + "\n"),
			fmt.Sprintf("%s:%d: expected \"resource NAME VALUE\", found %s", "f", 2, quote("call  "+long))},
		{"unknown", offcutError("resource gpu\x1b 1"), fmt.Sprintf("%s:%d: unknown resource %s", "f", 1, quote("gpu\x1b"))},
		{"again", offcutError("resource cpu 1\n\nresource cpu 2\n"),
			fmt.Sprintf("%s:%d: resource %s is listed again (first on line %d)", "f", 3, resource.CPU, 1)},
		{"not a number", offcutError("resource memory -" + long),
			fmt.Sprintf("%s:%d: the cost of %s, %s, is not a non-negative number", "f", 1, resource.Memory, quote("-"+long))},
		{"wrapped", (&wrapped{"f:9", bufio.ErrTooLong}).Error(), fmt.Errorf("%s:%d: %w", "f", 9, bufio.ErrTooLong).Error()},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
	vessels := make([]vesselinfo.Vessel, 12)
	for i := range vessels {
		vessels[i].Percent = 10
	}
	if p, err := Make(maximums(), 100, offcut(), vessels); err != nil || p.Vessels[11].Name != fmt.Sprintf("v%d", 12) {
		t.Errorf("the twelfth vessel: %+v, %v", p, err)
	}
	if !errors.Is(&wrapped{"f:9", bufio.ErrTooLong}, bufio.ErrTooLong) {
		t.Error("a wrapped error does not unwrap to its cause")
	}
}

func offcutError(src string) string {
	_, err := ParseOffcut([]byte(src), "f")
	if err == nil {
		return "no error"
	}
	return err.Error()
}
