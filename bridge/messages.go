// Package bridge is the protocol between the installer (the host) and the
// donor's page, and the loopback WebSocket server that carries it.
//
// Every message is one JSON object with a "type" field and lower-case field
// names. Host messages carry an increasing "seq"; the server keeps them all,
// so a page that reconnects with ?since=SEQ gets exactly what it missed, and
// a page that reloads (since=0) rebuilds itself from the start. Messages to
// one connection only (error replies, its role, a request for control) are
// not kept; their seq is the last kept one, so they never move a page's
// resume point.
//
// One page at a time controls the install; every other page connected with
// the secret only watches. Control moves only with consent: a watching page
// asks ("takeover"), the page in control answers ("handover"). See Server.
package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Version is the protocol version hello announces; a page that speaks
// another one must not drive the install.
const Version = 1

// Subprotocol is the WebSocket subprotocol a page asks for and the server
// answers with. The page also offers its credentials as subprotocols, which
// are never echoed: "secret."+SECRET, or "launch."+TOKEN (a one-time launch
// token, see Server.LaunchURL), and "control."+KEY to get back the control
// it had before a reload.
const Subprotocol = "seattle.bridge.v1"

// MaxMessage is the largest message the server reads; a larger one closes
// the connection (close code 1009).
const MaxMessage = 64 << 10

// CloseFinished is the close code that says the installer has ended and is
// stopping its server; the page must not reconnect.
const CloseFinished = 4002

// Roles a page has (Role.Role).
const (
	RoleControl = "control" // it may start, answer and cancel
	RoleView    = "view"    // it shows the install; what it sends is refused
)

// Message is a host-to-page message. Send stamps its type and seq.
type Message interface {
	header() *Header
	kind() string
}

// Header is the part every host message shares.
type Header struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
}

func (h *Header) header() *Header { return h }

// Vessel is one vessel of vesselinfo as the page lists it.
type Vessel struct {
	Name    string   `json:"name"` // v1, v2, ...
	Percent int      `json:"percent"`
	Owner   string   `json:"owner"` // "e n"
	Users   []string `json:"users"`
}

// Hello opens every session: who the host is and what it will install.
// The page validates Vesselinfo again with the WebAssembly validator.
type Hello struct {
	Header
	Version        int      `json:"version"`
	Dir            string   `json:"dir"`
	Percent        float64  `json:"percent"` // the default the page offers
	Vesselinfo     string   `json:"vesselinfo"`
	VesselinfoPath string   `json:"vesselinfoPath"`
	Vessels        []Vessel `json:"vessels"`
	Platform       string   `json:"platform"` // GOOS/GOARCH
	Mode           string   `json:"mode"`     // "webview" or "browser"
	// Problem says why the install cannot go ahead as it is (vesselinfo
	// unreadable or invalid); "" when it can.
	Problem string `json:"problem"`
}

// Started says the host accepted a start and the install runs.
type Started struct {
	Header
	Percent float64 `json:"percent"`
}

// Progress is where the install is.
type Progress struct {
	Header
	Phase    string  `json:"phase"`
	State    string  `json:"state"`    // started, progress, done, failed
	Fraction float64 `json:"fraction"` // of the phase, 0..1
	Overall  float64 `json:"overall"`  // of the whole install, 0..1
	Detail   string  `json:"detail"`
}

// Resource is one measured resource with how to show it, in the words of
// package resource.
type Resource struct {
	Name     string  `json:"name"`
	Label    string  `json:"label"`
	Unit     string  `json:"unit"` // "cores", "bytes", "bytes/s", "" (a count)
	Explain  string  `json:"explain"`
	Value    float64 `json:"value"`
	Text     string  `json:"text"`     // Value formatted: "2.5 GB"
	Measured bool    `json:"measured"` // false: the default was used
	Failed   bool    `json:"failed"`   // the measurement failed; Value is the default
}

// Failure is one resource whose measurement failed.
type Failure struct {
	Resource string `json:"resource"`
	Error    string `json:"error"`
}

