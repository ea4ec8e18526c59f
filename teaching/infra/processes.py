"""Processes the toolkit starts are its own to stop, and only those.

A pid written to a state file outlives the process: after a reboot or a long pause the same number
may belong to someone else's program. So every record keeps the process's identity (its start time
in clock ticks since boot and its command line, both from /proc), and nothing is signalled unless the
process found under that pid today is the one recorded. A command that runs a server in the
foreground (`ui N`, `stack worker`) takes its children down with it on SIGTERM, SIGINT or SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROC = Path("/proc")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GUARDIAN = Path(__file__).with_name("guardian.py")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold spaces or parentheses.
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    """When a process started (clock ticks since boot); readable until it is reaped, zombie or not."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def identity(pid: int) -> dict[str, Any] | None:
    """What makes this process itself: pid, start time (ticks since boot) and command line."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":  # a zombie has finished; only its exit status is left
        return None
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return {
        "pid": pid,
        "start": int(fields[19]),
        "cmdline": [part.decode(errors="replace") for part in cmdline if part],
    }


def environment_value(pid: int, name: str) -> str | None:
    """One variable of a process's environment as it started (None if unreadable: another user's, gone)."""
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = f"{name}=".encode()
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def recorded_pid(record: object) -> int | None:
    """The pid a record names, if it could be ours at all: an int above 1 (0 and negative numbers name
    process groups, 1 is init), with the start time and command line that prove who it is."""
    if not isinstance(record, dict) or not {"pid", "start", "cmdline"} <= record.keys():
        return None
    pid = record["pid"]
    if type(pid) is not int or pid <= 1 or type(record["start"]) is not int or not isinstance(record["cmdline"], list):
        return None
    return pid


def is_same(record: dict[str, Any] | None) -> bool:
    """True when the process under the recorded pid is the recorded one (not a stranger reusing the pid)."""
    pid = recorded_pid(record)
    if pid is None or record is None:
        return False  # a record without an identity cannot be trusted with a signal
    now = identity(pid)
    return now is not None and now["start"] == record["start"] and now["cmdline"] == record["cmdline"]


def group_members(pgid: int, not_before: int = 0) -> list[int]:
    """Live processes of a process group that started no earlier than `not_before` (clock ticks)."""
    members = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) and fields[0] != "Z":
            if int(fields[2]) == pgid and int(fields[19]) >= not_before:
                members.append(int(entry.name))
    return members


def stop_group(record: dict[str, Any] | None, timeout: float = 20.0) -> bool:
    """SIGTERM a recorded server's process group, SIGKILL what is left after `timeout`; True if it was running.

    A record read from a file proves nothing by itself (it may be stale, or written by someone else): the
    group is signalled only if its leader runs now and is the very process recorded (same start time and
    command line). A dead leader, a reused pid, pid 0 or 1: nothing is signalled.
    """
    if record is None or not is_same(record):
        return False
    return stop_own_group(record["pid"], record["start"], timeout)


def left_behind(record: dict[str, Any] | None) -> list[int]:
    """Processes of a recorded group whose leader has exited (a server whose wrapper died, its uvicorn on).

    Only reported, never signalled: with the leader gone nothing proves the record was ours to act on.
    """
    pid = recorded_pid(record)
    if pid is None or record is None or identity(pid) is not None:
        return []
    return group_members(pid, not_before=record["start"])


def stop_own_group(pgid: int, started: int, timeout: float = 20.0) -> bool:
    """Stop the group of a child this process started itself (so known to be ours), even if its leader has
    already exited: Linux does not hand out a pid that is still in use as a group id."""
    if pgid <= 1:
        return False
    members = group_members(pgid, not_before=started)
    if not members:
        return False
    _signal_all(members, signal.SIGTERM)
    if not _wait_gone(pgid, started, timeout):
        _signal_all(group_members(pgid, started), signal.SIGKILL)
        _wait_gone(pgid, started, 5.0)
    return True


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _wait_gone(pgid: int, not_before: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while group_members(pgid, not_before):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C, so `finally` blocks and cleanups run."""


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise like Ctrl-C instead of killing the interpreter outright."""

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class NeverAnswered(Exception):
    """A foreground server started with `ready` did not answer in time (it has been stopped). Not the built-in
    TimeoutError: a socket timeout inside `then()` is another failure and must not read as this one."""


@dataclass(frozen=True)
class Readiness:
    """When a foreground server is ready: `answers()` turns true within `timeout` seconds, then `then()` runs
    (the address is printed only once it can be opened)."""

    answers: Callable[[], bool]
    then: Callable[[], None]
    timeout: float


def run_owned(
    command: list[str],
    env: dict[str, str],
    cwd: Path | None = None,
    grace: float = 10.0,
    log: Path | None = None,
    ready: Readiness | None = None,
) -> int:
    """Run a server in the foreground; a stop signal to us stops its whole process tree, then returns.

    The server runs under teaching/infra/guardian.py, which leads a process group of its own (same session), so
    `mlflow server` and the uvicorn it spawns, or a Prefect worker and its flow runs, go down together
    and nothing outlives this command, even one killed outright. A group that takes longer than `grace`
    seconds to stop is killed. With `log`, the child's output goes to that file instead of the terminal.
    With `ready`, a server that does not answer in time is stopped and NeverAnswered raised.
    """
    with open(log, "ab") if log else contextlib.nullcontext() as output:
        return _run_owned(command, env, cwd, grace, output, ready)


def _run_owned(
    command: list[str], env: dict[str, str], cwd: Path | None, grace: float, output: Any, ready: Readiness | None
) -> int:
    # Under a guardian that leads the group: if this command is killed outright, the server still goes.
    guarded = [sys.executable, "-I", str(GUARDIAN), str(os.getpid()), "--", *command]
    process = subprocess.Popen(guarded, env=env, cwd=cwd, process_group=0, stdout=output, stderr=output)
    started = start_time(process.pid) or 0  # read before it can be reaped: the pid is still ours
    received: list[int] = []

    def remember(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, remember) for signum in STOP_SIGNALS}
    deadline = time.monotonic() + (ready.timeout if ready else 0)
    try:
        while process.poll() is None and not received:
            if ready and ready.answers():
                ready.then()
                ready = None
            elif ready and time.monotonic() > deadline:
                raise NeverAnswered(f"no answer within {ready.timeout:.0f} s")
            time.sleep(0.25 if ready else 0.1)
    finally:
        stop_own_group(process.pid, started, timeout=grace)  # also children the leader left behind
        process.wait()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0 if received else int(process.returncode)
