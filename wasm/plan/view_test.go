package plan

import (
	"strings"
	"testing"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

const sample = "Percent 40\nOwner 3 123456789123456789\nUser 5 77\nPercent 60\nOwner 3 21\n"

func maximums() resource.Values {
	v := resource.Values{}
	for _, n := range resource.All {
		v[n] = resource.Default(n, "amd64")
	}
	return v
}

func offcut() resource.Values {
	v := resource.Values{}
	for _, n := range resource.All {
		v[n] = 0
	}
	v[resource.CPU], v[resource.Memory] = 0.002, 1000000
	return v
}

// TestPreviewIsThePlan: the page's view is the install's plan, in words.
func TestPreviewIsThePlan(t *testing.T) {
	v := Preview([]byte(sample), maximums(), offcut(), 20)
	if !v.OK || v.Problem != "" || len(v.Vessels) != 2 || len(v.Resources) != len(resource.All) {
		t.Fatalf("view %+v", v)
	}
	if v.Headline != "0.2 of a processor core, 102 MB of memory and 740 MB of disk space" {
		t.Errorf("headline %q", v.Headline)
	}
	if v.Vessels[0].Fingerprint != "1234…6789" || v.Vessels[0].Users != 1 || v.Vessels[1].Fingerprint != "21" {
		t.Errorf("vessels %+v", v.Vessels)
	}
	for k, n := range resource.All {
		if v.Vessels[0].Texts[k] != resource.Format(n, v.Vessels[0].Values[k]) {
			t.Errorf("%s: text %q for %v", n, v.Vessels[0].Texts[k], v.Vessels[0].Values[k])
		}
	}
}

func TestPreviewSaysWhyThereIsNoPlan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     string
		percent float64
		want    string
	}{
		{"too small a share", sample, 0.01, "falls short in processor"},
		{"no share", sample, 0, "above 0 and at most 100"},
		{"too large", sample, 101, "above 0 and at most 100"},
		{"broken vesselinfo", "Percent 50\n", 10, "cannot be used"},
	} {
		v := Preview([]byte(tc.src), maximums(), offcut(), tc.percent)
		if v.OK || !strings.Contains(v.Problem, tc.want) || strings.Contains(v.Problem, "--") {
			t.Errorf("%s: %+v", tc.name, v)
		}
	}
}
