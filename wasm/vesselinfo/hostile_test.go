package vesselinfo

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Memory bounds, as bytes allocated per byte of input. An invalid file is
// never copied, and what Parse keeps (at most MaxErrors errors, the keys of at
// most eleven vessels) does not grow with the input, so a large hostile file
// costs a small fraction of its size; a valid file costs one copy of itself
// plus its Key values.
const (
	maxAllocPerByteInvalid = 0.05 // for the inputs of at least 8 MB below
	maxAllocPerByteValid   = 1.25
	// maxAllocInvalid is the same bound in bytes, whatever the size: the
	// worst case is ten vessels of MaxUsers keys held until the sum fails.
	maxAllocInvalid = 1 << 20
)

// allocated returns the bytes allocated while f ran. Tests in this package
// do not run in parallel, so the counter is f's alone, give or take the
// runtime's own small allocations.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestHostileInput(t *testing.T) {
	const mb = 1 << 20
	bigKey := "Owner 3 " + strings.Repeat("7", 100_000)
	for _, tc := range []struct {
		name  string
		src   []byte
		valid bool
		want  string // in an error message, when invalid
	}{
		{"random bytes", randomBytes(12*mb, 1), false, "unknown label"},
		{"invalid utf8 on every line", bytes.Repeat([]byte("Percent \xc3\x28\nOwner \xed\xa0\x80 \xf8\x88\x80\x80\x80\n"), 400_000), false, `Percent must be a whole number such as 40; "\xc3("`},
		{"nul bytes", make([]byte, 12*mb), false, `unknown label "\x00\x00`},
		{"nul bytes between lines", bytes.Repeat([]byte("Percent 10\n\x00\n"), 1_000_000), false, `unknown label "\x00"`},
		{"file of 50 MB", bytes.Repeat([]byte("Percent 10\nOwner 1 2\n"), 50*mb/21), false, "larger than the limit of 16 MiB"},
		{"just over the limit", append([]byte(lines("Percent 100", owner1)), make([]byte, MaxSize)...), false, "larger than the limit"},
		{"million empty lines", bytes.Repeat([]byte("\n"), 1_000_000), false, "empty line"},
		{"million user lines", append([]byte(lines("Percent 100", owner1)), bytes.Repeat([]byte("User 1 2\n"), 1_000_000)...), false, "more than 1000 User keys"},
		{"million vessels", bytes.Repeat([]byte("Percent 10\nOwner 1 2\n"), 500_000), false, "add up to 5000000"},
		{"million percent lines without owners", bytes.Repeat([]byte("Percent 10\n"), 1_000_000), false, "has no Owner"},
		{"million crlf lines", bytes.Repeat([]byte("Percent 100\r\n"), 1_000_000), false, "has no Owner"},
		{"key of 100,000 digits", []byte(lines("Percent 100", bigKey)), false, "n has 100000 digits, more than the 4300"},
		{"percent of 100,000 digits", []byte(lines("Percent "+strings.Repeat("1", 100_000), owner1)), false, `(100000 bytes in all) is out of range`},
		{"one line of 16 MB", bytes.Repeat([]byte("a"), MaxSize), false, `(16777216 bytes in all)`},
		{"one field of blanks", bytes.Repeat([]byte(" \t"), MaxSize/2), false, "empty line"},
		{"largest valid file", largestValid(), true, ""},
		{"ten full vessels then a bad sum", bytes.Replace(keyFile(10, MaxUsers-1, 3), []byte("Percent 10"), []byte("Percent 20"), 1), false, "add up to 110"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			var vs []Vessel
			var err error
			alloc := allocated(func() { vs, err = Parse(tc.src) })
			perByte := float64(alloc) / float64(len(tc.src))
			t.Logf("%d bytes in, %d allocated: %.4f per input byte", len(tc.src), alloc, perByte)
			if tc.valid {
				if err != nil {
					t.Fatalf("want valid, got %.300v", err)
				}
				if perByte > maxAllocPerByteValid {
					t.Errorf("allocated %.3f bytes per input byte, bound %.2f", perByte, maxAllocPerByteValid)
				}
				return
			}
			es, ok := err.(Errors)
			if !ok || len(es) == 0 {
				t.Fatalf("want errors, got %d vessels and %v", len(vs), err)
			}
			if len(es) > MaxErrors {
				t.Errorf("%d errors, more than MaxErrors", len(es))
			}
			if !strings.Contains(es.Error(), tc.want) {
				t.Errorf("no error says %q:\n%.2000s", tc.want, es.Error())
			}
			n := lineCount(tc.src)
			for _, e := range es {
				if e.Line < 1 || e.Line > max(1, n) {
					t.Errorf("error on line %d of a %d-line file: %s", e.Line, n, e.Message)
				}
				if len(e.Message) > 300 {
					t.Errorf("message of %d bytes: %.100s...", len(e.Message), e.Message)
				}
			}
			if alloc > maxAllocInvalid {
				t.Errorf("allocated %d bytes for an invalid file, bound %d", alloc, maxAllocInvalid)
			}
			if len(tc.src) >= 8<<20 && perByte > maxAllocPerByteInvalid {
				t.Errorf("allocated %.4f bytes per input byte, bound %.2f", perByte, maxAllocPerByteInvalid)
			}
		})
	}
}

// largestValid is a valid file just under MaxSize: ten vessels whose keys
// are as long as a key may be, as many as fit.
func largestValid() []byte {
	var b bytes.Buffer
	key := "65537 " + digits(MaxKeyDigits)
	perVessel := (MaxSize - 100) / 10 / (len(key) + 6)
	for range 10 {
		b.WriteString("Percent 10\nOwner " + key + "\n")
		for range perVessel - 1 {
			b.WriteString("User " + key + "\n")
		}
	}
	return b.Bytes()
}

// lineCount is how many lines a file has: a final newline ends the last line
// rather than starting another.
func lineCount(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return n
}
