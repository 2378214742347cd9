# rtu104d — build, test, run and measure. `make help` lists the targets.
SWIFT        ?= swift
CONFIG       ?= release
PREFIX       ?= /usr/local
DESTDIR      ?=
BUILD_DIR    := .build
BIN_DIR       = $(BUILD_DIR)/$(CONFIG)
# gnutls-bin and socat: the TLS interop tests speak IEC 104 through gnutls-cli and openssl s_client.
SYSTEM_PACKAGES := libssl-dev libsystemd-dev libsqlite3-dev pkg-config gnutls-bin socat
FUZZ_SECONDS ?= 60
PYTHON       ?= python3
INTEROP_VENV := $(BUILD_DIR)/interop-venv
CERTS_DIR    ?= $(BUILD_DIR)/certs

.PHONY: help deps build test interop run fuzz bench install clean soak certs

help:
	@echo "make run      build and run rtu104d in the foreground on the example config in etc/"
	@echo "make test     everything CI runs: Swift tests, then the interop suite"
	@echo "make interop  the daemon against the c104 master over TCP (pytest, venv in $(INTEROP_VENV))"
	@echo "make build    release build of rtu104d and rtu104ctl"
	@echo "make fuzz     libFuzzer targets, FUZZ_SECONDS each (default 60)"
	@echo "make bench    codec, daemon and command-handler benchmarks (BENCH_PARTS=codec|daemon|commands)"
	@echo "make soak     mixed load for SOAK_SECONDS (default 600); fails if the daemon's RSS keeps growing"
	@echo "make install  PREFIX=$(PREFIX) DESTDIR=... [SYSCONFDIR=/etc for /usr and /usr/local, else PREFIX/etc]"
	@echo "make certs    throw-away TLS test CA, server and client certificates in $(CERTS_DIR)"

deps:
	@scripts/install-system-packages $(SYSTEM_PACKAGES)

build: deps
	$(SWIFT) build -c $(CONFIG)

# The interop suite: the debug rtu104d on loopback ports, driven by c104 and a raw-frame master.
# pytest fails the recipe on any non-zero status, 5 (no tests collected) included.
define run-interop
	PYTHON=$(PYTHON) scripts/interop-venv $(INTEROP_VENV) Tests/Interop/requirements.txt
	$(SWIFT) build --product rtu104d
	$(SWIFT) build --product rtu104ctl
	RTU104D="$$($(SWIFT) build --show-bin-path)/rtu104d" PYTHONDONTWRITEBYTECODE=1 \
		$(INTEROP_VENV)/bin/python -m pytest Tests/Interop -p no:cacheprovider -rfEsx
endef

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(run-interop)

interop: deps
	$(run-interop)

run: build
	$(BIN_DIR)/rtu104d --config etc/rtu104d/rtu104d.conf --check
	exec $(BIN_DIR)/rtu104d --config etc/rtu104d/rtu104d.conf

fuzz: deps
	Fuzz/run $(FUZZ_SECONDS)

bench: deps
	Benchmarks/run

# Not part of `test`: SOAK_SECONDS (default 600) of mixed load against the debug daemon; RSS must stay flat.
soak: deps
	PYTHON=$(PYTHON) scripts/interop-venv $(INTEROP_VENV) Tests/Interop/requirements.txt
	$(SWIFT) build --product rtu104d
	RTU104D="$$($(SWIFT) build --show-bin-path)/rtu104d" $(INTEROP_VENV)/bin/python scripts/soak

# Binaries to $(PREFIX)/sbin and bin, the unit to $(PREFIX)/lib/systemd/system (ExecStart at this PREFIX),
# man pages to $(PREFIX)/share/man, bash completion to $(PREFIX)/share/bash-completion/completions, the demo
# set of etc/rtu104d to $(PREFIX)/share/doc/rtu104d/examples, and the site configuration of etc/site to
# $(DESTDIR)$(SYSCONFDIR)/rtu104d without overwriting what is there. SYSCONFDIR is /etc for PREFIX=/usr and
# /usr/local, else $(PREFIX)/etc (so PREFIX=/tmp/x never writes into /etc). Every path gets $(DESTDIR) in
# front. Override SYSCONFDIR=, UNITDIR=, BASHCOMPDIR= (etc.) if your layout needs it.
install: build
	BIN_DIR=$(BIN_DIR) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) $(if $(SYSCONFDIR),SYSCONFDIR=$(SYSCONFDIR)) \
		$(if $(UNITDIR),UNITDIR=$(UNITDIR)) $(if $(BASHCOMPDIR),BASHCOMPDIR=$(BASHCOMPDIR)) scripts/install

# The unit (systemd-analyze verify, offline) and `make install` into temporary DESTDIRs, from the debug build.
.PHONY: systemd-verify
test: systemd-verify
systemd-verify: deps
	$(SWIFT) build
	BIN_DIR=$(BUILD_DIR)/debug scripts/check-install

# A throw-away CA with server and client certificates (plus expired, revoked and foreign-CA ones and a CRL)
# for etc/rtu104d/rtu104d-tls.conf and for trying TLS masters. Never for production.
certs:
	scripts/make-certs $(CERTS_DIR)

clean:
	rm -rf $(BUILD_DIR) Fuzz/.build Benchmarks/.build
