package seattlekey

import (
	"crypto/rand"
	"math/big"
	"strings"
	"testing"
)

func TestGenerateMakesAValidPairOfTheRequestedSize(t *testing.T) {
	p, err := Generate(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Public.N.BitLen(); got != 1024 {
		t.Errorf("modulus has %d bits, want 1024", got)
	}
	if !Matches(p.Public, p.Private) {
		t.Error("the private key does not match the public key")
	}
	pub, err := ParsePublic(p.Public.String())
	if err != nil || pub.N.Cmp(p.Public.N) != 0 || pub.E.Cmp(p.Public.E) != 0 {
		t.Errorf("public key does not read back: %v", err)
	}
	priv, err := ParsePrivate(p.Private.String() + "\n")
	if err != nil || !Matches(pub, priv) {
		t.Errorf("private key does not read back: %v", err)
	}
	other, _ := Generate(rand.Reader, 1024)
	if Matches(p.Public, other.Private) {
		t.Error("another key's private half matches")
	}
}

func TestGenerateRefusesSizes(t *testing.T) {
	for _, bits := range []int{0, 512, 1023, 20000} {
		if _, err := Generate(rand.Reader, bits); err == nil {
			t.Errorf("%d bits: no error", bits)
		}
	}
}

func TestPyDict(t *testing.T) {
	k := Public{E: big.NewInt(3), N: big.NewInt(21)}
	if got := k.PyDict(); got != "{'e': 3, 'n': 21}" {
		t.Errorf("PyDict = %s", got)
	}
	pr := Private{D: big.NewInt(5), P: big.NewInt(3), Q: big.NewInt(7)}
	if got := pr.PyDict(); got != "{'d': 5, 'p': 3, 'q': 7}" {
		t.Errorf("PyDict = %s", got)
	}
}

func TestParsePublicRejects(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "expected 2",
		"5":                              "expected 2",
		"5 3":                            "smaller than n",
		"5 33 7":                         "expected 2",
		"x 33":                           "not a decimal",
		"-5 33":                          "not a decimal",
		"05 33":                          "leading zero",
		"0 33":                           "more than 0",
		"5 " + strings.Repeat("9", 5000): "digits",
		"owner.publickey":                "expected 2",
	} {
		_, err := ParsePublic(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePublic(%.30q) = %v, want an error with %q", in, err, want)
		}
	}
	if _, err := ParsePublic(" 5 33\r\n"); err != nil {
		t.Errorf("blanks and a final newline: %v", err)
	}
}
