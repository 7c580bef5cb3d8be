package ui

import "github.com/seattletestbed/seattle-installer/native/resource"

// shown is how the page names a resource and the unit of its value.
type shown struct{ label, unit string }

// display gives every resource a label a donor understands. Units are
// "cores", "bytes", "bytes/s" or "" (a count); the page formats them.
var display = map[resource.Name]shown{
	resource.CPU:         {"Processor", "cores"},
	resource.Memory:      {"Memory", "bytes"},
	resource.DiskUsed:    {"Disk space", "bytes"},
	resource.Events:      {"Threads", ""},
	resource.FilesOpened: {"Open files", ""},
	resource.InSockets:   {"Incoming sockets", ""},
	resource.OutSockets:  {"Outgoing sockets", ""},
	resource.Random:      {"Random numbers", "bytes/s"},
	resource.FileWrite:   {"File writes", "bytes/s"},
	resource.FileRead:    {"File reads", "bytes/s"},
	resource.NetRecv:     {"Network receive", "bytes/s"},
	resource.NetSend:     {"Network send", "bytes/s"},
	resource.LogRate:     {"Log writes", "bytes/s"},
	resource.LoopSend:    {"Loopback send", "bytes/s"},
	resource.LoopRecv:    {"Loopback receive", "bytes/s"},
}

func shownAs(n resource.Name) shown {
	if s, ok := display[n]; ok {
		return s
	}
	return shown{string(n), ""}
}
