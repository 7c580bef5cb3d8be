// Package seattlekey makes and reads Seattle's RSA keys in Seattle's own
// formats: a public key is "e n" and a private key "d p q", decimal
// integers separated by one space, stored as NAME.publickey and
// NAME.privatekey; inside Python literals (vesseldict, nodeman.cfg) they are
// {'e': E, 'n': N} and {'d': D, 'p': P, 'q': Q}.
//
// It is pure Go, so the browser (WebAssembly) and the host generate and
// check keys with the same code.
package seattlekey

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// MinBits is the smallest key size Generate accepts.
const MinBits = 1024

// DefaultBits is the size of keys made when nobody says otherwise (the
// original used 1024, too small today).
const DefaultBits = 2048

// maxDigits bounds each number read from text, as the vesselinfo validator
// does (Python 3.11's limit on an integer literal).
const maxDigits = 4300

// Public is a public key: exponent E and modulus N.
type Public struct{ E, N *big.Int }

// Private is the private part: exponent D and the primes P and Q, N = P×Q.
type Private struct{ D, P, Q *big.Int }

// Pair is a key pair.
type Pair struct {
	Public  Public
	Private Private
}

// Generate makes a key pair of the given size from random (crypto/rand's
// Reader in production).
func Generate(random io.Reader, bits int) (*Pair, error) {
	if bits < MinBits {
		return nil, fmt.Errorf("a key of %d bits is too small: at least %d", bits, MinBits)
	}
	if bits > 16384 {
		return nil, fmt.Errorf("a key of %d bits is too large: at most 16384", bits)
	}
	k, err := rsa.GenerateKey(random, bits)
	if err != nil {
		return nil, fmt.Errorf("generate an RSA key: %w", err)
	}
	if len(k.Primes) != 2 {
		return nil, errors.New("generate an RSA key: not two primes")
	}
	return &Pair{
		Public:  Public{E: big.NewInt(int64(k.E)), N: new(big.Int).Set(k.N)},
		Private: Private{D: new(big.Int).Set(k.D), P: new(big.Int).Set(k.Primes[0]), Q: new(big.Int).Set(k.Primes[1])},
	}, nil
}

// String is the Seattle text form "e n".
func (k Public) String() string { return k.E.String() + " " + k.N.String() }

// String is the Seattle text form "d p q".
func (k Private) String() string { return k.D.String() + " " + k.P.String() + " " + k.Q.String() }

// PyDict is the Python literal {'e': E, 'n': N}.
func (k Public) PyDict() string { return "{'e': " + k.E.String() + ", 'n': " + k.N.String() + "}" }

// PyDict is the Python literal {'d': D, 'p': P, 'q': Q}.
func (k Private) PyDict() string {
	return "{'d': " + k.D.String() + ", 'p': " + k.P.String() + ", 'q': " + k.Q.String() + "}"
}

// ParsePublic reads "e n" (surrounding blanks and one final newline are
// allowed) and checks 0 < e < n.
func ParsePublic(s string) (Public, error) {
	nums, err := parseNumbers(s, []string{"e", "n"})
	if err != nil {
		return Public{}, fmt.Errorf("public key: %w", err)
	}
	k := Public{E: nums[0], N: nums[1]}
	if k.E.Cmp(k.N) >= 0 {
		return Public{}, errors.New("public key: e must be smaller than n")
	}
	return k, nil
}

// ParsePrivate reads "d p q" and checks that the numbers are positive.
func ParsePrivate(s string) (Private, error) {
	nums, err := parseNumbers(s, []string{"d", "p", "q"})
	if err != nil {
		return Private{}, fmt.Errorf("private key: %w", err)
	}
	return Private{D: nums[0], P: nums[1], Q: nums[2]}, nil
}

// Matches reports whether priv is the private half of pub: n = p×q and
// e×d ≡ 1 (mod λ(n)).
func Matches(pub Public, priv Private) bool {
	if pub.N == nil || priv.P == nil || priv.Q == nil || priv.D == nil {
		return false
	}
	if new(big.Int).Mul(priv.P, priv.Q).Cmp(pub.N) != 0 {
		return false
	}
	one := big.NewInt(1)
	p1 := new(big.Int).Sub(priv.P, one)
	q1 := new(big.Int).Sub(priv.Q, one)
	g := new(big.Int).GCD(nil, nil, p1, q1)
	lambda := new(big.Int).Div(new(big.Int).Mul(p1, q1), g)
	ed := new(big.Int).Mul(pub.E, priv.D)
	return ed.Mod(ed, lambda).Cmp(one) == 0
}

func parseNumbers(s string, names []string) ([]*big.Int, error) {
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	s = strings.TrimSpace(s)
	fields := strings.Fields(s)
	if len(fields) != len(names) {
		return nil, fmt.Errorf("expected %d decimal numbers (%s) separated by a space, found %d", len(names), strings.Join(names, " "), len(fields))
	}
	out := make([]*big.Int, len(names))
	for i, f := range fields {
		if len(f) > maxDigits {
			return nil, fmt.Errorf("%s has %d digits, more than the %d a key may have", names[i], len(f), maxDigits)
		}
		for _, c := range f {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("%s is %q, not a decimal number", names[i], clip(f))
			}
		}
		if len(f) > 1 && f[0] == '0' {
			return nil, fmt.Errorf("%s has a leading zero", names[i])
		}
		n, _ := new(big.Int).SetString(f, 10)
		if n.Sign() <= 0 {
			return nil, fmt.Errorf("%s must be more than 0", names[i])
		}
		out[i] = n
	}
	return out, nil
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
