"""`make install` end to end: scripts/install into a temporary DESTDIR from the binaries under test, then the
installed site configuration checked and served, the installed rtu104ctl used for commissioning through the
local-tools station, and the installed bash completion exercised. (scripts/check-install, run by `make test`,
checks the layout, modes, unit and re-install rules; this module checks that the result works.)"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, REPO, Daemon, free_port

RUN_TIMEOUT = 20.0


def run(*arguments: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in arguments], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          stdin=subprocess.DEVNULL, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A DESTDIR with `scripts/install PREFIX=/usr/local` from the binaries under test."""
    if not (BINARY.parent / "rtu104ctl").exists():
        pytest.fail(f"{BINARY.parent / 'rtu104ctl'} is missing; build it with `swift build --product rtu104ctl`")
    destdir = tmp_path_factory.mktemp("destdir")
    result = run(REPO / "scripts" / "install",
                 env={**os.environ, "BIN_DIR": str(BINARY.parent), "PREFIX": "/usr/local", "DESTDIR": str(destdir)})
    assert result.returncode == 0, result.stdout + result.stderr
    return destdir


def test_installed_site_configuration_passes_check(installed):
    """As installed, with the unit's directories (the defaults), without a warning, admitting only the placeholder."""
    result = run(installed / "usr/local/sbin/rtu104d", "--check", "--config", installed / "etc/rtu104d/rtu104d.conf")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "state: /var/lib/rtu104d  runtime: /run/rtu104d" in result.stdout, result.stdout
    assert "warning" not in result.stdout + result.stderr
    assert "allow 192.0.2.10" in result.stdout and "allow 127.0.0.1" in result.stdout, result.stdout
    assert "allow any" not in result.stdout and "allow others" not in result.stdout, result.stdout
    assert not (installed / "etc/rtu104d/hooks").exists()
    assert (installed / "usr/local/share/doc/rtu104d/examples/hooks/breaker.sh").exists()


@pytest.fixture(scope="module")
def site_daemon(installed, tmp_path_factory):
    """The installed site configuration served as it is, but on free ports (2404 and 2405 may be in use here)."""
    directory = tmp_path_factory.mktemp("site")
    ports = {"main": free_port(), "local": free_port()}
    for file in (installed / "etc/rtu104d").iterdir():
        text = file.read_text()
        if file.name == "rtu104d.conf":
            text = text.replace("bind = 0.0.0.0:2404", f"bind = 127.0.0.1:{ports['main']}")
            text = text.replace("bind = 127.0.0.1:2405", f"bind = 127.0.0.1:{ports['local']}")
            assert str(ports["main"]) in text and str(ports["local"]) in text
        (directory / file.name).write_text(text)
    daemon = Daemon("site", directory, ports)
    daemon.start()
    yield daemon
    daemon.stop()


def test_commissioning_through_the_local_tools_station(installed, site_daemon):
    """The installed rtu104ctl interrogates and sets values through the local-tools station and the control socket;
    the SCADA station admits nobody but its (placeholder) master."""
    ctl = installed / "usr/local/bin/rtu104ctl"
    local = f"127.0.0.1:{site_daemon.ports['local']}"
    result = run(ctl, "interrogate", local, "--ca", "1", "--format", "csv")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {tuple(line.split(",")[:3]) for line in result.stdout.splitlines()[1:]}
    assert ("1", "1001", "M_SP_NA_1") in rows and ("1", "3001", "M_ME_NC_1") in rows, result.stdout

    socket = ["--socket", str(site_daemon.control_socket)]
    result = run(ctl, "set", *socket, "1:3001=231.5")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(ctl, "get", *socket, "1:3001")
    assert result.returncode == 0 and re.search(r"231\.5", result.stdout), result.stdout + result.stderr

    # 127.0.0.1 is not the SCADA master: refused on the main listener, whose only station admits 192.0.2.10.
    refused = run(ctl, "connect", f"127.0.0.1:{site_daemon.ports['main']}", "--timeout", "2")
    assert refused.returncode == 2, refused.stdout + refused.stderr


def test_installed_bash_completion_completes_subcommands_and_options(installed):
    completion = installed / "usr/local/share/bash-completion/completions/rtu104ctl"
    script = f"""
        source {completion}
        COMP_WORDS=(rtu104ctl re); COMP_CWORD=1; COMP_LINE='rtu104ctl re'; COMP_POINT=${{#COMP_LINE}}
        _rtu104ctl rtu104ctl re rtu104ctl; echo "${{COMPREPLY[@]}}"
        COMPREPLY=()
        COMP_WORDS=(rtu104ctl set --so); COMP_CWORD=2; COMP_LINE='rtu104ctl set --so'; COMP_POINT=${{#COMP_LINE}}
        _rtu104ctl rtu104ctl --so set; echo "${{COMPREPLY[@]}}"
    """
    result = run("bash", "-c", script,
                 env={**os.environ, "PATH": f"{installed / 'usr/local/bin'}:{os.environ.get('PATH', '')}"})
    assert result.returncode == 0, result.stderr
    subcommands, options = (result.stdout.splitlines() + ["", ""])[:2]
    assert set(subcommands.split()) >= {"reload", "read", "reset-process"}, result.stdout
    assert "set" not in subcommands.split()
    assert options.split() == ["--socket"], result.stdout
