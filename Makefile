# rtu104d — build, test, run and measure. `make help` lists the targets.
SWIFT        ?= swift
CONFIG       ?= release
PREFIX       ?= /usr/local
DESTDIR      ?=
BUILD_DIR    := .build
BIN_DIR       = $(BUILD_DIR)/$(CONFIG)
SYSTEM_PACKAGES := libssl-dev libsystemd-dev pkg-config
FUZZ_SECONDS ?= 60

.PHONY: help deps build test run fuzz bench install clean

help:
	@echo "make run      build and run rtu104d in the foreground on the example config in etc/"
	@echo "make test     everything CI runs"
	@echo "make build    release build of rtu104d and rtu104ctl"
	@echo "make fuzz     libFuzzer targets, FUZZ_SECONDS each (default 60)"
	@echo "make bench    codec benchmarks"
	@echo "make install  PREFIX=$(PREFIX) DESTDIR=..."

deps:
	@scripts/install-system-packages $(SYSTEM_PACKAGES)

build: deps
	$(SWIFT) build -c $(CONFIG)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

run: build
	$(BIN_DIR)/rtu104d --config etc/rtu104d/rtu104d.conf --check
	exec $(BIN_DIR)/rtu104d --config etc/rtu104d/rtu104d.conf

fuzz: deps
	Fuzz/run $(FUZZ_SECONDS)

bench: deps
	Benchmarks/run

# Binaries to $(PREFIX)/sbin and bin, the unit to $(PREFIX)/lib/systemd/system (ExecStart at this PREFIX),
# man pages to $(PREFIX)/share/man, the example configuration and hooks to $(DESTDIR)/etc/rtu104d without
# overwriting what is there. Override UNITDIR=/lib/systemd/system (etc.) if your layout needs it.
install: build
	BIN_DIR=$(BIN_DIR) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) $(if $(UNITDIR),UNITDIR=$(UNITDIR)) scripts/install

# The unit (systemd-analyze verify, offline) and `make install` into temporary DESTDIRs, from the debug build.
.PHONY: systemd-verify
test: systemd-verify
systemd-verify: deps
	$(SWIFT) build
	BIN_DIR=$(BUILD_DIR)/debug scripts/check-install

clean:
	rm -rf $(BUILD_DIR) Fuzz/.build Benchmarks/.build
