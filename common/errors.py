"""One error type the CLI knows how to print: what went wrong, where, and how to fix it."""

from __future__ import annotations


class MlopsLevelsError(Exception):
    """A failure a person can act on. The CLI prints it as one line, never a traceback."""

    exit_code = 1

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = self.what
        if self.where:
            text = f"{self.where}: {text}"
        if self.fix:
            text = f"{text} — {self.fix}"
        return text


class DataError(MlopsLevelsError):
    """Bad input data: missing file, missing column, wrong dtype, empty or corrupt file."""

    exit_code = 2


class UsageError(MlopsLevelsError):
    """A bad argument value that Click could not catch by itself (a month, a path, a model name)."""

    exit_code = 2


class DownloadError(DataError):
    """A download failed or was cut: worth retrying, unlike a bad file."""


class StoreError(MlopsLevelsError):
    """A workspace store is damaged, full or read-only: the disk or the file is at fault, not the input."""

    exit_code = 3
