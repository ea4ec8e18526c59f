"""A bare HTTP/1.1 client on a socket, for requests no well-behaved client library would send.

It writes the whole request, then reads the answer. When a write fails (the server closed the
connection while the body was still going out, and the kernel answered the rest with a reset), it
still reads what the server sent before closing, as httpx does; `write_error` records that the write
failed, since a plainer client (http.client, urllib, requests) would have given up there.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawRequest:
    family: str  # which kind of hostility, for the failure report
    head: bytes  # request line and headers, up to and including the blank line
    body: bytes = b""  # sent as is: a chunked body comes already framed
    pieces: int = 1  # the body goes out in this many writes


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no status line came back
    error: str = ""  # the answer could not be read whole
    write_error: str = ""  # the request could not be written whole


def send(host: str, port: int, request: RawRequest, timeout: float = 15.0) -> Outcome:
    with socket.create_connection((host, port), timeout=timeout) as conn:
        write_error = ""
        try:
            conn.sendall(request.head)
            step = max(1, -(-len(request.body) // request.pieces))
            for start in range(0, len(request.body), step):
                conn.sendall(request.body[start : start + step])
        except OSError as exc:
            write_error = repr(exc)
        status, error = _read_response(conn, head_only=request.head.startswith(b"HEAD "))
        return Outcome(status, error, write_error)


def _read_response(conn: socket.socket, head_only: bool) -> tuple[int | None, str]:
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None, f"closed before a whole status line and headers: {data[:60]!r}"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = _content_length(head)
        while not head_only and length is not None and len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return status, f"body cut at {len(rest)} of {length} bytes"
            rest += chunk
    except OSError as exc:
        return None, f"reading the answer: {exc!r}"
    except (ValueError, IndexError):
        return None, f"not an HTTP status line: {data[:60]!r}"
    return status, ""


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None
