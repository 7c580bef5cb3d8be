package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// Reserve is the vessel a server adds to every build, after the vessels its
// user asked for, as Seattle's own builder adds the service vessel (20 %,
// owned by Seattle's service key) in which the node manager keeps its logs.
// The zero Reserve adds nothing.
type Reserve struct {
	Percent int    // 0 for none; otherwise a multiple of 10 from 10 to 90
	Owner   string // the owner's public key, "e n"
}

// check says what is wrong with a Reserve, if anything.
func (r Reserve) check() error {
	if r.Percent == 0 {
		if r.Owner != "" {
			return errors.New("reserved vessel: an owner key was given but no percentage (--reserve)")
		}
		return nil
	}
	if r.Percent < 10 || r.Percent > 90 || r.Percent%10 != 0 {
		return fmt.Errorf("reserved vessel: %d%% is not a multiple of 10 from 10 to 90", r.Percent)
	}
	if r.Owner == "" {
		return errors.New("reserved vessel: no owner key (--reserve-key FILE, e.g. seattle-service.publickey)")
	}
	if _, err := seattlekey.ParsePublic(r.Owner); err != nil {
		return fmt.Errorf("reserved vessel: owner %w", err)
	}
	// The vesselinfo validator's rules are the ones that count.
	if res := vesselinfo.Validate([]byte(r.lines(100))); !res.Valid {
		return fmt.Errorf("reserved vessel: owner key: %s", res.Errors[0].Message)
	}
	return nil
}

// normalized returns r with its key in the one-space form vesselinfo uses.
func (r Reserve) normalized() Reserve {
	r.Owner = strings.Join(strings.Fields(r.Owner), " ")
	return r
}

// lines is the reserved vessel as vesselinfo lines, with the percentage pct.
func (r Reserve) lines(pct int) string {
	return "Percent " + strconv.Itoa(pct) + "\nOwner " + r.Owner + "\n"
}

// UserPercent is what the user's vessels must add up to.
func (r Reserve) UserPercent() int { return 100 - r.Percent }

// describe says the rule in words, for error messages and pages.
func (r Reserve) describe() string {
	return fmt.Sprintf("this server adds a vessel of %d%% owned by its service key to every build, so your vessels must add up to %d%%",
		r.Percent, r.UserPercent())
}

// sumMessage is the start of the validator's message for a wrong sum,
// followed by the sum; TestReserveSumMessage pins it to the validator.
const sumMessage = "the percentages add up to "

// complete applies the server's Reserve to uploaded vesselinfo text: it
// returns the normalized text of the build (the user's vessels, then the
// reserved one) and the validator's result for it. Without a Reserve it is
// Normalize and vesselinfo.Validate. With one, the user's vessels must add
// up to UserPercent; a text that already ends with the reserved vessel (a
// stored build uploaded again) is taken as it is.
func (r Reserve) complete(src []byte) ([]byte, vesselinfo.Result) {
	text := Normalize(src)
	res := vesselinfo.Validate(text)
	if r.Percent == 0 {
		return text, res
	}
	if res.Valid {
		if n := len(res.Vessels); n > 1 {
			last := res.Vessels[n-1]
			if last.Percent == r.Percent && last.Owner.String() == r.Owner && len(last.Users) == 0 {
				return text, res
			}
		}
	}
	// Every error but the sum's stands; the sum is checked against the
	// user's share.
	sum, sumLine := 100, 0
	var errs vesselinfo.Errors
	for _, e := range res.Errors {
		if rest, ok := strings.CutPrefix(e.Message, sumMessage); ok {
			n, _, _ := strings.Cut(rest, ";")
			if v, err := strconv.Atoi(n); err == nil {
				sum, sumLine = v, e.Line
				continue
			}
		}
		errs = append(errs, e)
	}
	if sumLine == 0 && len(res.Vessels) > 0 {
		sumLine = lineCount(text)
	}
	if sum != r.UserPercent() && sumLine > 0 {
		errs = append(errs, vesselinfo.Error{Line: sumLine, Message: fmt.Sprintf(
			"the percentages add up to %d; they must add up to %d, because %s", sum, r.UserPercent(), r.describe())})
	}
	if len(errs) > 0 {
		return text, vesselinfo.Result{Errors: sortedErrors(errs)}
	}
	if len(text) > 0 && text[len(text)-1] != '\n' {
		text = append(text, '\n')
	}
	text = append(text, r.lines(r.Percent)...)
	return text, vesselinfo.Validate(text)
}

// lineCount is the number of the last line of text.
func lineCount(text []byte) int {
	n := bytes.Count(text, []byte("\n"))
	if len(text) > 0 && text[len(text)-1] != '\n' {
		n++
	}
	return max(n, 1)
}

// sortedErrors orders errors by line, as the validator does.
func sortedErrors(es vesselinfo.Errors) vesselinfo.Errors {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Line < es[j-1].Line; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	return es
}

// checkPublicURL accepts "" or an absolute http(s) URL with a host and no
// query: the prefix of every link the XML-RPC API returns.
func checkPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("public URL %q: give the scheme and host the donors reach, such as https://builder.example.org", s)
	}
	return nil
}

// configBody is the answer to GET /api/config: what the upload page needs to
// check a file as the server will.
type configBody struct {
	Reserve *reserveBody `json:"reserve"` // null when the server adds no vessel
}

type reserveBody struct {
	Percent int    `json:"percent"`
	Owner   string `json:"owner"`
}

// handleConfig serves GET /api/config.
func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		apiError(w, http.StatusMethodNotAllowed, "use GET to read the configuration")
		return
	}
	var out configBody
	if s.cfg.Reserve.Percent > 0 {
		out.Reserve = &reserveBody{Percent: s.cfg.Reserve.Percent, Owner: s.cfg.Reserve.Owner}
	}
	writeJSON(w, http.StatusOK, out)
}

// tellPage writes the reserve into the upload page's
// <meta name="reserve" content="PERCENT E N">, so that the page checks files
// as the server will without a request of its own.
func (r Reserve) tellPage(static map[string]*staticFile) error {
	index := static["/"]
	if index == nil {
		return errors.New("page files: no index.html")
	}
	const empty = `<meta name="reserve" content="">`
	if !bytes.Contains(index.body, []byte(empty)) {
		return errors.New(`page files: index.html lacks <meta name="reserve" content="">`)
	}
	if r.Percent == 0 {
		return nil
	}
	page := *index
	page.body = bytes.Replace(index.body, []byte(empty), []byte(`<meta name="reserve" content="`+strconv.Itoa(r.Percent)+" "+r.Owner+`">`), 1)
	gz, err := gzipBytes(page.body)
	if err != nil {
		return err
	}
	page.gz = gz
	sum := sha256.Sum256(page.body)
	page.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	static["/"], static["/index.html"] = &page, &page
	return nil
}
