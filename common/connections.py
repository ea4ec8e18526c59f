"""Bounded connections for every service the toolkit starts (levels 1-4, the platform, background servers).

A service on a shared machine (a class server, another student's account) must not be held by whoever
connects to it. uvicorn 0.54 with httptools, as it comes, gave: a 100 MB header read whole into memory
(uvicorn offers no head limit for httptools: Kludex/uvicorn#157), no time limit to receive a request
head or body (`timeout_keep_alive` only runs between requests and any byte cancels it), so connections
trickling a byte now and then are held for ever, and no bound on the request bodies held while they
arrive (the body limit in common/http.py bounds one body, not four hundred of them). uvicorn's h11
parser has a head size limit (`h11_max_incomplete_event_size`) but no timeouts either, and is pure
Python; hypercorn has `read_timeout` and the same h11 limit, on the same parser; granian had no header
timeout (emmett-framework/granian#508). Neither alternative was benchmarked here.

So the services stay on uvicorn + httptools, and `BoundedHttpToolsProtocol` adds what is missing, at the
protocol level where a request is still bytes (an ASGI middleware runs only once the head is whole):

- the request head (request line and headers): at most `head_bytes` and `header_count` fields, else 431;
- a new connection, or a request that has begun, has `head_seconds` to deliver its whole head, else
  408 and the connection is closed; its body then has `body_seconds`, else the same;
- at most `max_connections` open at once (kept below the process's file-descriptor limit), else 503;
- at most `body_bytes_in_flight` of request bodies still arriving, server-wide (the app holds each one
  until it is whole), else 503 for the request that would go past it.

Every refusal says why in one line and closes the connection. The limits live here, once: `run()` and
`uvicorn_options()` are what the serve paths call.
"""

from __future__ import annotations

import http
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ConnectionLimits:
    head_bytes: int = 16 * 1024  # as h11 and Node: a prediction request's head is a few hundred bytes
    header_count: int = 100  # as Apache's LimitRequestFields and gunicorn's limit_request_fields
    head_seconds: float = 10.0
    body_seconds: float = 30.0  # the largest accepted body (512 KB) at 17 KB/s
    max_connections: int = 1000
    body_bytes_in_flight: int = 16 * 1024 * 1024  # 32 bodies of the largest size, or 200 batches of 1,000 rides
    keep_alive_seconds: int = 5  # idle time between requests on one connection (uvicorn's default)
    backlog: int = 1024  # connections the kernel queues before the server accepts them


LIMITS = ConnectionLimits()


def connection_cap(limits: ConnectionLimits = LIMITS) -> int:
    """`max_connections`, lowered so that the service keeps descriptors for its own files and logs."""
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to read
        return limits.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    return max(16, min(limits.max_connections, soft - 128))


class _Budget:
    """Bytes of request bodies the process holds for requests not yet whole (one count per process:
    memory is the process's, whichever of its servers holds it)."""

    used = 0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the limits above on each connection and request."""

    limits = LIMITS
    budget = _Budget

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cap = connection_cap(self.limits)
        self._timer: Any = None
        self._in_head = True
        self._head_seen = 0  # bytes received while the head is open (whole reads: an upper bound)
        self._head_size = 0  # bytes of the request line and fields parsed so far (exact)
        self._fields = 0
        self._held = 0  # this connection's share of the body budget

    # Connection

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if len(self.connections) > self._cap:
            self._refuse(503, f"more than {self._cap} connections are open, try again shortly")
            return
        self._arm(self.limits.head_seconds, "request head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_seen += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        # httptools buffers a header it has not finished: stop it before the buffer outgrows the limit
        # (by at most one read of the transport).
        if self._in_head and self._head_seen > self.limits.head_bytes:
            self._refuse(431, f"request head larger than {self.limits.head_bytes} bytes")
        # The clocks start only for a request split across reads: one that came whole costs no timer.
        elif self._timer is None and self._in_head and self._head_seen:
            self._arm(self.limits.head_seconds, "request head")
        elif self._timer is None and not self._in_head:
            self._arm(self.limits.body_seconds, "request body")

    # Parser callbacks: once a connection is refused, the rest of what it sent is ignored.

    def on_message_begin(self) -> None:
        if self.transport.is_closing():
            return
        super().on_message_begin()
        self._head_size = self._fields = 0

    def on_url(self, url: bytes) -> None:
        if not self.transport.is_closing():
            super().on_url(url)
            self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.transport.is_closing():
            return
        self._fields += 1
        if self._fields > self.limits.header_count:
            self._refuse(431, f"more than {self.limits.header_count} header fields")
            return
        super().on_header(name, value)
        self._count_head(len(name) + len(value) + 4)

    def on_headers_complete(self) -> None:
        if self.transport.is_closing():
            return
        self._in_head = False
        self._disarm()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.transport.is_closing():
            return
        # Bytes read after the app has answered (the 413 drain) are thrown away, not held.
        if not self.cycle.response_started:
            self._held += len(body)
            self.budget.used += len(body)
            if self.budget.used > self.limits.body_bytes_in_flight:
                self._refuse(503, "too many request bodies are arriving at once, try again shortly")
                return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self.transport.is_closing():
            return
        self._disarm()
        self._in_head = True
        self._head_seen = 0  # the next request's head is counted from the next read
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._release()
        super().on_response_complete()

    # Limits

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.limits.head_bytes:
            self._refuse(431, f"request head larger than {self.limits.head_bytes} bytes")

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._refuse, 408, f"{what} not received within {seconds:g} s")

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _release(self) -> None:
        self.budget.used -= self._held
        self._held = 0

    def _refuse(self, status: int, reason: str) -> None:
        """Answer `status` with the reason (unless the app has begun its own answer) and close."""
        self._disarm()
        self._release()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is None or not cycle.response_started or cycle.response_complete:
            body = f"{reason}\n".encode()
            head = (
                f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the app's receive() gets a disconnect and lets go of the body
            cycle.message_event.set()
        logger.info("%s - %d %s", ":".join(map(str, self.client or ("-",))), status, reason)
        self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """The uvicorn settings every service runs with (for `uvicorn.run` or `uvicorn.Config`)."""
    return {
        "http": BoundedHttpToolsProtocol,
        "ws": "none",  # no service speaks WebSocket: one protocol less to bound
        "timeout_keep_alive": LIMITS.keep_alive_seconds,
        "backlog": LIMITS.backlog,
    }


def run(app: Any, host: str, port: int, log_level: str = "info") -> None:
    """Serve `app` until Ctrl-C, with the limits above (what each level's `serve` calls)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, **uvicorn_options())