// Benchmark is what the machine offers: the maximums after the checks.
type Benchmark struct {
	Header
	Resources []Resource `json:"resources"`
	Failures  []Failure  `json:"failures"`
}

// PlanVessel is what one vessel gets, Values in the order of Plan.Resources.
type PlanVessel struct {
	Name    string    `json:"name"`
	Percent int       `json:"percent"`
	Values  []float64 `json:"values"`
	Texts   []string  `json:"texts"` // Values formatted
	Ports   []int     `json:"ports"`
}

// PlanResource names a resource of the plan and what is donated of it.
type PlanResource struct {
	Name        string  `json:"name"`
	Label       string  `json:"label"`
	Unit        string  `json:"unit"`
	Explain     string  `json:"explain"`
	Maximum     float64 `json:"maximum"`
	Donated     float64 `json:"donated"`
	MaximumText string  `json:"maximumText"`
	DonatedText string  `json:"donatedText"`
}

// Plan is how the donation splits among the vessels.
type Plan struct {
	Header
	Percent   float64        `json:"percent"`
	Headline  string         `json:"headline"` // "0.2 of a processor core, 2.5 GB of memory and 7.8 GB of disk space"
	Resources []PlanResource `json:"resources"`
	Vessels   []PlanVessel   `json:"vessels"`
}

// Prompt asks the donor; the page answers with an Answer of the same ID.
type Prompt struct {
	Header
	ID       string   `json:"id"`
	Question string   `json:"question"`
	Choices  []string `json:"choices"`
	Default  string   `json:"default"`
}

// Answered says the host took the answer to prompt ID, so a page that
// reloads does not ask again.
type Answered struct {
	Header
	ID     string `json:"id"`
	Choice string `json:"choice"`
}

// Log is one line of the install log.
type Log struct {
	Header
	Line string `json:"line"`
}

// Result is the outcome; always the last message of a session. Its words
// are the window's own (no flags, commands or error text): Title, Message
// (what happened and what was left on disk), Details, Next (one next step)
// and the Actions to offer as buttons.
type Result struct {
	Header
	OK      bool     `json:"ok"`
	Outcome string   `json:"outcome"` // install.Outcome
	Tone    string   `json:"tone"`    // "ok", "neutral" or "failed"
	Title   string   `json:"title"`
	Details []string `json:"details"`
	Next    string   `json:"next"`
	Actions []string `json:"actions"` // close, try-again, open-log, open-folder, uninstall
	Message string   `json:"message"`
	Dir     string   `json:"dir"`   // where the state is
	Log     string   `json:"log"`   // the install log
	Files   []string `json:"files"` // what the install wrote
	Vessels []string `json:"vessels"`
	Node    []string `json:"node"` // what became of the node: running, start at boot, how to stop and uninstall
}

// Error answers a page message the host could not take. The connection stays.
type Error struct {
	Header
	Message string `json:"message"`
}

// Role tells a page whether it controls the install or only watches, and
// why that changed (Note, for the donor; "" on connecting). Key is given to
// the page in control only: offered back as "control."+Key when the page
// reconnects or reloads, it gets control back without asking.
type Role struct {
	Header
	Role string `json:"role"`
	Key  string `json:"key,omitempty"`
	Note string `json:"note"`
}

// Session gives the secret to a page that connected with a launch token,
// which is spent: the page reconnects with the secret.
type Session struct {
	Header
	Secret string `json:"secret"`
}

// TakeoverAsked tells the page in control that another page asks for
// control; it answers with a Handover of the same ID.
type TakeoverAsked struct {
	Header
	ID uint64 `json:"id"`
}

// TakeoverEnded tells the page in control that the request ID is no longer
// open (the page that asked has gone, or got control another way).
type TakeoverEnded struct {
	Header
	ID uint64 `json:"id"`
}

