package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/seattletestbed/seattle-installer/bridge"
	"github.com/seattletestbed/seattle-installer/native/assets"
	"github.com/seattletestbed/seattle-installer/native/install"
	"github.com/seattletestbed/seattle-installer/native/resource"
	"github.com/seattletestbed/seattle-installer/native/state"
	"github.com/seattletestbed/seattle-installer/wasm/plan"
	"github.com/seattletestbed/seattle-installer/wasm/vesselinfo"
)

// finishTimeout bounds how long a finished session waits for the page to
// receive the result before the server stops anyway.
const finishTimeout = 10 * time.Second

// session runs the donor's page on srv: hello; measure the machine right
// away and send the review (what the donor would give, worked out in the
// page for any percentage by the install's own plan code); on Install, run
// the install with the reviewed measurements, events going out and answers
// coming in; send the result. In the window (mode "webview") the page then
// acts on it: open the log or the folder, uninstall, try again (back to the
// review), or close, which calls onClose. The browser's session ends with
// the result. Either way the server stops once the page has the last
// message.
func session(ctx context.Context, srv *bridge.Server, opts install.Options, mode string, onClose func()) (*install.Result, error) {
	if err := srv.Send(hello(opts, mode)); err != nil {
		return nil, err
	}
	defer func() {
		fctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
		srv.Finish(fctx)
		cancel()
	}()
	s := &sess{srv: srv, opts: opts, mode: mode, onClose: onClose}
	if err := s.measure(ctx); err != nil {
		srv.Send(resultMessage(nil, err))
		return nil, err
	}
	for {
		res, err := s.drive(ctx)
		srv.Send(resultMessage(res, err))
		if mode != "webview" || errors.Is(err, ErrCancelled) && s.closed {
			return res, err
		}
		if !s.after(ctx, res) {
			return res, err
		}
		s.sendReview()
	}
}

// sess is one page's session.
type sess struct {
	srv     *bridge.Server
	opts    install.Options
	mode    string
	onClose func()

	// measureFn measures the machine; nil is install.Measure (tests give
	// one that finishes at a moment of their choosing).
	measureFn func(context.Context, install.Options, install.Observer) (*install.BenchmarkReport, error)

	bench   *install.BenchmarkReport // nil when the measurements could not be taken
	problem string                   // why, in words
	closed  bool                     // the donor pressed Close
	start   *bridge.Start            // a start that came while measuring
}

// measure measures the machine (or reads --measured) with progress going
// to the page, then sends the review. A Cancel, or the window's Close,
// while measuring ends the session with nothing written.
func (s *sess) measure(ctx context.Context) error {
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		b   *install.BenchmarkReport
		err error
	}
	done := make(chan outcome, 1)
	measure := s.measureFn
	if measure == nil {
		measure = install.Measure
	}
	go func() {
		b, err := measure(mctx, s.opts, newObserver(s.srv))
		done <- outcome{b, err}
	}()
	for {
		select {
		case o := <-done:
			switch {
			// mctx, not ctx: a Cancel or Close taken while measuring ends the
			// session even when the measurement finished all the same (a
			// --measured file is read at once): the Cancel was used up here,
			// and nothing else would end the wait for Install.
			case mctx.Err() != nil || errors.Is(o.err, context.Canceled):
				return ErrCancelled
			case o.err != nil:
				s.problem = "The measurements given to the installer cannot be used, so nothing can be installed. Ask whoever gave you this installer for help."
			}
			s.bench = o.b
			s.sendReview()
			return nil
		case <-ctx.Done():
			cancel()
		case m := <-s.srv.Incoming():
			switch m := m.(type) {
			case *bridge.Start:
				s.start = m // taken once the review is out
			case *bridge.Cancel:
				cancel()
			case *bridge.Act:
				if m.Action == bridge.ActionClose {
					s.close()
					cancel()
				} else {
					s.srv.Reply("the installer is still measuring this computer")
				}
			case *bridge.Answer:
				s.srv.Reply(fmt.Sprintf("there is no open question %q: the install has not started", m.ID))
			}
		}
	}
}

