package resource

// The words for resources, in one place: the terminal's plan table, the
// donor's window (through the WebAssembly module and the bridge), the
// install summary and the builder page all name, explain and format a
// resource from here, so a donor reads the same thing everywhere.
//
// This file uses strconv only (no fmt): the WebAssembly module carries it.

import (
	"math"
	"strconv"
	"strings"
)

// Kind is how a resource's value is counted, which decides how it is
// formatted.
type Kind string

const (
	Cores Kind = "cores"   // a share of processors; cpu only
	Bytes Kind = "bytes"   // an amount of memory or disk
	Rate  Kind = "bytes/s" // bytes per second
	Count Kind = "count"   // a number of things (Info.Unit names them)
)

// Info is how people see a resource.
type Info struct {
	Name  Name   `json:"name"`
	Label string `json:"label"` // short, for tables: "Loopback send"
	Kind  Kind   `json:"kind"`
	// Unit is the unit of its values in words: "cores", "bytes", "bytes per
	// second", or what a count counts ("threads", "files").
	Unit string `json:"unit"`
	// Explain is one line a donor understands: what the vessels may use.
	Explain string `json:"explain"`
}

var vocabulary = map[Name]Info{
	CPU:         {CPU, "Processor", Cores, "cores", "How much of the processor's time programs in the vessels may use."},
	Memory:      {Memory, "Memory", Bytes, "bytes", "How much memory (RAM) programs in the vessels may use at once."},
	DiskUsed:    {DiskUsed, "Disk space", Bytes, "bytes", "How much disk space the vessels' files may take."},
	Events:      {Events, "Threads", Count, "threads", "How many tasks programs in a vessel may run at the same time."},
	FilesOpened: {FilesOpened, "Open files", Count, "files", "How many files programs in a vessel may have open at once."},
	InSockets:   {InSockets, "Incoming connections", Count, "connections", "How many network connections from other computers a vessel may accept at once."},
	OutSockets:  {OutSockets, "Outgoing connections", Count, "connections", "How many network connections to other computers a vessel may open at once."},
	Random:      {Random, "Random numbers", Rate, "bytes per second", "How fast programs in a vessel may draw random numbers from this computer."},
	FileWrite:   {FileWrite, "File writing", Rate, "bytes per second", "How fast programs in a vessel may write files to the disk."},
	FileRead:    {FileRead, "File reading", Rate, "bytes per second", "How fast programs in a vessel may read files from the disk."},
	NetRecv:     {NetRecv, "Network download", Rate, "bytes per second", "How fast a vessel may receive data from the network."},
	NetSend:     {NetSend, "Network upload", Rate, "bytes per second", "How fast a vessel may send data to the network."},
	LogRate:     {LogRate, "Log writing", Rate, "bytes per second", "How fast programs in a vessel may write to their log."},
	LoopSend:    {LoopSend, "Loopback send", Rate, "bytes per second", "How fast programs in a vessel may talk to each other on this computer."},
	LoopRecv:    {LoopRecv, "Loopback receive", Rate, "bytes per second", "How fast programs in a vessel may hear from each other on this computer."},
}

// Describe returns how people see n; an unknown name gets itself as its
// label and counts as a plain number.
func Describe(n Name) Info {
	if i, ok := vocabulary[n]; ok {
		return i
	}
	return Info{Name: n, Label: string(n), Kind: Count, Unit: "", Explain: ""}
}

// Label is Describe(n).Label.
func (n Name) Label() string { return Describe(n).Label }

// Vocabulary lists Describe of every resource, in the order of All.
func Vocabulary() []Info {
	out := make([]Info, len(All))
	for i, n := range All {
		out[i] = Describe(n)
	}
	return out
}

// Format shows a value of n for people, short enough for a table cell:
// "0.157 cores", "2.5 GB", "1.2 MB/s", "250 files". Bytes use SI prefixes
// (1 GB is 10^9 bytes), as the node manager counts them.
func Format(n Name, v float64) string {
	info := Describe(n)
	switch info.Kind {
	case Cores:
		s := decimals(v, 3)
		if s == "1" {
			return "1 core"
		}
		return s + " cores"
	case Bytes:
		return siBytes(v)
	case Rate:
		return siBytes(v) + "/s"
	}
	s := grouped(v)
	if info.Unit == "" {
		return s
	}
	if s == "1" {
		return s + " " + strings.TrimSuffix(info.Unit, "s")
	}
	return s + " " + info.Unit
}

// Phrase says a donated amount of n in words, for sentences such as "You
// give 0.2 of a processor core, 2.5 GB of memory and 7.8 GB of disk space".
func Phrase(n Name, v float64) string {
	switch n {
	case CPU:
		s := decimals(v, 3)
		switch {
		case v < 1:
			return s + " of a processor core"
		case s == "1":
			return "1 processor core"
		}
		return s + " processor cores"
	case Memory:
		return siBytes(v) + " of memory"
	case DiskUsed:
		return siBytes(v) + " of disk space"
	}
	if Describe(n).Kind == Count {
		return Format(n, v)
	}
	return Format(n, v) + " of " + strings.ToLower(Describe(n).Label)
}

// Headline is the sentence part naming the three resources a donor thinks
// of: processor, memory and disk space.
func Headline(vs Values) string {
	return Phrase(CPU, vs[CPU]) + ", " + Phrase(Memory, vs[Memory]) + " and " + Phrase(DiskUsed, vs[DiskUsed])
}

// decimals prints v with at most places decimals, trailing zeros dropped;
// a value that is positive but rounds to 0 keeps enough digits to show it.
func decimals(v float64, places int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if v > 0 && v < math.Pow(10, -float64(places)) {
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	p := math.Pow(10, float64(places))
	return strconv.FormatFloat(math.Round(v*p)/p, 'f', -1, 64)
}

// siBytes prints a number of bytes with an SI prefix: three significant
// figures at most ("318 MB", "2.5 GB", "51.2 kB", "980 bytes").
func siBytes(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64) + " bytes"
	}
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for math.Abs(v) >= 999.5 && i < len(units)-1 {
		v /= 1000
		i++
	}
	var s string
	switch {
	case i == 0 || math.Abs(v) >= 99.95:
		s = strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	default:
		s = strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	}
	if i == 0 && s == "1" {
		return "1 byte"
	}
	return s + " " + units[i]
}

// grouped prints a whole number with thousands separators: 1,000,000.
func grouped(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e18 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