func (*Hello) kind() string         { return "hello" }
func (*Started) kind() string       { return "started" }
func (*Progress) kind() string      { return "progress" }
func (*Benchmark) kind() string     { return "benchmark" }
func (*Plan) kind() string          { return "plan" }
func (*Prompt) kind() string        { return "prompt" }
func (*Answered) kind() string      { return "answered" }
func (*Log) kind() string           { return "log" }
func (*Result) kind() string        { return "result" }
func (*Error) kind() string         { return "error" }
func (*Role) kind() string          { return "role" }
func (*Session) kind() string       { return "session" }
func (*TakeoverAsked) kind() string { return "takeover-asked" }
func (*TakeoverEnded) kind() string { return "takeover-ended" }

// PageMessage is a page-to-host message: *Start, *Answer or *Cancel, which
// reach the host (Server.Incoming) from the page in control only, or
// *Takeover and *Handover, which the server handles itself.
type PageMessage interface{ pageMessage() }

// Start asks the host to install, donating Percent of the machine.
type Start struct {
	Percent float64 `json:"percent"`
	// Defaults says the donor saw, in the review, which measurements
	// failed and the safe defaults used instead, and chose to install with
	// them: the install does not ask again.
	Defaults bool `json:"defaults"`
}

// Answer answers the prompt ID with one of its choices.
type Answer struct {
	ID     string `json:"id"`
	Choice string `json:"choice"`
}

// Cancel asks the host to stop the install (or not to start it).
type Cancel struct{}

// Takeover is a watching page asking for control.
type Takeover struct{}

// Handover is the page in control answering the request ID: Allow gives
// control to the page that asked, false keeps it.
type Handover struct {
	ID    uint64 `json:"id"`
	Allow *bool  `json:"allow"`
}

func (*Start) pageMessage()    {}
func (*Answer) pageMessage()   {}
func (*Cancel) pageMessage()   {}
func (*Takeover) pageMessage() {}
func (*Handover) pageMessage() {}

// maxField bounds the strings a page may send: ids and choices are short.
const maxField = 256

// ParsePage decodes one page message. The error is meant for the page: it
// says what was wrong in words a developer of the page understands.
func ParsePage(b []byte) (PageMessage, error) {
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if head.Type == nil {
		return nil, errors.New(`the message has no "type"`)
	}
	var m PageMessage
	switch *head.Type {
	case "start":
		m = &Start{Percent: math.NaN()}
	case "answer":
		m = &Answer{}
	case "cancel":
		m = &Cancel{}
	case "takeover":
		m = &Takeover{}
	case "handover":
		m = &Handover{}
	case "act":
		m = &Act{}
	default:
		return nil, fmt.Errorf("unknown message type %q: the page may send start, answer, cancel, act, takeover or handover", truncate(*head.Type, 40))
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s: %v", *head.Type, err)
	}
	switch m := m.(type) {
	case *Start:
		if err := CheckPercent(m.Percent); err != nil {
			return nil, fmt.Errorf("start: %v", err)
		}
	case *Answer:
		if m.ID == "" || len(m.ID) > maxField {
			return nil, fmt.Errorf("answer: the id must be 1 to %d characters", maxField)
		}
		if m.Choice == "" || len(m.Choice) > maxField {
			return nil, fmt.Errorf("answer: the choice must be 1 to %d characters", maxField)
		}
	case *Act:
		if !knownAction(m.Action) {
			return nil, fmt.Errorf("act: %q is not an action: the page may ask for %s", truncate(m.Action, 40), strings.Join(Actions, ", "))
		}
	case *Handover:
		if m.ID == 0 {
			return nil, errors.New(`handover: "id" must be the id of the request, a whole number from 1`)
		}
		if m.Allow == nil {
			return nil, errors.New(`handover: "allow" must be true or false`)
		}
	}
	return m, nil
}

// CheckPercent applies the CLI's rule to the share to donate: a number in
// (0, 100]. NaN means the field was missing.
func CheckPercent(p float64) error {
	switch {
	case math.IsNaN(p):
		return errors.New(`"percent" must be a number`)
	case p <= 0 || p > 100:
		return fmt.Errorf("percent %v is not in (0, 100]: give a share of the machine above 0 and at most 100", p)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