// sendReview sends what the page needs to show the plan.
func (s *sess) sendReview() {
	m := &bridge.Review{Percent: s.opts.Percent, Resources: []bridge.Resource{}, Failures: []bridge.Failure{},
		Maximums: map[string]float64{}, Offcut: map[string]float64{}, Problem: s.problem}
	if s.bench != nil {
		b := benchmarkMessage(s.bench)
		m.Resources, m.Failures = b.Resources, b.Failures
		for n, v := range s.bench.Maximums {
			m.Maximums[string(n)] = v
		}
	}
	if src, origin, err := assets.Load(s.opts.AssetsDir, assets.OffcutFile); err == nil {
		if off, err := plan.ParseOffcut(src, origin); err == nil {
			for n, v := range off {
				m.Offcut[string(n)] = v
			}
		}
	}
	m.Installed, _ = state.Installed(s.opts.Dir)
	s.srv.Send(m)
}

func (s *sess) close() {
	s.closed = true
	if s.onClose != nil {
		s.onClose()
	}
}

// drive waits for Install and runs the install.
func (s *sess) drive(ctx context.Context) (*install.Result, error) {
	start, err := s.waitForStart(ctx)
	if err != nil {
		return nil, err
	}
	opts := s.opts
	opts.Percent = start.Percent
	if s.bench != nil {
		// The plan the donor reviewed: the same measurements.
		rep := s.bench.Report
		opts.Report = &rep
		if start.Defaults {
			// The failed measurements' defaults, accepted in the review.
			opts.Yes, opts.YesBy = true, "the donor, who saw the failed measurements in the review"
		}
	}
	s.srv.Send(&bridge.Started{Percent: opts.Percent})

	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	ask := &prompter{srv: s.srv}
	type outcome struct {
		res *install.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := install.Run(ictx, opts, newObserver(s.srv), ask)
		done <- outcome{res, err}
	}()
	for {
		select {
		case o := <-done:
			return o.res, o.err
		case m := <-s.srv.Incoming():
			switch m := m.(type) {
			case *bridge.Start:
				s.srv.Reply("the install has already started")
			case *bridge.Cancel:
				cancel() // the install stops cleanly and reports how
			case *bridge.Answer:
				if err := ask.take(m); err != nil {
					s.srv.Reply(err.Error())
				}
			case *bridge.Act:
				s.srv.Reply("the install is running: cancel it first")
			}
		}
	}
}

// waitForStart waits for the page to press Install and returns the share
// it chose; the page's cancel or Close, or ctx ending, is ErrCancelled.
// Meanwhile the page may uninstall what is already there, or open the
// folder.
func (s *sess) waitForStart(ctx context.Context) (*bridge.Start, error) {
	if m := s.start; m != nil {
		s.start = nil
		return m, nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ErrCancelled
		case m := <-s.srv.Incoming():
			switch m := m.(type) {
			case *bridge.Start:
				return m, nil
			case *bridge.Cancel:
				return nil, ErrCancelled
			case *bridge.Answer:
				s.srv.Reply(fmt.Sprintf("there is no open question %q: the install has not started", m.ID))
			case *bridge.Act:
				switch m.Action {
				case bridge.ActionClose:
					s.close()
					return nil, ErrCancelled
				case bridge.ActionUninstall:
					s.uninstall()
					s.sendReview()
				case bridge.ActionOpenFolder:
					s.open(s.opts.Dir)
				default:
					s.srv.Reply("there is nothing to " + m.Action + " yet")
				}
			}
		}
	}
}

// after handles the page's actions on a result until the donor closes
// (false) or tries again (true).
func (s *sess) after(ctx context.Context, res *install.Result) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case m := <-s.srv.Incoming():
			act, ok := m.(*bridge.Act)
			if !ok {
				s.srv.Reply("the install has ended: close, try again, or uninstall")
				continue
			}
			switch act.Action {
			case bridge.ActionClose:
				s.close()
				return false
			case bridge.ActionTryAgain:
				return true
			case bridge.ActionOpenLog:
				if res != nil && res.LogPath != "" {
					s.open(res.LogPath)
				}
			case bridge.ActionOpenFolder:
				s.open(s.opts.Dir)
			case bridge.ActionUninstall:
				s.uninstall()
			}
		}
	}
}

