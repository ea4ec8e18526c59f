"""Validation errors every service answers the same way: 422, the field and the reason.

FastAPI's default handler echoes the rejected input back, and an input of NaN (which Python's JSON
parser accepts) then crashes the error response itself into a 500. This handler leaves the input out.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


def install_validation_handler(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
