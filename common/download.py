"""Fetch TLC files into the workspace cache: with a progress bar, and atomically (never a half file)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from common.atomic import atomic_path
from common.errors import DownloadError

ProgressHook = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)
_CHUNK = 1 << 16


def trip_url(base_url: str, color: str, month: str) -> str:
    return f"{base_url.rstrip('/')}/trip-data/{color}_tripdata_{month}.parquet"


def download(url: str, target: Path, progress: ProgressHook | None = None, timeout: float = 60) -> Path:
    """Download `url` to `target` unless it is already cached. A failed download leaves no file."""
    if target.exists():
        return target
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            with open(tmp, "wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total is not None and done != total:
                raise DownloadError(
                    f"download stopped at {done} of {total} bytes", where=url, fix="run the command again"
                )
    except urllib.error.HTTPError as exc:
        hint = "the TLC has no file for that month yet" if exc.code in (403, 404) else "try again later"
        raise DownloadError(f"HTTP {exc.code} {exc.reason}", where=url, fix=hint) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"cannot download ({reason})", where=url, fix="check the network, or use --source synthetic (works offline)"
        ) from None
    return target
