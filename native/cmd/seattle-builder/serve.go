package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/seattletestbed/seattle-installer/native/builder"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "serve the page that builds custom installers from a vesselinfo file",
		run:     runServe,
	})
}

func runServe(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to listen on; the default only answers this machine")
	data := fs.String("data", "_builds", "`directory` for the builds: each upload's vesselinfo and its archives")
	baseDir := fs.String("base", "bin/dist", "`directory` of the base installers, as `make dist` builds them")
	grace := fs.Duration("grace", builder.DefaultGrace, "after SIGTERM or Ctrl-C, how long downloads in flight may take to finish")
	quiet := fs.Bool("quiet", false, "log only warnings and errors, not every request")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: seattle-builder serve [--addr 127.0.0.1:8080] [--data DIR] [--base DIR]

Serves the installer builder. An operator opens http://ADDR/, pastes or drops
a vesselinfo file (checked in the browser as it is typed), presses Build and
gets a download link per platform. Donors download and run those installers.

The API, for scripts:
  curl --data-binary @vesselinfo http://ADDR/api/builds
      201 {"id": ID, "installers": {"linux-amd64": "/builds/ID/linux-amd64", ...}}
      422 {"errors": [{"line": N, "message": "..."}]} when the file is invalid
  curl -OJ http://ADDR/builds/ID/linux-amd64

Build IDs are a hash of the file, and archives are byte-identical for the same
file and base installers, so servers need no shared state. Archives are built
on first download and kept in --data. Platforms whose base installer is
missing from --base are left out. SIGTERM stops accepting connections and
lets downloads in flight finish.

Exit status: 0 stopped cleanly, 1 the server failed, 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(e.stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelWarn
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	srv, err := builder.New(builder.Config{DataDir: *data, BaseDir: *baseDir, Grace: *grace, Log: log})
	if err != nil {
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitUsage
	}
	ps := srv.Platforms()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = string(p)
	}
	list := strings.Join(names, ", ")
	if len(ps) == 0 {
		list = "no platform"
		fmt.Fprintf(e.stderr, "serve: warning: no base installers in %s, so builds have no downloads; run `make dist`\n", *baseDir)
	}
	// The first line names the address: with --addr 127.0.0.1:0 it is how a
	// script or test learns the port.
	fmt.Fprintf(e.stdout, "serving http://%s/ (builds in %s; installers for %s)\n",
		ln.Addr(), *data, list)

	// Precompress the base installers while the page is already up, so the
	// first Build does not wait for them.
	go func() {
		start := time.Now()
		if err := srv.Warm(ctx); err != nil {
			log.Error("base installers", "err", err)
			return
		}
		log.Info("all base installers ready", "took", time.Since(start).Round(time.Millisecond))
	}()
	if err := srv.Serve(ctx, ln); err != nil {
		fmt.Fprintf(e.stderr, "serve: %v\n", err)
		return exitFail
	}
	return exitOK
}
