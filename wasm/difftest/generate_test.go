//go:build !js

package difftest

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
)

// generate returns n vesselinfo files: valid ones written in every allowed
// way (blanks, tabs, CRLF, byte-order mark, long keys) and mutations of them
// that break a rule or feed the parser junk. Deterministic for a seed.
func generate(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([][]byte, 0, n+2)
	for len(out) < n {
		ls := validLines(r)
		for range r.IntN(4) { // 0 to 3 mutations; none keeps it valid
			ls = mutate(r, ls)
		}
		out = append(out, join(r, ls))
	}
	// Two inputs over the size limit, which the WASM entry point truncates
	// before copying (bytes) or converting (strings, counted in UTF-16).
	big := bytes.Repeat([]byte("User 1 2\n"), vesselinfoMaxSize/9+1)
	out = append(out, big, append([]byte("Percent 100\n"), bytes.Repeat([]byte("é"), vesselinfoMaxSize/2)...))
	return out
}

const vesselinfoMaxSize = 16 << 20

// validLines is a valid file as lines without their ends.
func validLines(r *rand.Rand) []string {
	// Split 100 into 1-10 shares of whole tenths.
	vessels := 1 + r.IntN(10)
	shares := make([]int, vessels)
	for i := range shares {
		shares[i] = 1
	}
	for left := 10 - vessels; left > 0; left-- {
		shares[r.IntN(vessels)]++
	}
	var ls []string
	for _, s := range shares {
		pct := strconv.Itoa(s * 10)
		if r.IntN(20) == 0 {
			pct = "0" + pct // allowed: still decimal digits
		}
		ls = append(ls, blank(r)+"Percent"+sep(r)+pct+blank(r))
		users := r.IntN(4)
		ownerAt := r.IntN(users + 1) // the Owner may come after some Users
		for u := 0; u <= users; u++ {
			label := "User"
			if u == ownerAt {
				label = "Owner"
			}
			e, n := key(r)
			ls = append(ls, blank(r)+label+sep(r)+e+sep(r)+n+blank(r))
		}
	}
	return ls
}

// key returns a valid key "e n" of random sizes, sometimes huge.
func key(r *rand.Rand) (e, n string) {
	var nd int
	switch r.IntN(10) {
	case 0:
		nd = 1 + r.IntN(3)
	case 1:
		nd = 1000 + r.IntN(3300) // up to the 4300-digit limit
	default:
		nd = 20 + r.IntN(300)
	}
	n = number(r, nd)
	if nd == 1 && n == "1" {
		n = "2"
	}
	ed := 1 + r.IntN(min(nd, 7))
	e = number(r, ed)
	if ed == nd && e >= n {
		e = smaller(n)
	}
	return e, n
}

// smaller returns a number below n of as many digits, or fewer when n is the
// smallest of its length.
func smaller(n string) string {
	b := []byte(n)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] > '0' && !(i == 0 && b[i] == '1') {
			b[i]--
			return string(b)
		}
	}
	if len(n) == 1 {
		return "1" // only for n == "2" after key's fix-up
	}
	return strings.Repeat("9", len(n)-1)
}

func number(r *rand.Rand, digits int) string {
	b := make([]byte, digits)
	b[0] = byte('1' + r.IntN(9))
	for i := 1; i < digits; i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func blank(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return " "
	case 1:
		return "\t"
	case 2:
		return " \t  "
	}
	return ""
}

func sep(r *rand.Rand) string {
	if s := blank(r); s != "" {
		return s
	}
	return " "
}

// join writes lines with one kind of line end, maybe a final newline and
// maybe a byte-order mark.
func join(r *rand.Rand, ls []string) []byte {
	end := "\n"
	if r.IntN(4) == 0 {
		end = "\r\n"
	}
	var b bytes.Buffer
	if r.IntN(8) == 0 {
		b.WriteString("\ufeff")
	}
	for i, l := range ls {
		b.WriteString(l)
		if i < len(ls)-1 || r.IntN(4) != 0 {
			b.WriteString(end)
		}
	}
	return b.Bytes()
}

var junk = []string{"\x00", "\xff", "\xc3\x28", "\xed\xa0\x80", "\r", "\ufeff", "é", "#", "\"", "\\", "\x01", "\x7f", "😀", "\u2028"}

// mutate breaks (or sometimes merely reshapes) a file.
func mutate(r *rand.Rand, ls []string) []string {
	ls = append([]string(nil), ls...)
	if len(ls) == 0 {
		return []string{junk[r.IntN(len(junk))]}
	}
	i := r.IntN(len(ls))
	switch r.IntN(14) {
	case 0: // drop a line
		return append(ls[:i], ls[i+1:]...)
	case 1: // duplicate a line
		return append(ls[:i+1], ls[i:]...)
	case 2: // swap two lines
		j := r.IntN(len(ls))
		ls[i], ls[j] = ls[j], ls[i]
	case 3: // change the case of a label
		ls[i] = strings.Replace(strings.Replace(strings.Replace(ls[i], "Percent", "percent", 1), "Owner", "OWNER", 1), "User", "user", 1)
	case 4: // insert an empty or blank-only line
		return append(ls[:i], append([]string{[]string{"", " ", "\t \t"}[r.IntN(3)]}, ls[i:]...)...)
	case 5: // junk bytes somewhere in a line
		at := r.IntN(len(ls[i]) + 1)
		ls[i] = ls[i][:at] + junk[r.IntN(len(junk))] + ls[i][at:]
	case 6: // a huge number in place of the last value
		f := fields(ls[i])
		f[len(f)-1] = number(r, []int{5000, 30, 4301}[r.IntN(3)])
		ls[i] = strings.Join(f, " ")
	case 7: // another percentage
		ls[i] = "Percent " + strconv.Itoa(r.IntN(120))
	case 8: // a leading zero, or a zero
		f := fields(ls[i])
		k := r.IntN(len(f))
		if r.IntN(2) == 0 {
			f[k] = "0" + f[k]
		} else {
			f[k] = "0"
		}
		ls[i] = strings.Join(f, " ")
	case 9: // swap e and n, or make them equal
		f := fields(ls[i])
		if len(f) == 3 {
			if r.IntN(2) == 0 {
				f[1], f[2] = f[2], f[1]
			} else {
				f[1] = f[2]
			}
		}
		ls[i] = strings.Join(f, " ")
	case 10: // drop or add a value
		f := fields(ls[i])
		if r.IntN(2) == 0 && len(f) > 1 {
			f = f[:len(f)-1]
		} else {
			f = append(f, "7")
		}
		ls[i] = strings.Join(f, " ")
	case 11: // a comment, a file name, an unknown label
		ls[i] = []string{"# vessels for my lab", "Owner alice.publickey", "Group 3 7", "User ./keys/bob"}[r.IntN(4)]
	case 12: // a lone CR inside a line
		ls[i] += "\r "
	case 13: // cut the file short
		return ls[:i]
	}
	return ls
}

// fields splits a line at blanks, never into nothing.
func fields(l string) []string {
	if f := strings.Fields(l); len(f) > 0 {
		return f
	}
	return []string{"Percent"}
}
