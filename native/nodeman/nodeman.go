// Package nodeman owns the node manager's configuration, nodeman.cfg: a
// Python literal that ships with the node, which the installer completes
// with the donor's network restrictions, the node's RSA keys and the mark
// that the node is installed (SPEC.md, "The node manager's configuration").
// It reads and writes the Python literal itself, keeping every key it does
// not set exactly as it found it.
package nodeman

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"unicode"

	"github.com/seattletestbed/seattle-installer/wasm/seattlekey"
)

// File is the configuration's name, beside vesselinfo and in the install
// directory.
const File = "nodeman.cfg"

// defaults is the configuration as Seattle ships it, used when no
// nodeman.cfg ships beside the installer.
const defaults = `{'seattle_installed': False, 'crontab_updated_for_2009_installer': False, 'ports': [1224, 2888, 9625, 10348, 39303, 48126, 52862, 57344, 64310], 'pollfrequency': 1.0, 'service_vessel': 'v2'}`

// Defaults returns the configuration as Seattle ships it.
func Defaults() *Dict {
	v, err := Parse([]byte(defaults))
	if err != nil {
		panic(err) // a constant
	}
	return v.(*Dict)
}

// Read parses a nodeman.cfg; it must be a dict.
func Read(src []byte) (*Dict, error) {
	v, err := Parse(src)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*Dict)
	if !ok {
		return nil, errors.New("it is not a Python dict")
	}
	return d, nil
}

// Installed reports whether the configuration says the node is installed
// ('seattle_installed': True), as the original installer checks first.
func Installed(d *Dict) bool {
	v, ok := d.Get("seattle_installed")
	b, isBool := v.(bool)
	return ok && isBool && b
}

// Pref is one network preference: an IP address, or an interface name.
type Pref struct {
	IP    bool   // Value is an IP address (--nm-ip, --repy-ip), else an interface (--nm-iface, --repy-iface)
	Value string // the address or interface name as given
}

// Settings are what the installer sets in nodeman.cfg.
type Settings struct {
	NM             []Pref   // --nm-ip, --nm-iface, in the order given
	Repy           []Pref   // --repy-ip, --repy-iface, in the order given
	RepyNoOtherIPs bool     // --repy-nootherips
	RepyPrepend    []string // --repy-prepend, split at blanks
	RepyPrependDir string   // --repy-prepend-dir; "" for None
	// Keys is the node's key pair; nil leaves the keys out (--onlynetwork).
	Keys *seattlekey.Pair
	// Installed sets 'seattle_installed': True (not for --onlynetwork).
	Installed bool
}

// Check reports settings the node manager could not use: addresses that
// are not IP addresses, empty or unprintable interface or file names.
func (s Settings) Check() error {
	var errs []error
	check := func(flagIP, flagIface string, prefs []Pref) {
		for _, p := range prefs {
			switch {
			case p.IP && net.ParseIP(p.Value) == nil:
				errs = append(errs, fmt.Errorf("%s %q is not an IP address", flagIP, p.Value))
			case !p.IP && !printableName(p.Value):
				errs = append(errs, fmt.Errorf("%s %q is not an interface name", flagIface, p.Value))
			}
		}
	}
	check("--nm-ip", "--nm-iface", s.NM)
	check("--repy-ip", "--repy-iface", s.Repy)
	for _, f := range s.RepyPrepend {
		if !printableName(f) || strings.ContainsAny(f, " \t") {
			errs = append(errs, fmt.Errorf("--repy-prepend: %q is not a file name", f))
		}
	}
	if s.RepyPrependDir != "" && !printableName(s.RepyPrependDir) {
		errs = append(errs, fmt.Errorf("--repy-prepend-dir %q is not a directory name", s.RepyPrependDir))
	}
	return errors.Join(errs...)
}

func printableName(s string) bool {
	if s == "" || len(s) > 4096 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Apply sets the installer's keys in base (which it changes) and returns
// it: 'networkrestrictions', 'repy_prepend', 'repy_prepend_dir', the keys
// and, last, 'seattle_installed'. Every other key stays as it was.
func Apply(base *Dict, s Settings) *Dict {
	prefs := func(ps []Pref) List {
		l := List{}
		for _, p := range ps {
			l = append(l, Tuple{p.IP, p.Value})
		}
		return l
	}
	nr := &Dict{}
	nr.Set("nm_restricted", len(s.NM) > 0)
	nr.Set("nm_user_preference", prefs(s.NM))
	nr.Set("repy_restricted", len(s.Repy) > 0 || s.RepyNoOtherIPs)
	nr.Set("repy_user_preference", prefs(s.Repy))
	nr.Set("repy_nootherips", s.RepyNoOtherIPs)
	base.Set("networkrestrictions", nr)
	prepend := List{}
	for _, f := range s.RepyPrepend {
		prepend = append(prepend, f)
	}
	base.Set("repy_prepend", prepend)
	if s.RepyPrependDir == "" {
		base.Set("repy_prepend_dir", nil)
	} else {
		base.Set("repy_prepend_dir", s.RepyPrependDir)
	}
	if s.Keys != nil {
		pub := &Dict{}
		pub.Set("e", new(big.Int).Set(s.Keys.Public.E))
		pub.Set("n", new(big.Int).Set(s.Keys.Public.N))
		priv := &Dict{}
		priv.Set("d", new(big.Int).Set(s.Keys.Private.D))
		priv.Set("p", new(big.Int).Set(s.Keys.Private.P))
		priv.Set("q", new(big.Int).Set(s.Keys.Private.Q))
		base.Set("publickey", pub)
		base.Set("privatekey", priv)
	}
	if s.Installed {
		// Last, as the original sets it after everything else.
		base.Delete("seattle_installed")
		base.Set("seattle_installed", true)
	}
	return base
}

// Marshal is the text of nodeman.cfg: the dict as a Python literal and a
// newline.
func Marshal(d *Dict) ([]byte, error) {
	s, err := Format(d)
	if err != nil {
		return nil, err
	}
	return []byte(s + "\n"), nil
}

// Keys returns the key pair stored in d, for checks after an install.
func Keys(d *Dict) (*seattlekey.Pair, error) {
	num := func(v Value, name string) (*big.Int, error) {
		sub, ok := v.(*Dict)
		if !ok {
			return nil, fmt.Errorf("it is not a dict")
		}
		x, ok := sub.vals0(name).(*big.Int)
		if !ok {
			return nil, fmt.Errorf("its %q is not an integer", name)
		}
		return x, nil
	}
	pubV, ok1 := d.Get("publickey")
	privV, ok2 := d.Get("privatekey")
	if !ok1 || !ok2 {
		return nil, errors.New("no publickey and privatekey")
	}
	var k seattlekey.Pair
	var err error
	for _, f := range []struct {
		v    Value
		name string
		dst  **big.Int
	}{{pubV, "e", &k.Public.E}, {pubV, "n", &k.Public.N}, {privV, "d", &k.Private.D}, {privV, "p", &k.Private.P}, {privV, "q", &k.Private.Q}} {
		if *f.dst, err = num(f.v, f.name); err != nil {
			return nil, fmt.Errorf("a key: %w", err)
		}
	}
	return &k, nil
}

func (d *Dict) vals0(k string) Value {
	v, _ := d.Get(k)
	return v
}
