"""Months as the toolkit writes them (`2021-01`), and lists of them: `2021-01..2021-06`, `2023-01,2024-01`.

Standard library only, so the CLI can validate a month before it imports anything heavy.
"""

from __future__ import annotations

import datetime
import re

from common.errors import UsageError

# The shapes below take any Unicode digit (Python's \d), so that `２０２１-０１` is refused as a month
# by parse_month, with a reason, instead of being looked for as a file. parse_month takes ASCII only.
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_MONTHS = re.compile(r"^\d{4}-\d{2}(\.\.\d{4}-\d{2})?(,\d{4}-\d{2}(\.\.\d{4}-\d{2})?)*$")
_ASCII_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
FIRST_YEAR = 2009  # the first month of NYC TLC trip records


def parse_month(text: str) -> tuple[int, int]:
    """`2021-01` -> (2021, 1); anything else is a UsageError saying what a month looks like.

    A month is between 2009-01 and the end of next year: `0001-01..9999-12` would otherwise be
    trained on, or expanded into 120,000 months, before anything noticed.
    """
    match = _ASCII_MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise UsageError(f"{text!r} is not a month", fix="write it as YYYY-MM with the digits 0-9, e.g. 2021-01")
    year, month = int(match.group(1)), int(match.group(2))
    last_year = datetime.date.today().year + 1
    if not FIRST_YEAR <= year <= last_year:
        raise UsageError(
            f"{text.strip()} is not between {FIRST_YEAR}-01 and {last_year}-12",
            fix="TLC trip records begin in 2009-01; pick a month in that range, e.g. 2021-01",
        )
    return year, month


def is_month(text: str) -> bool:
    return bool(_MONTH.match(text.strip()))


def is_month_list(text: str) -> bool:
    """True for `2021-01`, `2021-01..2021-03` or `2023-01,2024-01` (a path like `../x.parquet` is not)."""
    return bool(_MONTHS.match(text.replace(" ", "")))


def _index(month: str) -> int:
    year, mon = parse_month(month)
    return year * 12 + mon - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(spec: str) -> list[str]:
    """The months a spec names, in order: `2021-01..2021-06`, `2023-01,2023-02,2024-01`, or both mixed.

    Gaps are allowed (real data has missing months); repeats and a list that goes backwards are not,
    because a month served twice would be decided twice.
    """
    months: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        first, sep, last = part.partition("..")
        if not sep:
            parse_month(first)
            months.append(first.strip())
            continue
        start, stop = _index(first), _index(last)
        if stop < start:
            raise UsageError(f"{part!r} runs backwards", fix="write the earlier month first")
        months += [_month(i) for i in range(start, stop + 1)]
    ordered = [_index(m) for m in months]
    if ordered != sorted(set(ordered)):
        raise UsageError(f"{spec!r} repeats a month or is out of order", fix="list each month once, earliest first")
    return months


def next_month(month: str) -> str:
    return _month(_index(month) + 1)


def previous_month(month: str) -> str:
    return _month(_index(month) - 1)


def months_apart(earlier: str, later: str) -> int:
    """How many calendar months `later` is after `earlier` (2023-03, 2024-01 -> 10)."""
    return _index(later) - _index(earlier)


def months_before(month: str, count: int) -> list[str]:
    """The `count` calendar months just before `month`, earliest first."""
    return [_month(_index(month) - k) for k in range(count, 0, -1)]
