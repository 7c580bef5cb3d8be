# seattle-installer — run `make help` for the targets.
SHELL   := /bin/bash
GO      ?= go
GOROOT  := $(shell $(GO) env GOROOT)
BIN     := bin/seattle-installer
BUILDER := bin/seattle-builder
WASM    := web/validator.wasm
WASMJS  := web/wasm_exec.js
UPLOADGZ := web/upload/gz
KEYGEN  := web/upload/keygen.wasm
GZIPPED := $(UPLOADGZ)/validator.wasm.gz $(UPLOADGZ)/wasm_exec.js.gz $(UPLOADGZ)/app.js.gz $(UPLOADGZ)/app.css.gz $(UPLOADGZ)/common.css.gz $(UPLOADGZ)/donor.js.gz \
	$(UPLOADGZ)/keygen.wasm.gz $(UPLOADGZ)/keygen-worker.js.gz
WASMEXEC := $(GOROOT)/lib/wasm/go_js_wasm_exec
FUZZTIME ?= 5s
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 freebsd/amd64 freebsd/arm64

.PHONY: all build wasm deps test test-native test-wasm test-arm test-windows testbins vet fuzz bench bench-stability run cross dist clean help

all: build ## build web/validator.wasm, web/wasm_exec.js, bin/seattle-installer and bin/seattle-builder

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t17

deps: ## install the Debian packages builds and tests need (only what is missing)
	@scripts/install-deps

wasm: $(WASM) $(WASMJS) $(KEYGEN) $(GZIPPED) ## build the browser's validator (WebAssembly), its loader, and the upload page's brotli and gzip forms

$(WASM): $(shell find wasm native/resource -name '*.go') go.mod
	@echo "wasm: building $@"
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $@ ./wasm

# The upload page's key generator: a second module, loaded only when an
# operator generates a key pair, so the validator stays small.
$(KEYGEN): $(shell find wasm/keygen wasm/seattlekey -name '*.go') go.mod
	@echo "wasm: building $@"
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags="-s -w" -o $@ ./wasm/keygen

$(WASMJS): $(GOROOT)/lib/wasm/wasm_exec.js
	cp $< $@

# The upload page's files, compressed once here and embedded in
# seattle-builder, which sends each browser the smallest form it accepts:
# brotli (Debian's brotli, -q 11) when the brotli program is installed (make
# deps installs it), and gzip -9 (no name, no time: the same bytes every
# build). NAME.br is written before NAME.gz, so a current .gz vouches for the
# .br beside it.
$(UPLOADGZ)/validator.wasm.gz: $(WASM)
$(UPLOADGZ)/wasm_exec.js.gz: $(WASMJS)
$(UPLOADGZ)/app.js.gz: web/upload/app.js
$(UPLOADGZ)/app.css.gz: web/upload/app.css
$(UPLOADGZ)/common.css.gz: web/common.css
$(UPLOADGZ)/donor.js.gz: web/upload/donor.js
$(UPLOADGZ)/keygen.wasm.gz: $(KEYGEN)
$(UPLOADGZ)/keygen-worker.js.gz: web/upload/keygen-worker.js
$(GZIPPED):
	@mkdir -p $(UPLOADGZ)
	@rm -f $(@:.gz=.br)
	@if command -v brotli >/dev/null; then echo "brotli -q 11 $< > $(@:.gz=.br)"; brotli -q 11 -c $< > $(@:.gz=.br).tmp && mv $(@:.gz=.br).tmp $(@:.gz=.br); \
	else echo "wasm: no brotli program: $(@:.gz=.br) not made (gzip only)"; fi
	gzip -9 -n -c $< > $@.tmp && mv $@.tmp $@

build: deps wasm ## build bin/seattle-installer (with the webview window) and bin/seattle-builder (the server)
	$(GO) build -trimpath -o $(BIN) ./native/cmd/seattle-installer
	$(GO) build -trimpath -o $(BUILDER) ./native/cmd/seattle-builder

# make test on two cores: the ARM tests (qemu, bound by the CPU, about 3.5
# minutes) run beside the other parts, which wait much of their time (for
# Chromium, the window under Xvfb, Wine); the ARM lines start with
# [linux/arm64] or [linux/arm]. Each part prints its time.
test: deps wasm vet ## run every test: native, browser, window, js/wasm under Node, ARM under qemu, Windows under Wine, fuzzing
	@start=$$SECONDS; scripts/test-arm & arm=$$!; status=0; \
	$(MAKE) --no-print-directory test-native test-wasm test-windows cross fuzz || status=1; \
	wait $$arm || status=1; \
	echo "test: $$((SECONDS - start)) s for test-native, test-wasm, test-windows, cross and fuzz beside test-arm"; \
	if [ $$status != 0 ]; then echo "test: FAILED (see above)"; exit 1; fi; \
	echo "test: all passed"

# The binaries the end-to-end tests run, built once per run (the tests find
# them through SEATTLE_TEST_BIN_DIR; see native/internal/testbin).
TESTBIN := bin/test
HOST := $(shell $(GO) env GOHOSTOS)-$(shell $(GO) env GOHOSTARCH)

