"""Keep a foreground server from outliving its command, even a command killed with SIGKILL.

`run_owned` stops the server's whole process group when the command is asked to stop; a command that
is killed outright (SIGKILL, the OOM killer) can stop nothing. So the server runs under this small
process, the leader of its group: the kernel sends it SIGUSR1 the moment its parent dies
(PR_SET_PDEATHSIG), and it passes a stop to the whole group, so that `mlflow server` and the uvicorn it
started go too. Only the direct child of a process gets that signal, hence a leader of our own rather
than the server itself.

A stop sent by the command itself (SIGTERM to the group) reaches every process once: the guardian
passes nothing on then, because a second SIGTERM is a kill to some servers (a Prefect worker).

Standard library only, run by path with -I: a `common.py` in the student's folder must not replace it.

    python -I guardian.py <parent pid> -- <command> [args...]
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1
ORPHANED = signal.SIGUSR1
GRACE_S = 10.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, ORPHANED, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _live_others_in_group() -> list[int]:
    """The group's other processes, zombies left out (an init that does not reap must not stall us)."""
    group, me, others = os.getpgid(0), os.getpid(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            others.append(int(entry))
    return others


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -I guardian.py <parent pid> -- <command> [args...]", file=sys.stderr)
        return 2
    parent, command = int(argv[0]), argv[2:]
    orphaned: list[bool] = []

    def stop_everyone(signum: int, frame: Any) -> None:
        if not orphaned:
            orphaned.append(True)
            os.killpg(0, signal.SIGTERM)  # reaches this process too: its handler below only waits

    signal.signal(ORPHANED, stop_everyone)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        # The command stops the group itself; the guardian waits for its child and reports how it ended.
        signal.signal(signum, lambda signum, frame: None)
    try:
        _die_with_parent()
    except OSError as exc:
        print(f"guardian: {exc}; the server will not stop if its command is killed", file=sys.stderr)
    if os.getppid() != parent or orphaned:  # the parent died before the kernel could be told to watch it
        return 1
    # Handlers set here are reset to the default in the child at exec; nothing is left ignored.
    code = subprocess.Popen(command).wait()
    if orphaned:  # what the server started may take a moment to go; whatever stays is killed
        deadline = time.monotonic() + GRACE_S
        while _live_others_in_group() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in _live_others_in_group():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
