package vesselinfo

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden from the current messages")

// Keys that are valid on their own, for building files.
const (
	owner1 = "Owner 123456789123 123456789123456789123456789"
	user1  = "User 23456789123 23456789123456789123456789"
	owner2 = "Owner 3456789123 3456789123456789123456789"
)

// lines joins lines with "\n" and ends the file with one.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// repeat returns n copies of line, each ending in "\n".
func repeat(line string, n int) string { return strings.Repeat(line+"\n", n) }

// digits returns a number of n digits without a leading zero.
func digits(n int) string { return "1" + strings.Repeat("7", n-1) }

// parseCase is one behaviour of Parse. Its messages live in
// testdata/golden/NAME.golden; errLines pins the lines of the errors here too,
// so that a careless -update cannot hide a wrong line number.
type parseCase struct {
	name     string
	src      string
	valid    bool
	vessels  int   // when valid: how many
	errLines []int // when invalid: the line of each error, in order
}

var parseCases = []parseCase{
	// The file as a whole.
	{name: "spec_example", src: lines("Percent 40", owner1, user1, "Percent 60", owner2), valid: true, vessels: 2},
	{name: "one_vessel_of_100", src: lines("Percent 100", owner1), valid: true, vessels: 1},
	{name: "ten_vessels_of_10", src: repeat("Percent 10\n"+owner1, 10), valid: true, vessels: 10},
	{name: "eleven_vessels", src: repeat("Percent 10\n"+owner1, 11), errLines: []int{22}},
	{name: "empty_file", src: "", errLines: []int{1}},
	{name: "bom_only", src: "\ufeff", errLines: []int{1}},
	{name: "bom_is_ignored", src: "\ufeff" + lines("Percent 100", owner1), valid: true, vessels: 1},
	{name: "bom_not_at_start_is_a_label", src: lines("Percent 100", "\ufeff"+owner1), errLines: []int{1, 2}},
	{name: "crlf_line_ends", src: "Percent 100\r\n" + owner1 + "\r\n" + user1 + "\r\n", valid: true, vessels: 1},
	{name: "crlf_without_final_newline", src: "Percent 100\r\n" + owner1, valid: true, vessels: 1},
	{name: "mixed_line_ends", src: "Percent 100\n" + owner1 + "\r\n" + user1, valid: true, vessels: 1},
	{name: "lone_cr_is_not_a_line_end", src: "Percent 100\r" + owner1 + "\n", errLines: []int{1, 1}},
	{name: "cr_at_end_of_file_is_not_a_line_end", src: "Percent 100\n" + owner1 + "\r", errLines: []int{2}},
	{name: "no_final_newline", src: "Percent 100\n" + owner1, valid: true, vessels: 1},
	{name: "double_newline_at_end", src: lines("Percent 100", owner1) + "\n", errLines: []int{3}},
	{name: "empty_line_between", src: lines("Percent 50", owner1, "", "Percent 50", owner2), errLines: []int{3}},
	{name: "blank_only_line", src: lines("Percent 100", " \t ", owner1), errLines: []int{2}},
	{name: "only_newline", src: "\n", errLines: []int{1, 1}},
	{name: "only_newlines", src: "\n\n\n", errLines: []int{1, 2, 3, 3}},
	{name: "tabs_between_fields", src: lines("Percent\t100", "Owner\t123\t\t456", "User \t 7 \t8"), valid: true, vessels: 1},
	{name: "leading_and_trailing_blanks", src: lines("  Percent 100  ", "\tOwner 1 2\t", " User 3 4 "), valid: true, vessels: 1},
	{name: "crlf_with_trailing_blanks", src: "Percent 100 \r\nOwner 1 2\t\r\n", valid: true, vessels: 1},

	// Labels.
	{name: "label_lowercase", src: lines("Percent 50", owner1, user1, "Percent 50", "percent 50", owner2), errLines: []int{5}},
	{name: "label_uppercase", src: lines("Percent 100", "OWNER 1 2"), errLines: []int{1, 2}},
	{name: "label_with_colon", src: lines("Percent: 100", owner1), errLines: []int{1, 2, 2}},
	{name: "comment_line", src: lines("# my vessels", "Percent 100", owner1), errLines: []int{1}},
	{name: "comment_without_space", src: lines("Percent 100", owner1, "#Owner 1 2"), errLines: []int{3}},
	{name: "comment_after_value", src: lines("Percent 100 # all of it", owner1), errLines: []int{1}},
	{name: "unknown_label", src: lines("Percent 100", owner1, "Group 1 2"), errLines: []int{3}},
	{name: "label_alone_unknown", src: lines("Percent 100", owner1, "x"), errLines: []int{3}},

	// Percent.
	{name: "percent_40_and_60", src: lines("Percent 40", owner1, "Percent 60", owner2), valid: true, vessels: 2},
	{name: "percent_with_leading_zero", src: lines("Percent 040", owner1, "Percent 060", owner2), valid: true, vessels: 2},
	{name: "percent_many_leading_zeros", src: lines("Percent 0000000000000000000100", owner1), valid: true, vessels: 1},
	{name: "percent_without_value", src: lines("Percent", owner1), errLines: []int{1}},
	{name: "percent_two_values", src: lines("Percent 50 50", owner1), errLines: []int{1}},
	{name: "percent_not_digits", src: lines("Percent forty", owner1), errLines: []int{1}},
	{name: "percent_negative", src: lines("Percent -100", owner1), errLines: []int{1}},
	{name: "percent_with_sign", src: lines("Percent 100%", owner1), errLines: []int{1}},
	{name: "percent_decimal", src: lines("Percent 100.0", owner1), errLines: []int{1}},
	{name: "percent_5", src: lines("Percent 5", owner1, "Percent 95", owner2), errLines: []int{1, 3}},
	{name: "percent_0", src: lines("Percent 0", owner1, "Percent 100", owner2), errLines: []int{1}},
	{name: "percent_110", src: lines("Percent 110", owner1), errLines: []int{1, 2}},
	{name: "percent_45", src: lines("Percent 45", owner1, "Percent 55", owner2), errLines: []int{1, 3}},
	{name: "percent_1000", src: lines("Percent 1000", owner1), errLines: []int{1}},
	{name: "percent_huge", src: lines("Percent 99999999999999999999999999999999999999999999999999", owner1), errLines: []int{1}},

	// Keys.
	{name: "key_file_name", src: lines("Percent 100", "Owner alice.publickey"), errLines: []int{2}},
	{name: "key_path", src: lines("Percent 100", "Owner keys/alice"), errLines: []int{2}},
	{name: "key_windows_path", src: lines("Percent 100", `Owner C:\keys\alice`), errLines: []int{2}},
	{name: "key_without_values", src: lines("Percent 100", "Owner"), errLines: []int{2}},
	{name: "key_one_number", src: lines("Percent 100", "Owner 123456789"), errLines: []int{2}},
	{name: "key_one_word", src: lines("Percent 100", "Owner alice"), errLines: []int{2}},
	{name: "key_three_values", src: lines("Percent 100", "Owner 1 2 3"), errLines: []int{2}},
	{name: "key_e_not_digits", src: lines("Percent 100", "Owner 0x10 123"), errLines: []int{2}},
	{name: "key_n_not_digits", src: lines("Percent 100", "Owner 3 12a"), errLines: []int{2}},
	{name: "key_negative", src: lines("Percent 100", "Owner -3 12"), errLines: []int{2}},
	{name: "key_e_leading_zero", src: lines("Percent 100", "Owner 03 12"), errLines: []int{2}},
	{name: "key_n_leading_zero", src: lines("Percent 100", "Owner 3 012"), errLines: []int{2}},
	{name: "key_e_zero", src: lines("Percent 100", "Owner 0 12"), errLines: []int{2}},
	{name: "key_e_equals_n", src: lines("Percent 100", "Owner 12 12"), errLines: []int{2}},
	{name: "key_e_greater_by_length", src: lines("Percent 100", "Owner 100 99"), errLines: []int{2}},
	{name: "key_e_greater_by_digits", src: lines("Percent 100", "Owner 13 12"), errLines: []int{2}},
	{name: "key_e_smaller_by_digits", src: lines("Percent 100", "Owner 11 12"), valid: true, vessels: 1},
	{name: "key_smallest", src: lines("Percent 100", "Owner 1 2"), valid: true, vessels: 1},
	{name: "key_of_max_digits", src: lines("Percent 100", "Owner 65537 "+digits(MaxKeyDigits)), valid: true, vessels: 1},
	{name: "key_too_many_digits", src: lines("Percent 100", "Owner 65537 "+digits(MaxKeyDigits+1)), errLines: []int{2}},
	{name: "user_key_checked_too", src: lines("Percent 100", owner1, "User 5 3"), errLines: []int{3}},

	// Owners and users.
	{name: "owner_before_percent", src: lines(owner1, "Percent 100", owner2), errLines: []int{1}},
	{name: "user_before_percent", src: lines(user1, "Percent 100", owner1), errLines: []int{1}},
	{name: "bad_key_before_percent", src: lines("Owner x", "Percent 100", owner1), errLines: []int{1, 1}},
	{name: "two_owners", src: lines("Percent 100", owner1, owner2), errLines: []int{3}},
	{name: "no_owner", src: lines("Percent 50", user1, "Percent 50", owner2), errLines: []int{1}},
	{name: "no_owner_last_vessel", src: lines("Percent 50", owner1, "Percent 50"), errLines: []int{3}},
	{name: "owner_after_users", src: lines("Percent 100", user1, owner1), valid: true, vessels: 1},
	{name: "max_users", src: lines("Percent 100", owner1) + repeat(user1, MaxUsers), valid: true, vessels: 1},
	{name: "too_many_users", src: lines("Percent 100", owner1) + repeat(user1, MaxUsers+5), errLines: []int{MaxUsers + 3}},

	// Sums and vessels.
	{name: "sum_90", src: lines("Percent 30", owner1, user1, "Percent 30", owner2, user1, "Percent 30", owner1, user1), errLines: []int{9}},
	{name: "sum_110", src: lines("Percent 60", owner1, "Percent 50", owner2), errLines: []int{4}},
	{name: "sum_ends_at_last_line_without_newline", src: "Percent 50\n" + owner1, errLines: []int{2}},
	{name: "no_vessels", src: lines(owner1), errLines: []int{1, 1}},
	{name: "no_sum_when_a_percent_is_unreadable", src: lines("Percent x", owner1, "Percent 30", owner2), errLines: []int{1}},

	// Many errors.
	{name: "error_order_by_line", src: lines("Percent 50", user1, "bad", "Percent 60", "Owner 1"), errLines: []int{1, 3, 5, 5}},
	{name: "every_error_reported", src: lines("percent 100", "Owner 1", "", "User 2 1"), errLines: []int{1, 2, 2, 3, 4, 4, 4}},
	{name: "too_many_errors", src: repeat("nonsense", 500), errLines: seq(1, MaxErrors)},
	{name: "exactly_max_errors_minus_one", src: repeat("nonsense", MaxErrors-2), errLines: append(seq(1, MaxErrors-2), MaxErrors-2)},
	{name: "too_large", src: lines("Percent 100", owner1) + strings.Repeat("#", MaxSize), errLines: []int{1}},
	{name: "largest_allowed", src: lines("Percent 100", owner1) + repeat(user1, (MaxSize-len(lines("Percent 100", owner1)))/(len(user1)+1)), errLines: []int{MaxUsers + 3}},

	// Bytes that are not text.
	{name: "not_utf8", src: lines("Percent 100", "\xff\xfeOwner 1 2"), errLines: []int{1, 2}},
	{name: "nul_bytes", src: lines("Percent 100", "Owner 1\x002"), errLines: []int{2}},
	{name: "nul_in_label", src: lines("Per\x00cent 100", owner1), errLines: []int{1, 2, 2}},
	{name: "utf16_little_endian", src: "\xff\xfeP\x00e\x00r\x00c\x00e\x00n\x00t\x00 \x001\x000\x000\x00\n\x00", errLines: []int{1}},
	{name: "utf16_big_endian", src: "\xfe\xff\x00P\x00e\x00r\x00c\x00e\x00n\x00t\x00 \x001\x000\x000\x00\n", errLines: []int{1}},
	{name: "unicode_digits", src: lines("Percent \u0661\u0660\u0660", owner1), errLines: []int{1}},
	{name: "long_junk_is_shortened", src: lines("Percent 100", owner1, strings.Repeat("\x01", 5000)), errLines: []int{3}},
}