testbins: wasm
	@mkdir -p $(TESTBIN)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -o $(TESTBIN)/seattle-installer-$(HOST) ./native/cmd/seattle-installer
	@if [ "$(HOST)" = linux-amd64 ]; then set -x; \
	  CGO_ENABLED=1 $(GO) build -trimpath -buildvcs=false -o $(TESTBIN)/seattle-installer-$(HOST)-webview ./native/cmd/seattle-installer; fi

vet: wasm ## go vet for this machine and for Windows, macOS and FreeBSD (which cannot run here)
	$(GO) vet ./...
	@set -e; for os in windows darwin freebsd; do echo "vet: GOOS=$$os"; GOOS=$$os $(GO) vet ./...; done

test-native: deps wasm testbins ## go test ./... on this machine, with the binaries of testbins
	@set -o pipefail; start=$$SECONDS; \
	SEATTLE_TEST_BIN_DIR=$(CURDIR)/$(TESTBIN) $(GO) test -count=1 -timeout 30m -json ./... | scripts/gotest-summary "test-native $(HOST)"; \
	echo "test-native: $$((SECONDS - start)) s"

test-arm: deps wasm ## the arm64 and 32-bit arm builds under qemu-user: end to end, and go test -exec
	scripts/test-arm

test-windows: deps wasm ## the windows/amd64 build under Wine: end to end, and go test -exec
	scripts/test-windows

test-wasm: wasm ## the validator's tests compiled to WebAssembly, run under Node
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec=$(WASMEXEC) ./wasm/...

fuzz: ## fuzz the vesselinfo parser, seattlePlan's JSON reader, the builder's XML-RPC decoder and the nodeman.cfg reader for $(FUZZTIME) each; crashers land in testdata
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./wasm/vesselinfo
	$(GO) test -run='^$$' -fuzz=FuzzDecodeValues -fuzztime=$(FUZZTIME) ./wasm/plan
	$(GO) test -run='^$$' -fuzz=FuzzDecodeCall -fuzztime=$(FUZZTIME) ./native/builder
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./native/nodeman

bench: deps wasm ## measure: validator and key generation native and WASM, benchmark (and bench-stability), install, bridge, builder
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...
	wasm/bench.sh 5
	wasm/keybench.sh 5
	$(MAKE) --no-print-directory bench-stability

RUNS ?= 5
bench-stability: build ## run the real benchmark RUNS (default 5) times as separate processes: each rate's CV and range
	scripts/bench-stability -n $(RUNS) $$(command -v fio >/dev/null && echo --fio) $(BIN)

run: build ## install the shipped sample into a fresh ./_install (the window when there is a display)
	$(BIN) validate native/assets/vesselinfo.sample
	rm -rf _install
	$(BIN) install --dir _install --vesselinfo native/assets/vesselinfo.sample --yes

cross: wasm ## compile for every GOOS/GOARCH we ship (no cgo) and js/wasm
	@set -e; for p in $(PLATFORMS); do \
	  echo "cross: $$p"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -o /dev/null ./native/cmd/seattle-installer; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -trimpath -o /dev/null ./native/cmd/seattle-builder; \
	done; \
	echo "cross: linux/arm (32-bit)"; CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -o /dev/null ./native/cmd/seattle-installer; \
	echo "cross: js/wasm"; GOOS=js GOARCH=wasm $(GO) build -o /dev/null ./wasm ./wasm/keygen

# dist: the base installers the builder (seattle-builder serve) packs into
# custom installers, named seattle-installer-GOOS-GOARCH[.exe], plus the Linux
# build with the webview window, seattle-installer-linux-amd64-webview (cgo:
# built only on a linux/amd64 host), and beside them the server itself for the
# machines it runs on, seattle-builder-linux-ARCH. Reproducible: no paths, no
# VCS stamp, no build ID.
DIST := bin/dist
DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
DIST_SERVER_PLATFORMS := linux/amd64 linux/arm64
DIST_FLAGS := -trimpath -buildvcs=false -ldflags="-s -w -buildid="

dist: deps wasm ## cross-compile the base installers and seattle-builder into bin/dist (reproducible)
	@mkdir -p $(DIST)
	@set -e; for p in $(DIST_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=$(DIST)/seattle-installer-$$os-$$arch$$ext; echo "dist: $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build $(DIST_FLAGS) -o $$out ./native/cmd/seattle-installer; \
	done
	@set -e; if [ "$$($(GO) env GOOS)/$$($(GO) env GOARCH)" = linux/amd64 ]; then \
	  out=$(DIST)/seattle-installer-linux-amd64-webview; echo "dist: $$out (cgo, webview window)"; \
	  CGO_ENABLED=1 $(GO) build $(DIST_FLAGS) -o $$out ./native/cmd/seattle-installer; \
	else echo "dist: no webview build (needs a linux/amd64 host)"; fi
	@set -e; for p in $(DIST_SERVER_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/seattle-builder-$$os-$$arch; echo "dist: $$out (the server)"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build $(DIST_FLAGS) -o $$out ./native/cmd/seattle-builder; \
	done

clean: ## remove what the build made
	-WINEPREFIX=$(CURDIR)/$(TESTBIN)/_wineprefix wineserver -k 2>/dev/null
	rm -rf bin $(WASM) $(WASMJS) $(KEYGEN) $(GZIPPED) $(GZIPPED:.gz=.br) _install _builds
