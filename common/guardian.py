"""Keep a foreground server from outliving its command, even a command killed with SIGKILL.

`run_owned` stops the server's whole process group when the command is asked to stop; a command that
is killed outright (SIGKILL, the OOM killer, a closed laptop lid's session) can stop nothing. So the
server runs under this small process, the leader of its group: the kernel sends it SIGTERM the moment
its parent dies (PR_SET_PDEATHSIG), and it passes the stop to the whole group, so that `mlflow server`
and the uvicorn it started go too. Only the direct child of a process gets that signal, hence a leader
of our own rather than the server itself.

    python -m common.guardian <parent pid> -- <command> [args...]
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
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_S = 10.0


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _others_in_group() -> list[int]:
    group, me, others = os.getpgid(0), os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                if os.getpgid(int(entry)) == group:
                    others.append(int(entry))
            except OSError:
                pass
    return others


def main(argv: list[str]) -> int:
    parent, separator, command = argv[0], argv[1], argv[2:]
    if separator != "--" or not command:
        print("usage: python -m common.guardian <parent pid> -- <command> [args...]", file=sys.stderr)
        return 2
    stopping: list[int] = []

    def stop_group(signum: int, frame: Any) -> None:
        if not stopping:
            stopping.append(signum)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM below reaches us too
            os.killpg(0, signal.SIGTERM)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop_group)
    _die_with_parent()
    if os.getppid() != int(parent):  # the parent died before the kernel could be told to watch it
        return 1
    child = subprocess.Popen(command)
    code = child.wait()
    if stopping:  # what the server started may take a moment to go; whatever stays is killed
        deadline = time.monotonic() + GRACE_S
        while _others_in_group() and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in _others_in_group():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