func seq(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// render writes a result the way a reviewer reads it in a golden file.
func render(vs []Vessel, err error) string {
	var b strings.Builder
	if err != nil {
		for _, e := range err.(Errors) {
			fmt.Fprintln(&b, e.Error())
		}
		return b.String()
	}
	for _, v := range vs {
		fmt.Fprintf(&b, "vessel line %d percent %d\n  owner %s\n", v.Line, v.Percent, short(v.Owner))
		for _, u := range v.Users {
			fmt.Fprintf(&b, "  user %s\n", short(u))
		}
	}
	return b.String()
}

// short keeps golden files of huge keys readable.
func short(k Key) string {
	cut := func(s string) string {
		if len(s) > 40 {
			return fmt.Sprintf("%s...(%d digits)", s[:20], len(s))
		}
		return s
	}
	return cut(k.E) + " " + cut(k.N)
}

func TestParse(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range parseCases {
		if seen[tc.name] {
			t.Fatalf("two cases named %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			vs, err := Parse([]byte(tc.src))
			if tc.valid {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				if len(vs) != tc.vessels {
					t.Errorf("%d vessels, want %d", len(vs), tc.vessels)
				}
			} else {
				if err == nil {
					t.Fatalf("want errors on lines %v, got valid: %+v", tc.errLines, vs)
				}
				var got []int
				for _, e := range err.(Errors) {
					got = append(got, e.Line)
				}
				if !slices.Equal(got, tc.errLines) {
					t.Errorf("errors on lines %v, want %v:\n%v", got, tc.errLines, err)
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.name+".golden"), render(vs, err))
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update and review the diff)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestIssueMessages pins the four messages the issue quotes, word for word.
func TestIssueMessages(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty line", lines("Percent 100", owner1, "", user1), `vesselinfo:3: empty line (vesselinfo may not contain empty lines)`},
		{"lowercase label", lines("Percent 50", owner1, user1, "Percent 50", "percent 50", owner2),
			`vesselinfo:5: unknown label "percent": labels are Percent, Owner and User, and case matters`},
		{"file name", lines("Percent 100", "Owner alice.publickey"),
			`vesselinfo:2: Owner needs a public key "e n" (two numbers); "alice.publickey" looks like a file name: paste the key itself`},
		{"sum", lines("Percent 30", owner1, user1, "Percent 30", owner2, user1, "Percent 30", owner1, user1),
			`vesselinfo:9: the percentages add up to 90; they must add up to 100`},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			es, ok := err.(Errors)
			if !ok || len(es) != 1 {
				t.Fatalf("want exactly one error, got %v", err)
			}
			if got := es[0].Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParseKeepsKeysExactly checks that keys come back digit for digit, in
// file order, with the vessel each belongs to.
func TestParseKeepsKeysExactly(t *testing.T) {
	big := digits(4000)
	src := lines("Percent 40", owner1, "User 3 "+big, user1, "Percent 60", "User 65537 "+big, owner2)
	vs, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Vessel{
		{Percent: 40, Line: 1, Owner: Key{"123456789123", "123456789123456789123456789"},
			Users: []Key{{"3", big}, {"23456789123", "23456789123456789123456789"}}},
		{Percent: 60, Line: 5, Owner: Key{"3456789123", "3456789123456789123456789"},
			Users: []Key{{"65537", big}}},
	}
	if fmt.Sprint(vs) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", vs, want)
	}
	if got := vs[0].Users[0].String(); got != "3 "+big {
		t.Errorf("Key.String() = %.20s..., want \"3 %.17s...\"", got, big)
	}
}

// TestParseDoesNotAliasInput: the caller may reuse its buffer after Parse.
func TestParseDoesNotAliasInput(t *testing.T) {
	src := []byte(lines("Percent 100", "Owner 3 77"))
	vs, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	copy(src, bytes.Repeat([]byte("9"), len(src)))
	if vs[0].Owner != (Key{"3", "77"}) {
		t.Errorf("owner changed with the input buffer: %v", vs[0].Owner)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"valid", lines("Percent 40", "Owner 3 5", "User 7 11", "User 13 17", "Percent 60", "Owner 19 23"),
			`{"valid":true,"vessels":[{"percent":40,"owner":"3 5","users":["7 11","13 17"]},{"percent":60,"owner":"19 23","users":[]}],"errors":[]}`},
		{"invalid", lines("Percent 100", `Owner "a\b"`),
			`{"valid":false,"vessels":[],"errors":[{"line":2,"message":"Owner needs a public key \"e n\" (two numbers); \"\\\"a\\\\b\\\"\" looks like a file name: paste the key itself"}]}`},
		{"control bytes escaped twice", lines("Percent 100", owner1, "\x01\t"),
			`{"valid":false,"vessels":[],"errors":[{"line":3,"message":"unknown label \"\\x01\": labels are Percent, Owner and User, and case matters"}]}`},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			if got := string(Validate([]byte(tc.src)).JSON()); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestAppendStringEscapesLikeJSONStringify covers every byte the escaper
// treats specially, against the text JSON.stringify produces (checked by hand
// in Node 20; the differential test checks it again end to end).
func TestAppendStringEscapesLikeJSONStringify(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"\x7f~ ", "\"\x7f~ \""},
		{"é", `"é"`},
	} {
		if got := string(appendString(nil, tc.in)); got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestDigits8 compares the eight-at-a-time digit check with the obvious one
// for every byte value in every position, among digits and among non-digits.
func TestDigits8(t *testing.T) {
	for _, fill := range []byte{'0', '5', '9', '/', ':', 0x00, 0xff, 0xba} {
		for pos := range 8 {
			for c := range 256 {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				want := true
				for _, x := range b {
					want = want && x >= '0' && x <= '9'
				}
				x := uint64(0)
				for i := 7; i >= 0; i-- {
					x = x<<8 | uint64(b[i])
				}
				if got := digits8(x); got != want {
					t.Fatalf("digits8(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
