package benchmark

// The rate probes. The CPU-bound rates (random, loopback, log) are timed
// together in turns: one short round of each, then the next round of each,
// every round pinned to the next of the CPUs this process may use. A round
// is timed by its thread's own CPU time, so other programs competing for the
// processors do not change the figure. The disk rates run one after the
// other, timed by the clock. Every rate reports all the bytes its rounds
// moved over all the time they took, as fio does.
//
// Why in turns and on every CPU: measured on a 2-vCPU virtual machine, one
// vCPU at a time can need up to twice the CPU time for the same work, for
// stretches of 0.5 to 5 s (the host shares its physical core with something
// else), either vCPU, and the scheduler keeps a busy thread on one CPU.
// Timed one rate after the other, each rate's rounds fell within a third of
// a second on one CPU: they agreed with each other, and a separate run, on
// the other CPU or at another moment, got a figure up to a fifth lower or
// higher. Spread over every CPU and the whole second, the rounds of one run
// sample what separate runs see.
//
// Why all bytes over all the time, not the median round: a slow round
// counts in proportion to its time, as it would for a vessel placed on that
// CPU at that moment; the median skips it. A low percentile would be more
// cautious still, but it follows the slow stretches themselves and moved
// twice as much from run to run (see the README's measured figures).

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

const (
	cpuRounds  = 12      // measured rounds of each CPU-bound rate, after one warm-up round
	diskRounds = 9       // the disk is shared and noisier: more, shorter rounds
	blockSize  = 4096    // file rates: one page, the smallest O_DIRECT I/O
	msgSize    = 1024    // loopback rates: a small message
	randSize   = 64      // random: a small read, a few keys' worth
	diskFile   = 8 << 20 // the file the disk rates write over and read
	// maxBlocks is how often a CPU-bound round's thread may block (the Go
	// runtime parks it now and then) and still be timed by its CPU time.
	maxBlocks = 10
	// settle is the part of a CPU-bound round spent untimed after moving to
	// its CPU, so that the round measures the operation, not the caches it
	// left on the previous CPU.
	settle = 8
	// overrun is how far past its share of Options.Duration a rate step may
	// run when the processors are so busy that its rounds take longer than
	// planned (the thread waits for its turn on a CPU): it then stops early,
	// once each rate has minRounds measured rounds, and says so in a note.
	// This keeps the whole benchmark within 5 s on a loaded machine.
	overrun   = 1.25
	minRounds = 4
)

// rounder runs timed rounds of a disk operation, by the clock: waiting for
// the disk is part of what it measures.
type rounder struct {
	s    *session
	st   *step
	name resource.Name
	// op performs a batch of operations and returns the bytes it moved.
	op func() (int, error)
	// rounds measured, after one warm-up round.
	rounds int
}

// rate returns all bytes over all the time of the measured rounds, as fio
// reports, instead of the median round: the disk is shared, and a slow round
// is part of what it gives, so the median would skip it and come out above
// what fio measures. Floored to a whole number as the node manager's
// resource files want.
func (r rounder) rate(ctx context.Context) (float64, error) {
	n := r.rounds
	round := time.Duration(float64(r.s.duration) * r.st.share / (float64(n) + 0.5))
	var allMoved int64
	var allTime time.Duration
	began := time.Now()
	for i := 0; i <= n; i++ {
		if i > minRounds && time.Since(began) > time.Duration(overrun*float64(r.s.duration)*r.st.share) {
			r.s.note("%s: the disk was so slow to answer that %d rounds of %d were measured, to keep within the time", r.name, i-1, n)
			break
		}
		d := round
		if i == 0 {
			d = round / 2 // warm-up: the journal, the device's queue
		}
		var moved int64
		start := time.Now()
		var el time.Duration
		for el < d {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			k, err := r.op()
			if err != nil {
				return 0, err
			}
			moved += int64(k)
			el = time.Since(start)
		}
		if i > 0 {
			allMoved += moved
			allTime += el
		}
		r.s.report(r.name, float64(i+1)/float64(n+1), r.st)
	}
	return math.Floor(float64(allMoved) / allTime.Seconds()), nil
}

// probe is one CPU-bound rate, set up and ready to be timed.
type probe struct {
	name resource.Name
	// setup runs untimed before each round (e.g. to empty a log); may be nil.
	setup func() error
	// op performs a batch of operations and returns the bytes it moved.
	op func() (int, error)
	// close releases what the probe holds; may be nil.
	close  func()
	moved  int64         // bytes moved in the measured rounds
	took   time.Duration // the time they took
	rounds int           // measured rounds
	err    error         // the error that stopped it
}

