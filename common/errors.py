"""One error type the CLI knows how to print: what went wrong, where, and how to fix it."""

from __future__ import annotations


class TaxiDurationError(Exception):
    """A failure a person can act on: what went wrong, where, how to fix it. Commands print it as one
    line (`error: …`) and exit with its code, never with a traceback."""

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


# The toolkit's name for it (mlops-levels prints these, whichever side raised them).
MlopsLevelsError = TaxiDurationError


class DataError(TaxiDurationError):
    """Bad input data: missing file, missing column, wrong dtype, empty or corrupt file."""

    exit_code = 2


class UsageError(TaxiDurationError):
    """A bad argument value that Click could not catch by itself (a month, a path, a model name)."""

    exit_code = 2


class DownloadError(DataError):
    """A download failed or was cut: worth retrying, unlike a bad file."""


class StoreError(TaxiDurationError):
    """A workspace store (tracking database, prediction or decision log, model files) is damaged, full or
    read-only: nothing the command can fix by itself, and nothing it should paper over."""

    exit_code = 3


class ArtifactError(StoreError):
    """A registered model version whose files are missing or unreadable: the registry and the disk disagree."""
