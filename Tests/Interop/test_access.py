"""Access (configs/access.conf, access-0600.conf): a master reaches only the station its address filter
binds it to and the common addresses that station serves; the control socket admits only its owner
and group (file mode 0660 by default, or control_socket_mode), and its requests can neither name a
file nor run a program.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import socket
import stat
import time

import pytest

import iec104
from expect import assert_mirror
from iec104 import RawMaster
from robust import Control, float_values

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("access")


def negative(replies: list[iec104.ASDU], request: bytes, cause: int) -> None:
    assert replies[-1].negative and replies[-1].cause == cause, replies
    assert_mirror(replies[-1], request, cause, negative=True)


def test_master_reaches_only_the_common_addresses_of_its_station(daemon):
    with RawMaster(daemon.port) as a:  # 127.0.0.1: station a, CA 47 and 48
        a.start_dt()
        a.collect(0.2)
        assert a.request(iec104.gi(47), until_cause=iec104.COT_ACTTERM)[-1].ca == 47
        for request in (iec104.gi(49), iec104.single_command(49, 2201, True)):
            negative(a.request(request), request, iec104.COT_UNKNOWN_CA)
        command = iec104.single_command(48, 2101, True)
        replies = a.request(command, until_cause=iec104.COT_ACTTERM)
        assert_mirror(replies[0], command, iec104.COT_ACTCON)
        broadcast = a.request(iec104.gi(0xFFFF), until_cause=iec104.COT_ACTTERM)
        broadcast += a.collect(0.5)
        assert {x.ca for x in broadcast if x.cause == iec104.COT_INTERROGATED} == {47, 48}, broadcast
    with RawMaster(daemon.port, source="127.0.0.2") as b:  # station b, CA 49
        b.start_dt()
        b.collect(0.2)
        for request in (iec104.gi(47), iec104.single_command(47, 2001, True), iec104.single_command(48, 2101, False)):
            negative(b.request(request), request, iec104.COT_UNKNOWN_CA)
        replies = b.request(iec104.gi(0xFFFF), until_cause=iec104.COT_ACTTERM) + b.collect(0.3)
        assert {x.ca for x in replies if x.cause == iec104.COT_INTERROGATED} == {49}, replies


def test_events_go_only_to_the_station_serving_their_common_address(daemon):
    with RawMaster(daemon.port) as a, RawMaster(daemon.port, source="127.0.0.2") as b:
        a.start_dt()
        b.start_dt()
        with Control(daemon.control_socket) as control:
            control.set([{"ca": 47, "ioa": 5002, "value": 11.0}, {"ca": 49, "ioa": 7001, "value": 22.0}])
        got_a, got_b = a.collect(0.8), b.collect(0.8)
    assert float_values(got_a) == {5002: [11.0]}, got_a
    assert float_values(got_b) == {7001: [22.0]}, got_b


def _connect_as(path: str, uid: int, gid: int, groups: list[int]) -> int:
    """errno of connect() to `path` from a forked child running as uid/gid (0 = connected). The child
    changes into the socket's directory first, so that only the socket's own mode decides (pytest's
    temporary directories are closed to other users)."""
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, try, report through the exit status
        code = 99
        try:
            os.chdir(os.path.dirname(path))
            path = os.path.basename(path)
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                try:
                    sock.connect(path)
                    sock.sendall(b'{"op":"status"}\n')
                    code = 0 if sock.recv(1) else 98
                except OSError as error:
                    code = error.errno
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as another user")
def test_control_socket_is_0660_and_refuses_other_users(daemon):
    path = str(daemon.control_socket)
    Control(path).close()  # exists and answers
    info = os.stat(path)
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o660, oct(info.st_mode)
    assert _connect_as(path, NOBODY.pw_uid, NOBODY.pw_gid, []) == errno.EACCES
    # The socket's group may use it: nobody as a member of that group connects.
    assert _connect_as(path, NOBODY.pw_uid, NOBODY.pw_gid, [info.st_gid]) == 0
    # And the runtime directory does not open a way around it.
    assert stat.S_IMODE(os.stat(daemon.runtime_directory).st_mode) & 0o002 == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as another user")
def test_configured_control_socket_mode_is_applied(daemon_factory):
    other = daemon_factory("access-0600")
    path = str(other.control_socket)
    Control(path).close()
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o600, oct(info.st_mode)
    assert _connect_as(path, NOBODY.pw_uid, NOBODY.pw_gid, [info.st_gid]) == errno.EACCES


REFUSED = [
    {"op": "set", "points": [{"point": "../../etc/passwd", "value": 1}]},
    {"op": "set", "points": [{"point": "/etc/passwd", "value": 1}]},
    {"op": "set", "points": [{"ca": "47; rm -rf /", "ioa": 5001, "value": 1}]},
    {"op": "set", "points": [{"ca": 47, "ioa": 5001, "value": "$(touch /tmp/rtu104-pwned)"}]},
    {"op": "set", "points": [{"ca": 47, "ioa": 5001, "value": 1, "file": "/etc/passwd"}]},
    {"op": "set", "points": [{"ca": 47, "ioa": 5001, "value": 1}], "exec": "/bin/sh"},
    {"op": "get", "points": ["../../etc/passwd"]},
    {"op": "get", "points": ["/etc/shadow"]},
    {"op": "status", "path": "/etc/shadow"},
    {"op": "reload", "config": "/tmp/evil.conf"},
    {"op": "watch", "output": "/tmp/out"},
    {"op": "exec", "command": "id"},
    {"op": "run", "program": "/bin/sh"},
    {"op": "load", "file": "/etc/passwd"},
    {"op": "save", "path": "/tmp/x"},
    {"op": "../../bin/sh"},
]


@pytest.mark.parametrize("request_", REFUSED, ids=[json.dumps(r)[:60] for r in REFUSED])
def test_control_requests_cannot_name_files_or_run_programs(daemon, request_):
    with Control(daemon.control_socket) as control:
        reply = control.request(request_)
        assert reply["ok"] is False and reply["error"], reply
        assert control.request({"op": "status"})["ok"], "the connection is still usable"
    assert not os.path.exists("/tmp/rtu104-pwned")


def test_oversized_control_line_is_refused_and_the_daemon_goes_on(daemon):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(daemon.control_socket))
        try:
            sock.sendall(b'{"op":"set","points":[' + b" " * (2 << 20))
            sock.recv(4096)
        except OSError:
            pass
    time.sleep(0.2)
    with Control(daemon.control_socket) as control:
        assert control.request({"op": "status"})["ok"]
