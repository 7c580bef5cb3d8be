// Package resource names the resources a Seattle node donates and their
// fallback maximums. It is the vocabulary shared by the benchmark (which
// measures), the install (which divides) and the UI (which shows), so none
// of them needs to know the others.
//
// The browser's WebAssembly module carries this package, so it imports
// neither fmt nor encoding/json nor os (each would add to what a page
// downloads): the measurements file a benchmark writes is package
// benchmark's Report.
package resource

// Name is a resource as the node manager spells it in resource files.
type Name string

// The resources of SPEC.md, in the order resource files list them.
const (
	CPU         Name = "cpu"
	Memory      Name = "memory"
	DiskUsed    Name = "diskused"
	Events      Name = "events"
	FilesOpened Name = "filesopened"
	InSockets   Name = "insockets"
	OutSockets  Name = "outsockets"
	Random      Name = "random"
	FileWrite   Name = "filewrite"
	FileRead    Name = "fileread"
	NetRecv     Name = "netrecv"
	NetSend     Name = "netsend"
	LogRate     Name = "lograte"
	LoopSend    Name = "loopsend"
	LoopRecv    Name = "looprecv"
)

// All lists every resource in a stable order (the order of SPEC.md's table).
var All = []Name{
	CPU, Memory, DiskUsed, Events, FilesOpened, InSockets, OutSockets,
	Random, FileWrite, FileRead, NetRecv, NetSend, LogRate, LoopSend, LoopRecv,
}

// Whole reports whether the resource is a whole number; only cpu is a
// fraction (a share of processors).
func (n Name) Whole() bool { return n != CPU }

// Known reports whether n is one of All.
func (n Name) Known() bool {
	_, ok := defaults[n]
	return ok
}

var defaults = map[Name]float64{
	CPU:         1,
	Memory:      510000000,
	DiskUsed:    3700000000,
	Events:      500,
	FilesOpened: 250,
	InSockets:   250,
	OutSockets:  250,
	Random:      200000,
	FileWrite:   1200000,
	FileRead:    1200000,
	NetRecv:     500000,
	NetSend:     500000,
	LogRate:     1500000,
	LoopSend:    50000000,
	LoopRecv:    50000000,
}

// Default is the fallback maximum of a resource on a machine of the given
// GOARCH (and GOARM, "5" to "7", for arm): the value used when a resource is
// not measured or its measurement failed. 32-bit ARM machines were slow, so
// the original lowered random (÷ 4) and the file rates (÷ 20) there.
func Default(n Name, goarch string) float64 {
	v := defaults[n]
	if goarch == "arm" {
		switch n {
		case Random:
			v /= 4
		case FileWrite, FileRead:
			v /= 20
		}
	}
	return v
}

// Values holds one number per resource.
type Values map[Name]float64
