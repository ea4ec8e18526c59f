"""Run an ASGI app on a real uvicorn server in a background thread, on 127.0.0.1 and a free port.

Used by `mlops-levels run N` (start, send rides, stop) and by tests and benchmarks that want real HTTP.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from common.errors import MlopsLevelsError

LOCALHOST = "127.0.0.1"


def free_port(host: str = LOCALHOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when a GET on `url` answers 200 (a health check that never raises)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def answers(url: str, timeout: float = 5.0) -> bool:
    """True when something speaks HTTP at `url`, whatever the status (401 from a server with logins counts)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """Whether the server's own bind would succeed. asyncio (so uvicorn) binds with SO_REUSEADDR on POSIX:
    a port whose last connections sit in TIME_WAIT right after traffic is free; one somebody listens on is not.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        if os.name == "posix" and sys.platform != "cygwin":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _bound_socket(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart reuses the port
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise MlopsLevelsError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})", fix="pick another port, or stop what uses it"
        ) from None
    return listener


@contextlib.contextmanager
def background_server(
    app: Any, host: str = LOCALHOST, port: int | None = None, startup_timeout: float = 30.0
) -> Iterator[str]:
    """Yield the base URL while uvicorn serves `app`; shut it down gracefully afterwards.

    Without a port, the socket is bound to port 0 here and handed to uvicorn: the system picks a free
    port, and no other process can take it between choosing and binding (as with `free_port`).
    """
    import uvicorn

    from common.connections import uvicorn_options

    listener = _bound_socket(host, port or 0)
    port = int(listener.getsockname()[1])
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise MlopsLevelsError(
                f"the service did not start on {host}:{port}", fix="check that the port is free (mlops-levels doctor)"
            )
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
