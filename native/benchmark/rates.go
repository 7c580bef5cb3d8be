package benchmark

// The rate probes. Each runs a warm-up round and then several short rounds of
// small operations: a fixed time per round keeps the whole benchmark within
// its budget on any machine. The CPU-bound rates take the median round,
// timed by the thread's own CPU time, so that neither the odd disturbed round
// nor other programs competing for the processors move the figure; the disk
// rates take the mean over all rounds, as fio does, since a shared disk's
// slow moments are part of what it gives.

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
	"time"
	"unsafe"

	"github.com/seattletestbed/seattle-installer/native/resource"
)

const (
	rounds     = 7       // measured rounds per rate, after one warm-up round
	diskRounds = 9       // the disk is shared and noisier: more, shorter rounds
	blockSize  = 4096    // file rates: one page, the smallest O_DIRECT I/O
	msgSize    = 1024    // loopback rates: a small message
	randSize   = 64      // random: a small read, a few keys' worth
	diskFile   = 8 << 20 // the file the disk rates write over and read
	// maxBlocks is how often a CPU-bound round's thread may block (the Go
	// runtime parks it now and then) and still be timed by its CPU time.
	maxBlocks = 10
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
	// rounds measured, after one warm-up round; 0 means the constant rounds.
	rounds int
	// mean: all bytes over all the time of the measured rounds, as fio
	// reports, instead of the median round. The disk is shared, and a slow
	// round is part of what it gives: the median would skip it and come
	// out above what fio measures.
	mean bool
	// cpuBound ops keep one thread busy and should not wait for a device:
	// they are timed by the CPU time of their thread where the OS tells it,
	// so that other programs competing for the processors (a compiler, a
	// browser) do not change the figure. A round in which the thread did
	// block (a log on a network filesystem) is timed by the clock instead,
	// so waiting is never left out. I/O-bound ops are always timed by the
	// clock, waiting included.
	cpuBound bool
}

// rate returns bytes/s, the median round's or the mean of all rounds (see
// mean), floored to a whole number as the node manager's resource files want.
func (r rounder) rate(ctx context.Context) (float64, error) {
	n := r.rounds
	if n == 0 {
		n = rounds
	}
	round := time.Duration(float64(r.s.duration) * r.st.share / (float64(n) + 0.5))
	var rates []float64
	var allMoved int64
	var allTime time.Duration
	useCPU := false
	if r.cpuBound {
		// Pinned so the thread's CPU time is this goroutine's.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, _, useCPU = threadCPU()
	}
	for i := 0; i <= n; i++ {
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
		cpu0, blocks0, _ := threadCPU()
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
		if useCPU {
			cpu1, blocks1, _ := threadCPU()
			if blocks1-blocks0 <= maxBlocks {
				el = max(cpu1-cpu0, time.Microsecond)
			}
		}
		if i > 0 {
			rates = append(rates, float64(moved)/el.Seconds())
			allMoved += moved
			allTime += el
		}
		r.s.report(r.name, float64(i+1)/float64(n+1), r.st)
	}
	if r.mean {
		return math.Floor(float64(allMoved) / allTime.Seconds()), nil
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
	v, err := rounder{s: s, st: st, name: resource.Random, cpuBound: true, op: func() (int, error) {
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
	v, err := rounder{s: s, st: st, name: resource.FileWrite, rounds: diskRounds, mean: true, op: func() (int, error) {
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
	v, err := rounder{s: s, st: st, name: resource.FileRead, rounds: diskRounds, mean: true, op: func() (int, error) {
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

func (s *session) loopSend(ctx context.Context, st *step) ([]float64, error) {
	client, server, stop, err := loopPair(ctx)
	if err != nil {
		return []float64{0}, err
	}
	defer stop()
	msg := incompressible(msgSize)
	sink := make([]byte, loopBatch)
	v, err := rounder{s: s, st: st, name: resource.LoopSend, cpuBound: true, op: func() (int, error) {
		for range loopBatch / msgSize {
			if _, err := client.Write(msg); err != nil {
				return 0, fmt.Errorf("send over loopback: %w", err)
			}
		}
		if _, err := io.ReadFull(server, sink); err != nil {
			return 0, fmt.Errorf("receive over loopback: %w", err)
		}
		return loopBatch, nil
	}}.rate(ctx)
	return []float64{v}, err
}

func (s *session) loopRecv(ctx context.Context, st *step) ([]float64, error) {
	client, server, stop, err := loopPair(ctx)
	if err != nil {
		return []float64{0}, err
	}
	defer stop()
	chunk := incompressible(loopBatch)
	buf := make([]byte, msgSize)
	v, err := rounder{s: s, st: st, name: resource.LoopRecv, cpuBound: true, op: func() (int, error) {
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
	v, err := rounder{s: s, st: st, name: resource.LogRate, cpuBound: true,
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
		}}.rate(ctx)
	return []float64{v}, err
}
