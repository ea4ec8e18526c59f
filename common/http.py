"""HTTP hygiene every service shares (levels 1-4): how bad requests are answered.

- Validation errors: 422 with the field and the reason. FastAPI's default handler echoes the rejected
  input back, and an input of NaN (which Python's JSON parser accepts) then crashes the error response
  itself into a 500. This handler leaves the input out.
- Oversized bodies: 413 from the Content-Length, before the body is read.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_BODY_BYTES = 512 * 1024


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


class BodyLimitMiddleware:
    """Refuse an oversized body from its Content-Length, before reading it: 413, never a stuck worker."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            length = dict(scope["headers"]).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > self.max_bytes:
                response = JSONResponse({"detail": f"body larger than {self.max_bytes} bytes"}, status_code=413)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_http_hygiene(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimitMiddleware)
