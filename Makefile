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

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN_DIR)/rtu104ctl $(DESTDIR)$(PREFIX)/bin/rtu104ctl
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(BIN_DIR)/rtu104d $(DESTDIR)$(PREFIX)/sbin/rtu104d

clean:
	rm -rf $(BUILD_DIR) Fuzz/.build Benchmarks/.build
