"""HTTP hygiene every service shares (levels 1-4): how bad requests and failing stores are answered.

- Validation errors: 422 with the field and the reason. FastAPI's default handler echoes the rejected
  input back, and an input of NaN (which Python's JSON parser accepts) then crashes the error response
  itself into a 500. This handler leaves the input out.
- A store that cannot record (the prediction log on a full or read-only disk): 503 with the reason,
  never a 200 for a prediction that was not recorded, never a 500 with a traceback.
- Oversized bodies: 413, whatever the transfer encoding, and memory that does not grow with the body.

How the body limit works, and why this way (uvicorn 0.54, httptools or h11):

1. The middleware reads the whole body itself, counting bytes, before the app runs, and hands it to
   the app as one message. Content-Length alone is not enough: a chunked body has none, and it used to
   be parsed whole (10 MB, 150,000 rides) before its 422. Holding at most `max_bytes` costs nothing the
   app would not spend anyway (every route parses its JSON body whole). It also means every early
   answer (404, 405, 401, 503) comes after the body is consumed, so none of them strands unread bytes.
2. Past the limit (or a declared Content-Length above it), the service answers 413 at once: headers
   and the whole JSON body, with Content-Length and `Connection: close`, but the ASGI response is
   left open (`more_body=True`) while the rest of the request body is read and thrown away, at most
   `drain_bytes` or `drain_seconds`; then the response ends and uvicorn closes the connection.
3. Why drain at all: uvicorn closes the socket right after a response that says `Connection: close`
   (or when the client asked for it, as urllib does on every request). Closing a socket with unread
   bytes in its receive buffer makes the kernel send a reset, and a client still writing its body
   (urllib, requests, http.client) then sees "connection reset" instead of the 413: 9 to 20 of 20
   tries with bodies of 0.6 to 10 MB before this change. Without `Connection: close`, uvicorn would
   instead keep reading and discarding the body for as long as the client sends (no memory growth,
   but 200 MB read for nothing and a connection held as long as the client likes).
   Draining a bounded amount after the 413 is the same trade nginx makes with its lingering close: a
   client that sends up to `max_bytes + drain_bytes` before reading sees the 413 cleanly; a client
   that keeps sending past that, or stalls, gets the 413 bytes and then a reset. Memory stays flat
   either way: uvicorn hands the body over in pieces of at most 64 KB, and the drain keeps none.
4. Expect: 100-continue with a declared size above the limit: the 413 goes out without reading, as
   the client has not sent the body (reading would invite it, uvicorn sends "100 Continue" on read).
"""

from __future__ import annotations

import asyncio
import enum
import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import StoreError

MAX_BODY_BYTES = 512 * 1024
DRAIN_MAX_BYTES = 16 * 1024 * 1024
DRAIN_MAX_SECONDS = 2.0


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # Starlette types every handler as taking any Exception
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    reason = exc.one_line() if isinstance(exc, StoreError) else str(exc)
    return JSONResponse({"detail": f"not served, the service cannot record it: {reason}"}, status_code=503)


class _Unread(enum.Enum):
    TOO_LARGE = "too large"
    CLIENT_GONE = "client gone"


class BodyLimitMiddleware:
    """Read at most `max_bytes` of any request body; past that, 413 that reaches the client."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        drain_bytes: int = DRAIN_MAX_BYTES,
        drain_seconds: float = DRAIN_MAX_SECONDS,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            body_is_coming = b"100-continue" not in headers.get(b"expect", b"").lower()
            await self._refuse(receive, send, drain=body_is_coming)
            return
        body = await self._read_body(receive)
        if body is _Unread.TOO_LARGE:
            await self._refuse(receive, send, drain=True)
        elif body is _Unread.CLIENT_GONE:
            # Nobody is left to answer (uvicorn drops it); the status is for the service's own metrics,
            # which would otherwise count a client that hung up as a server error.
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | _Unread:
        """The whole body, or why there is none to give the app."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _Unread.CLIENT_GONE
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return _Unread.TOO_LARGE
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, receive: Receive, send: Send, drain: bool) -> None:
        body = json.dumps({"detail": f"body larger than {self.max_bytes} bytes"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": True})
        if drain:
            await self._drain(receive)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _drain(self, receive: Receive) -> None:
        """Read and discard what the client is still sending, within the byte and time budget."""
        discarded = 0
        try:
            async with asyncio.timeout(self.drain_seconds):
                while discarded <= self.drain_bytes:
                    message = await receive()
                    if message["type"] != "http.request":
                        return
                    discarded += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return
        except TimeoutError:
            return


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that gives the app the body read in advance, then the connection's own events."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


def install_http_hygiene(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_middleware(BodyLimitMiddleware)