// round is what a trace sees of one timed round.
type round struct {
	Name    resource.Name
	N       int           // 0 is the warm-up round
	CPU     int           // the CPU it ran on at its end, -1 if unknown
	Moved   int64         // bytes
	Took    time.Duration // the time it is timed by
	ByClock bool          // timed by the clock: the thread blocked too often
}

// rateErrors are the failures of some of a step's resources; the others
// were measured.
type rateErrors map[resource.Name]error

func (e rateErrors) Error() string {
	var parts []string
	for n, err := range e {
		parts = append(parts, fmt.Sprintf("%s: %v", n, err))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// cpuRates measures the CPU-bound rates of the step in turns (see the top of
// the file). A probe that cannot start or fails stops alone; the others go on.
func (s *session) cpuRates(ctx context.Context, st *step) ([]float64, error) {
	errs := rateErrors{}
	var probes []*probe
	for _, n := range st.names {
		if s.cfg.fail[n] != nil {
			errs[n] = s.cfg.fail[n] // the fault seam: not measured at all
			continue
		}
		p, err := s.newProbe(ctx, n)
		if err != nil {
			errs[n] = err
			continue
		}
		if p.close != nil {
			defer p.close()
		}
		probes = append(probes, p)
	}
	if err := s.inTurns(ctx, st, probes); err != nil {
		return nil, err
	}
	vals := make([]float64, len(st.names))
	for i, n := range st.names {
		for _, p := range probes {
			switch {
			case p.name != n:
			case p.err != nil:
				errs[n] = p.err
			default:
				vals[i] = math.Floor(float64(p.moved) / p.took.Seconds())
			}
		}
	}
	if len(errs) > 0 {
		return vals, errs
	}
	return vals, nil
}

func (s *session) newProbe(ctx context.Context, n resource.Name) (*probe, error) {
	switch n {
	case resource.Random:
		return s.randomProbe(), nil
	case resource.LoopSend:
		return s.loopSendProbe(ctx)
	case resource.LoopRecv:
		return s.loopRecvProbe(ctx)
	case resource.LogRate:
		return s.logProbe()
	}
	return nil, fmt.Errorf("internal error: no CPU-bound probe for %s", n)
}

// inTurns times rounds of the probes in turns, each round pinned to the next
// of the CPUs this process may use. It returns only the context's error; a
// probe's own error stops that probe.
func (s *session) inTurns(ctx context.Context, st *step, probes []*probe) error {
	if len(probes) == 0 {
		return nil
	}
	total := float64(s.duration) * st.share
	// Per probe: a warm-up round of half a round, then cpuRounds rounds.
	d := time.Duration(total / float64(len(probes)) / (cpuRounds + 0.5))
	done := make(chan error, 1)
	go func() {
		// The goroutine keeps its thread, which it pins to one CPU after
		// another, and gives it back with the CPUs it had. Should that fail,
		// the thread stays locked and ends with the goroutine rather than
		// run others with its CPUs narrowed. Only then does inTurns return:
		// a caller must never find a thread of its process still pinned.
		runtime.LockOSThread()
		allowed := allowedCPUs()
		cpus := allowed
		var result error
		defer func() {
			if restoreCPUs(allowed) == nil {
				runtime.UnlockOSThread()
			}
			done <- result
		}()
		_, _, useCPU := threadCPU()
		began := time.Now()
		for i := 0; i <= cpuRounds; i++ {
			if i > minRounds && time.Since(began) > time.Duration(overrun*total) {
				s.note("%s: the processors were so busy that %d rounds of %d were measured, to keep within the time", joinNames(probes), i-1, cpuRounds)
				break
			}
			for j := range probes {
				k := (i + j) % len(probes) // a different order each round
				p := probes[k]
				if p.err != nil {
					continue
				}
				if len(cpus) > 0 {
					if err := pinTo(cpus[(i+k)%len(cpus)]); err != nil {
						s.note("%s: could not move to each CPU in turn (%v); measured where the system put it", p.name, err)
						cpus = nil
					}
				}
				rd := d
				if i == 0 {
					rd = d / 2 // warm-up: first touches, caches, TCP windows
				}
				r, err := p.round(ctx, rd, useCPU)
				if err := ctx.Err(); err != nil {
					result = err
					return
				}
				if err != nil {
					p.err = err
					continue
				}
				r.N = i
				if i > 0 {
					p.moved += r.Moved
					p.took += r.Took
					p.rounds++
				}
				if s.cfg.trace != nil {
					s.cfg.trace(r)
				}
				s.report(p.name, float64(i*len(probes)+j+1)/float64((cpuRounds+1)*len(probes)), st)
			}
		}
	}()
	return <-done
}

func joinNames(probes []*probe) string {
	var names []string
	for _, p := range probes {
		names = append(names, string(p.name))
	}
	return strings.Join(names, ", ")
}

// round runs the probe's op for about d: the first eighth untimed, where it
// moved to a new CPU, then timed by the thread's CPU time (useCPU) unless the
// thread blocked more than maxBlocks times, when only the clock tells the
// time it took (a log on a network filesystem waits for the server).
func (p *probe) round(ctx context.Context, d time.Duration, useCPU bool) (round, error) {
	if p.setup != nil {
		if err := p.setup(); err != nil {
			return round{}, err
		}
	}
	run := func(d time.Duration) (int64, time.Duration, error) {
		var moved int64
		start := time.Now()
		var el time.Duration
		for el < d {
			if err := ctx.Err(); err != nil {
				return 0, 0, err
			}
			k, err := p.op()
			if err != nil {
				return 0, 0, err
			}
			moved += int64(k)
			el = time.Since(start)
		}
		return moved, el, nil
	}
	if _, _, err := run(d / settle); err != nil {
		return round{}, err
	}
	cpu0, blocks0, _ := threadCPU()
	moved, el, err := run(d - d/settle)
	if err != nil {
		return round{}, err
	}
	r := round{Name: p.name, CPU: currentCPU(), Moved: moved, Took: el, ByClock: true}
	if cpu1, blocks1, _ := threadCPU(); useCPU && blocks1-blocks0 <= maxBlocks {
		r.Took, r.ByClock = max(cpu1-cpu0, time.Microsecond), false
	}
	return r, nil
}

func (s *session) randomProbe() *probe {
	buf := make([]byte, randSize)
	return &probe{name: resource.Random, op: func() (int, error) {
		for range 64 {
			if _, err := io.ReadFull(rand.Reader, buf); err != nil {
				return 0, fmt.Errorf("read the secure random source: %w", err)
			}
		}
		return 64 * randSize, nil
	}}
}

// incompressible fills a block so that a compressing filesystem (btrfs,
// ZFS) still has to write every byte.
func incompressible(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// fileWrite writes over a file it first fills, in synced 4 KiB writes from
// start to end and around again. Writing over existing blocks is fio's
// pattern, and it measures the disk rather than the journal: a write that
// grows a file must also commit the new size, and on a shared machine that
// commit queues behind every other program's metadata.
func (s *session) fileWrite(ctx context.Context, st *step) ([]float64, error) {
	name, err := s.diskFile()
	if err != nil {
		return []float64{0}, err
	}
	// Reopened synced: each write returns only once its data is on the
	// disk (O_DSYNC where the OS has it), like fio --sync=dsync.
	f, err := openSynced(name)
	if err != nil {
		return []float64{0}, fmt.Errorf("open %s for synced writes: %w", name, err)
	}
	defer f.Close()
	block := incompressible(blockSize)
	var off int64
	v, err := rounder{s: s, st: st, name: resource.FileWrite, rounds: diskRounds, op: func() (int, error) {
		if off+blockSize > diskFile {
			off = 0
		}
		n, err := f.WriteAt(block, off)
		off += int64(n)
		if err != nil {
			return n, fmt.Errorf("write %s: %w", name, err)
		}
		return n, nil
	}}.rate(ctx)
	if err != nil {
		return []float64{0}, err
	}
	s.wrote = v
	return []float64{v}, nil
}

// diskFile returns the file the disk rates use, creating it the first time:
// diskFile bytes of data, synced, in the install directory.
func (s *session) diskFile() (string, error) {
	if s.written != "" {
		return s.written, nil
	}
	f, err := s.tempFile("disk")
	if err != nil {
		return "", err
	}
	defer f.Close()
	block := incompressible(256 << 10)
	for w := 0; w < diskFile; w += len(block) {
		if _, err := f.Write(block); err != nil {
			return "", fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	s.written = f.Name()
	return s.written, nil
}

// errNoCacheControl says the OS offers no way to read past its page cache.
var errNoCacheControl = errors.New("cannot read past the page cache on " + runtime.GOOS)

func (s *session) fileRead(ctx context.Context, st *step) ([]float64, error) {
	name, err := s.diskFile()
	if err != nil {
		return []float64{0}, err
	}
	f, direct, err := openUncached(name)
	if err == nil && s.cfg.noDirect {
		f.Close()
		direct = false
		f, err = os.Open(name)
	}
	if errors.Is(err, errNoCacheControl) {
		// Cached reads would measure memory and donate far more than the
		// disk gives; the original reused the write rate, so do we.
		if s.wrote > 0 {
			s.note("fileread: %v; the write rate is used, as the original did", err)
			return []float64{s.wrote}, nil
		}
		return []float64{0}, fmt.Errorf("%w, and the write rate failed", err)
	}
	if err != nil {
		return []float64{0}, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return []float64{0}, fmt.Errorf("stat %s: %w", name, err)
	}
	size := fi.Size() / blockSize * blockSize
	buf := alignedBlock()
	var off int64
	pass := func() error {
		off = 0
		if !direct {
			if err := dropCache(f); err != nil {
				return fmt.Errorf("drop %s from the page cache: %w", name, err)
			}
		}
		return nil
	}
	if err := pass(); err != nil {
		return []float64{0}, err
	}
	if !direct {
		s.note("fileread: the filesystem refused direct I/O; the file was dropped from the page cache before each pass instead")
	}
	v, err := rounder{s: s, st: st, name: resource.FileRead, rounds: diskRounds, op: func() (int, error) {
		if off >= size {
			if err := pass(); err != nil {
				return 0, err
			}
		}
		n, err := f.ReadAt(buf, off)
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return n, fmt.Errorf("read %s: %w", name, err)
		}
		return n, nil
	}}.rate(ctx)
	return []float64{v}, err
}

// alignedBlock returns a block-sized buffer aligned to the block size, as
// O_DIRECT requires.
func alignedBlock() []byte {
	b := make([]byte, 2*blockSize)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) % blockSize); r != 0 {
		off = blockSize - r
	}
	return b[off : off+blockSize : off+blockSize]
}

// loopPair connects two TCP sockets over 127.0.0.1. Both ends are used by
// the caller's goroutine, one after the other, so a probe keeps a single
// thread busy and its CPU time is the whole cost of the transfer. A
// cancelled context closes both, which unblocks any read or write.
func loopPair(ctx context.Context) (client, server net.Conn, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listen on loopback: %w", err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	var d net.Dialer
	client, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-ch
		return nil, nil, nil, fmt.Errorf("connect over loopback: %w", err)
	}
	a := <-ch
	if a.err != nil {
		client.Close()
		return nil, nil, nil, fmt.Errorf("accept on loopback: %w", a.err)
	}
	server = a.c
	closeBoth := func() {
		client.Close()
		server.Close()
	}
	stopAfter := context.AfterFunc(ctx, closeBoth)
	return client, server, func() { stopAfter(); closeBoth() }, nil
}

// loopBatch is the bytes one loopback op moves; it fits in the socket
// buffers, so the writes never wait for the reads that follow them.
const loopBatch = 32 * msgSize

func (s *session) loopSendProbe(ctx context.Context) (*probe, error) {
	client, server, stop, err := loopPair(ctx)
	if err != nil {
		return nil, err
	}
	msg := incompressible(msgSize)
	sink := make([]byte, loopBatch)
	return &probe{name: resource.LoopSend, close: stop, op: func() (int, error) {
		for range loopBatch / msgSize {
			if _, err := client.Write(msg); err != nil {
				return 0, fmt.Errorf("send over loopback: %w", err)
			}
		}
		if _, err := io.ReadFull(server, sink); err != nil {
			return 0, fmt.Errorf("receive over loopback: %w", err)
		}
		return loopBatch, nil
	}}, nil
}

func (s *session) loopRecvProbe(ctx context.Context) (*probe, error) {
	client, server, stop, err := loopPair(ctx)
	if err != nil {
		return nil, err
	}
	chunk := incompressible(loopBatch)
	buf := make([]byte, msgSize)
	return &probe{name: resource.LoopRecv, close: stop, op: func() (int, error) {
		if _, err := server.Write(chunk); err != nil {
			return 0, fmt.Errorf("send over loopback: %w", err)
		}
		for got := 0; got < loopBatch; {
			n, err := client.Read(buf)
			got += n
			if err != nil {
				return got, fmt.Errorf("receive over loopback: %w", err)
			}
		}
		return loopBatch, nil
	}}, nil
}

func (s *session) logProbe() (*probe, error) {
	f, err := s.tempFile("log")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	f.Close()
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	// A line like the node manager's log lines: a timestamp, a message and
	// a counter, formatted and written one line per write as a logger
	// flushing each line does.
	prefix := []byte(time.Now().UTC().Format("2006-01-02 15:04:05") + " benchmark: vessel v1 log line ")
	line := make([]byte, 0, 128)
	seq := 0
	return &probe{name: resource.LogRate, close: func() { f.Close() },
		setup: func() error {
			// Empty the log each round: the rate, not the file, is wanted.
			if err := f.Truncate(0); err != nil {
				return fmt.Errorf("truncate %s: %w", name, err)
			}
			return nil
		},
		op: func() (int, error) {
			total := 0
			for range 32 {
				seq++
				line = strconv.AppendInt(append(line[:0], prefix...), int64(seq), 10)
				line = append(line, " of the lograte probe, padded to a typical length\n"...)
				n, err := f.Write(line)
				total += n
				if err != nil {
					return total, fmt.Errorf("append to %s: %w", name, err)
				}
			}
			return total, nil
		}}, nil
}
