"""The one error assess raises: a folder it cannot score, said as what, where and how to fix it.

Its own type, so the package needs nothing of the toolkit; the CLI turns it into its usage error.
"""

from __future__ import annotations


class AssessError(Exception):
    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text} — {self.fix}" if self.fix else text