// open shows a file or folder in the desktop's own program.
func (s *sess) open(path string) {
	if err := openPath(path); err != nil {
		s.srv.Send(&bridge.Log{Line: "Could not open " + path + ": " + err.Error()})
	}
}

// uninstall removes what the install wrote, as `uninstall` does, and tells
// the page how it went.
func (s *sess) uninstall() {
	s.srv.Send(&bridge.Progress{Phase: "uninstall", State: "started", Detail: "removing the install"})
	u, err := uninstall(s.opts.Dir)
	m := uninstallMessage(s.opts.Dir, u, err)
	for _, p := range m.Kept {
		s.srv.Send(&bridge.Log{Line: "kept " + p})
	}
	s.srv.Send(m)
}

// hello is the first message: what will be installed, where. The
// vesselinfo text goes along so the page can validate it on its own.
func hello(opts install.Options, mode string) *bridge.Hello {
	h := &bridge.Hello{
		Version:        bridge.Version,
		Dir:            opts.Dir,
		Percent:        opts.Percent,
		VesselinfoPath: opts.Vesselinfo,
		Vessels:        []bridge.Vessel{},
		Platform:       runtime.GOOS + "/" + runtime.GOARCH,
		Mode:           mode,
	}
	src, err := readBounded(opts.Vesselinfo, vesselinfo.MaxSize)
	if err != nil {
		h.Problem = err.Error()
		return h
	}
	h.Vesselinfo = string(src)
	vs, err := vesselinfo.Parse(src)
	if err != nil {
		h.Problem = "vesselinfo is not valid: " + err.Error()
		return h
	}
	for i, v := range vs {
		bv := bridge.Vessel{Name: fmt.Sprintf("v%d", i+1), Percent: v.Percent, Owner: v.Owner.String(), Users: []string{}}
		for _, u := range v.Users {
			bv.Users = append(bv.Users, u.String())
		}
		h.Vessels = append(h.Vessels, bv)
	}
	return h
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func resultMessage(res *install.Result, err error) *bridge.Result {
	m := &bridge.Result{Files: []string{}, Vessels: []string{}, Details: []string{}, Node: []string{}}
	if res != nil {
		m.OK, m.Dir, m.Log = res.OK, res.Dir, res.LogPath
		// The node in the window's words: Summary is the terminal's, with
		// its commands and system messages.
		m.Node = append(m.Node, nodeWords(res.Node)...)
		m.Files = append(m.Files, res.Files...)
		if res.OK && res.Plan != nil {
			for _, v := range res.Plan.Vessels {
				m.Vessels = append(m.Vessels, v.Name)
			}
		}
	}
	w := WindowWords(res, err)
	if err != nil {
		m.OK = false
	}
	m.Outcome, m.Tone, m.Title, m.Message, m.Next, m.Actions = string(w.Outcome), string(w.Tone), w.Title, w.Text, w.Next, w.Actions
	m.Details = append(m.Details, w.Details...)
	return m
}

// observer turns the install's events into bridge messages.
type observer struct {
	srv      *bridge.Server
	lastProg time.Time
}

func newObserver(srv *bridge.Server) *observer { return &observer{srv: srv} }

// progressEvery thins progress events: a page cannot show more than a few
// dozen a second, and every message is kept for pages that resume.
const progressEvery = 25 * time.Millisecond

func (o *observer) Event(e install.Event) {
	switch e.Kind {
	case install.Progress:
		now := time.Now()
		if e.Fraction < 1 && now.Sub(o.lastProg) < progressEvery {
			return
		}
		o.lastProg = now
		o.progress(e)
	case install.PhaseStarted, install.PhaseDone, install.PhaseFailed, install.Finished:
		o.progress(e)
	case install.Measured:
		if e.Benchmark != nil {
			o.srv.Send(benchmarkMessage(e.Benchmark))
		}
	case install.Planned:
		if e.Plan != nil {
			o.srv.Send(planMessage(e.Plan))
		}
	case install.LogLine:
		o.srv.Send(&bridge.Log{Line: e.Detail})
	}
}

func (o *observer) progress(e install.Event) {
	detail := e.Detail
	if e.Kind == install.PhaseFailed {
		detail = "" // the result says what happened, in the window's words
	}
	o.srv.Send(&bridge.Progress{Phase: string(e.Phase), State: string(e.Kind), Fraction: e.Fraction, Overall: e.Overall, Detail: detail})
}

// pageUnit is the unit the page's script knows a resource's values by.
func pageUnit(k resource.Kind) string {
	if k == resource.Count {
		return ""
	}
	return string(k)
}

func benchmarkMessage(b *install.BenchmarkReport) *bridge.Benchmark {
	m := &bridge.Benchmark{Resources: []bridge.Resource{}, Failures: []bridge.Failure{}}
	failed := map[resource.Name]bool{}
	for _, f := range b.Failures {
		failed[f.Resource] = true
		// The probe's error is for the log; the window says it in words.
		m.Failures = append(m.Failures, bridge.Failure{Resource: string(f.Resource), Error: "could not be measured; the safe default is used"})
	}
	for _, n := range resource.All {
		info := resource.Describe(n)
		measured := b.Report.Resources[n] != nil && !failed[n]
		m.Resources = append(m.Resources, bridge.Resource{
			Name: string(n), Label: info.Label, Unit: pageUnit(info.Kind), Explain: info.Explain,
			Value: b.Maximums[n], Text: resource.Format(n, b.Maximums[n]),
			Measured: measured, Failed: failed[n],
		})
	}
	return m
}

func planMessage(p *install.Plan) *bridge.Plan {
	m := &bridge.Plan{Percent: p.Percent, Headline: resource.Headline(p.Donated), Resources: []bridge.PlanResource{}, Vessels: []bridge.PlanVessel{}}
	for _, n := range resource.All {
		info := resource.Describe(n)
		m.Resources = append(m.Resources, bridge.PlanResource{
			Name: string(n), Label: info.Label, Unit: pageUnit(info.Kind), Explain: info.Explain,
			Maximum: p.Maximums[n], Donated: p.Donated[n],
			MaximumText: resource.Format(n, p.Maximums[n]), DonatedText: resource.Format(n, p.Donated[n]),
		})
	}
	for _, v := range p.Vessels {
		pv := bridge.PlanVessel{Name: v.Name, Percent: v.Percent, Values: []float64{}, Texts: []string{}, Ports: []int{}}
		for _, n := range resource.All {
			pv.Values = append(pv.Values, v.Resources[n])
			pv.Texts = append(pv.Texts, resource.Format(n, v.Resources[n]))
		}
		pv.Ports = append(pv.Ports, v.Ports...)
		m.Vessels = append(m.Vessels, pv)
	}
	return m
}

// prompter asks over the bridge and waits for the page's answer, which
// drive hands over through take.
type prompter struct {
	srv *bridge.Server

	mu     sync.Mutex
	open   *install.Prompt
	answer chan string
}

func (p *prompter) Ask(ctx context.Context, q install.Prompt) (string, error) {
	ch := make(chan string, 1)
	p.mu.Lock()
	p.open, p.answer = &q, ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.open, p.answer = nil, nil
		p.mu.Unlock()
	}()
	p.srv.Send(&bridge.Prompt{ID: q.ID, Question: questionWords(q), Choices: append([]string{}, q.Choices...), Default: q.Default})
	select {
	case c := <-ch:
		p.srv.Send(&bridge.Answered{ID: q.ID, Choice: c})
		return c, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// take hands an answer to the open question, or says why it cannot.
func (p *prompter) take(a *bridge.Answer) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.open == nil || p.open.ID != a.ID:
		return fmt.Errorf("there is no open question %q", a.ID)
	case !slices.Contains(p.open.Choices, a.Choice):
		return fmt.Errorf("%q is not an answer to question %s: choose one of %q", a.Choice, a.ID, p.open.Choices)
	}
	p.answer <- a.Choice
	p.open = nil // a second answer to the same question is refused
	return nil
}
