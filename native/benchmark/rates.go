package benchmark

// The rate probes. Each runs a warm-up round and then several short rounds of
// small operations and takes the median round: a fixed time per round keeps
// the whole benchmark within its budget on any machine, and the median
// ignores the odd round another process disturbed, which is what keeps five
// runs in a row within a few percent of each other.

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
	"slices"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

const (
	rounds    = 5         // measured rounds per rate, after one warm-up round
	blockSize = 4096      // file rates: one page, the smallest O_DIRECT I/O
	msgSize   = 1024      // loopback rates: a small message
	randSize  = 64        // random: a small read, a few keys' worth
	maxWrite  = 256 << 20 // filewrite starts the file over past this size
	minRead   = 1 << 20   // fileread needs at least this much file to read
)

// rounder runs timed rounds of an operation.
type rounder struct {
	s    *session
	st   *step
	name resource.Name
	// setup runs untimed before each round (e.g. to empty a log); may be nil.
	setup func() error
	// op performs a batch of operations and returns the bytes it moved.
	op func() (int, error)
}

// rate returns the median bytes/s over the rounds, floored to a whole number
// as the node manager's resource files want.
func (r rounder) rate(ctx context.Context) (float64, error) {
	round := time.Duration(float64(r.s.duration) * r.st.share / (rounds + 0.5))
	var rates []float64
	for i := 0; i <= rounds; i++ {
		d := round
		if i == 0 {
			d = round / 2 // warm-up: caches, TCP windows, the journal
		}
		if r.setup != nil {
			if err := r.setup(); err != nil {
				return 0, err
			}
		}
		var moved int64
		start := time.Now()
		var el time.Duration
		for el < d {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			n, err := r.op()
			if err != nil {
				return 0, err
			}
			moved += int64(n)
			el = time.Since(start)
		}
		if i > 0 {
			rates = append(rates, float64(moved)/el.Seconds())
		}
		r.s.report(r.name, float64(i+1)/(rounds+1), r.st)
	}
	return math.Floor(median(rates)), nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (s *session) random(ctx context.Context, st *step) ([]float64, error) {
	buf := make([]byte, randSize)
	v, err := rounder{s: s, st: st, name: resource.Random, op: func() (int, error) {
		for range 64 {
			if _, err := io.ReadFull(rand.Reader, buf); err != nil {
				return 0, fmt.Errorf("read the secure random source: %w", err)
			}
		}
		return 64 * randSize, nil
	}}.rate(ctx)
	return []float64{v}, err
}

// incompressible fills a block so that a compressing filesystem (btrfs,
// ZFS) still has to write every byte.
func incompressible(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (s *session) fileWrite(ctx context.Context, st *step) ([]float64, error) {
	f, err := s.tempFile("write")
	if err != nil {
		return []float64{0}, err
	}
	name := f.Name()
	f.Close()
	// Reopened synced: each write returns only once its data is on the
	// disk (O_DSYNC where the OS has it), like fio --sync=dsync.
	f, err = openSynced(name)
	if err != nil {
		return []float64{0}, fmt.Errorf("open %s for synced writes: %w", name, err)
	}
	defer f.Close()
	block := incompressible(blockSize)
	var size int64
	v, err := rounder{s: s, st: st, name: resource.FileWrite, op: func() (int, error) {
		if size >= maxWrite {
			// A very fast disk: start over rather than fill it.
			if err := f.Truncate(0); err != nil {
				return 0, fmt.Errorf("truncate %s: %w", name, err)
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return 0, fmt.Errorf("seek %s: %w", name, err)
			}
			size = 0
		}
		n, err := f.Write(block)
		size += int64(n)
		if err != nil {
			return n, fmt.Errorf("write %s: %w", name, err)
		}
		return n, nil
	}}.rate(ctx)
	if err != nil {
		return []float64{0}, err
	}
	s.written, s.wrote = name, v
	return []float64{v}, nil
}

// errNoCacheControl says the OS offers no way to read past its page cache.
var errNoCacheControl = errors.New("cannot read past the page cache on " + runtime.GOOS)

func (s *session) fileRead(ctx context.Context, st *step) ([]float64, error) {
	name, err := s.readableFile()
	if err != nil {
		return []float64{0}, err
	}
	f, direct, err := openUncached(name)
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
	v, err := rounder{s: s, st: st, name: resource.FileRead, op: func() (int, error) {
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

// readableFile returns the file filewrite wrote, or, if that failed, a new
// one: fileread is a measurement of its own and should not fail with it.
func (s *session) readableFile() (string, error) {
	if s.written != "" {
		if fi, err := os.Stat(s.written); err == nil && fi.Size() >= minRead {
			return s.written, nil
		}
	}
	f, err := s.tempFile("read")
	if err != nil {
		return "", err
	}
	defer f.Close()
	block := incompressible(64 << 10)
	for w := 0; w < minRead; w += len(block) {
		if _, err := f.Write(block); err != nil {
			return "", fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	return f.Name(), nil
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

// loopPair connects two TCP sockets over 127.0.0.1. The peer goroutine runs
// serve until the connection closes; the returned stop closes both ends and
// waits for it, so no goroutine outlives the probe.
func loopPair(ctx context.Context, serve func(net.Conn)) (net.Conn, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen on loopback: %w", err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	accepted := make(chan net.Conn, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
		serve(c)
	}()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		wg.Wait()
		return nil, nil, fmt.Errorf("connect over loopback: %w", err)
	}
	peer := <-accepted
	// A cancelled context unblocks reads and writes in both directions.
	stopAfter := context.AfterFunc(ctx, func() {
		c.Close()
		if peer != nil {
			peer.Close()
		}
	})
	stop := func() {
		stopAfter()
		c.Close()
		if peer != nil {
			peer.Close()
		}
		wg.Wait()
	}
	if peer == nil {
		stop()
		return nil, nil, errors.New("accept on loopback failed")
	}
	return c, stop, nil
}

func (s *session) loopSend(ctx context.Context, st *step) ([]float64, error) {
	c, stop, err := loopPair(ctx, func(peer net.Conn) {
		io.CopyBuffer(io.Discard, peer, make([]byte, 64<<10))
	})
	if err != nil {
		return []float64{0}, err
	}
	defer stop()
	msg := incompressible(msgSize)
	v, err := rounder{s: s, st: st, name: resource.LoopSend, op: func() (int, error) {
		for range 32 {
			if _, err := c.Write(msg); err != nil {
				return 0, fmt.Errorf("send over loopback: %w", err)
			}
		}
		return 32 * msgSize, nil
	}}.rate(ctx)
	return []float64{v}, err
}

func (s *session) loopRecv(ctx context.Context, st *step) ([]float64, error) {
	c, stop, err := loopPair(ctx, func(peer net.Conn) {
		chunk := incompressible(64 << 10)
		for {
			if _, err := peer.Write(chunk); err != nil {
				return
			}
		}
	})
	if err != nil {
		return []float64{0}, err
	}
	defer stop()
	buf := make([]byte, msgSize)
	v, err := rounder{s: s, st: st, name: resource.LoopRecv, op: func() (int, error) {
		total := 0
		for range 32 {
			n, err := c.Read(buf)
			total += n
			if err != nil {
				return total, fmt.Errorf("receive over loopback: %w", err)
			}
		}
		return total, nil
	}}.rate(ctx)
	return []float64{v}, err
}

func (s *session) logRate(ctx context.Context, st *step) ([]float64, error) {
	f, err := s.tempFile("log")
	if err != nil {
		return []float64{0}, err
	}
	name := f.Name()
	f.Close()
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return []float64{0}, fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	// A line like the node manager's log lines: a timestamp, a message and
	// a counter, formatted and written one line per write as a logger
	// flushing each line does.
	prefix := []byte(time.Now().UTC().Format("2006-01-02 15:04:05") + " benchmark: vessel v1 log line ")
	line := make([]byte, 0, 128)
	seq := 0
	v, err := rounder{s: s, st: st, name: resource.LogRate,
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
				line = append(append(line[:0], prefix...), strconv.Itoa(seq)...)
				line = append(line, " of the lograte probe, padded to a typical length\n"...)
				n, err := f.Write(line)
				total += n
				if err != nil {
					return total, fmt.Errorf("append to %s: %w", name, err)
				}
			}
			return total, nil
		}}.rate(ctx)
	return []float64{v}, err
}
