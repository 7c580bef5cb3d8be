package plan

import (
	"errors"
	"strings"

	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// View is a plan as the donor's page shows it, in the words of package
// resource: what the donor gives, and each vessel's share. The page gets
// it from the WebAssembly module while the donor moves the percentage
// (seattlePlan), and the host builds the same one for the plan it installs,
// so both show figures of one computation.
type View struct {
	OK      bool    `json:"ok"`
	Percent float64 `json:"percent"`
	// Headline is what the donor gives in words: "0.2 of a processor core,
	// 2.5 GB of memory and 7.8 GB of disk space".
	Headline string `json:"headline"`
	// Problem says, in words, why there is no plan: "" when OK.
	Problem string `json:"problem"`
	// Short names the resources the share cannot pay for (labels).
	Short     []string       `json:"short"`
	Resources []ViewResource `json:"resources"`
	Vessels   []ViewVessel   `json:"vessels"`
}

// ViewResource is one resource of the donation.
type ViewResource struct {
	Name        string  `json:"name"`
	Label       string  `json:"label"`
	Unit        string  `json:"unit"` // "cores", "bytes", "bytes/s", "" (a count)
	Explain     string  `json:"explain"`
	Maximum     float64 `json:"maximum"`
	Donated     float64 `json:"donated"`
	MaximumText string  `json:"maximumText"`
	DonatedText string  `json:"donatedText"`
}

// ViewVessel is what one vessel gets, in the order of View.Resources.
type ViewVessel struct {
	Name        string    `json:"name"`
	Percent     int       `json:"percent"`
	Owner       string    `json:"owner"`       // the full key, "e n"
	Fingerprint string    `json:"fingerprint"` // short: 1234…6789
	Users       int       `json:"users"`
	Values      []float64 `json:"values"`
	Texts       []string  `json:"texts"`
	Ports       []int     `json:"ports"`
}

// PageUnit is the unit the page's script knows a resource's values by.
func PageUnit(n resource.Name) string {
	if k := resource.Describe(n).Kind; k != resource.Count {
		return string(k)
	}
	return ""
}

// NewView words a plan (and Make's error, if any).
func NewView(p *Plan, err error) View {
	v := View{OK: err == nil && p != nil, Resources: []ViewResource{}, Vessels: []ViewVessel{}, Short: []string{}}
	if p == nil {
		v.Problem = "There is no plan."
		return v
	}
	v.Percent = p.Percent
	v.Headline = resource.Headline(p.Donated)
	for _, n := range resource.All {
		info := resource.Describe(n)
		v.Resources = append(v.Resources, ViewResource{
			Name: string(n), Label: info.Label, Unit: PageUnit(n), Explain: info.Explain,
			Maximum: p.Maximums[n], Donated: p.Donated[n],
			MaximumText: resource.Format(n, p.Maximums[n]), DonatedText: resource.Format(n, p.Donated[n]),
		})
	}
	var ie *InsufficientError
	if errors.As(err, &ie) {
		for _, n := range ie.Negative {
			v.Short = append(v.Short, strings.ToLower(resource.Describe(n).Label))
		}
		v.Problem = "This share is not enough to run the vessels: it falls short in " + join(v.Short) + ". Choose a larger share."
		return v
	}
	if err != nil {
		v.Problem = "There is no plan for this share."
		return v
	}
	for _, vp := range p.Vessels {
		vv := ViewVessel{Name: vp.Name, Percent: vp.Percent, Owner: vp.Owner, Fingerprint: Fingerprint(vp.Owner),
			Users: len(vp.Users), Values: []float64{}, Texts: []string{}, Ports: append([]int{}, vp.Ports...)}
		for _, n := range resource.All {
			vv.Values = append(vv.Values, vp.Resources[n])
			vv.Texts = append(vv.Texts, resource.Format(n, vp.Resources[n]))
		}
		v.Vessels = append(v.Vessels, vv)
	}
	return v
}

// Preview is the plan for percent of the maximums, as a View: what the
// page calls on every move of the percentage. src is the vesselinfo text.
func Preview(src []byte, max, offcut resource.Values, percent float64) View {
	vessels, err := vesselinfo.Parse(src)
	if err != nil {
		return View{Problem: "The list of vessels that came with this installer cannot be used.", Resources: []ViewResource{}, Vessels: []ViewVessel{}, Short: []string{}}
	}
	if !(percent > 0 && percent <= 100) {
		return View{Percent: percent, Problem: "Choose a share above 0 and at most 100 %.", Resources: []ViewResource{}, Vessels: []ViewVessel{}, Short: []string{}}
	}
	return NewView(Make(max, percent, offcut, vessels))
}

// Fingerprint shortens a public key "e n" to the first and last four
// digits of n, like 1234…6789: enough to recognise a key.
func Fingerprint(key string) string {
	n := key
	if i := strings.LastIndexByte(key, ' '); i >= 0 {
		n = key[i+1:]
	}
	if len(n) <= 9 {
		return n
	}
	return n[:4] + "…" + n[len(n)-4:]
}

func join(words []string) string {
	switch len(words) {
	case 0:
		return "some resources"
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
