"""Exercise regions: where a level's own code for a practice is taken out of a copy, and what it was.

A region is marked by a trailing comment on a line that is there anyway, so a level stays a clean,
complete project and its line numbers do not move (the walkthrough names lines):

    def run_tags(data: dict) -> dict[str, str]:  # [exercise: run-tags]
        ...                      <- block form: the body under a marked header (its docstring stays)

    drift = Report(  # [exercise: drift-report]
        ...
    drifted = [...]  # [/exercise: drift-report]      <- span form: from the first marked line to the last

`diff` and `walkthrough` read level files through `strip_markers`, so students never see the markers.
Standard library only: the CLI's metadata commands use this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.errors import MlopsLevelsError

# An optional "#" (when the marker is the line's only comment), then the marker itself, at the line's end.
MARKER = re.compile(r"[ \t]*(?:#[ \t]*)?\[(/?)exercise: ([a-z0-9-]+)\][ \t]*$")
_QUOTES = ('"""', "'''")


@dataclass(frozen=True)
class Region:
    """Lines [start, end) of a file (0-based) that an exercise takes out, and their indentation."""

    start: int
    end: int
    indent: str


def strip_markers(text: str) -> str:
    """The text without exercise markers (and without the `#` of a comment that held only a marker)."""
    return "".join(_strip_line(line) for line in text.splitlines(keepends=True))


def _strip_line(line: str) -> str:
    body = line.rstrip("\r\n")
    return MARKER.sub("", body) + line[len(body) :]


def _marker(line: str) -> tuple[bool, str] | None:
    """(is_end, exercise id) of the marker on this line, if any."""
    found = MARKER.search(line.rstrip("\r\n"))
    return (found.group(1) == "/", found.group(2)) if found else None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _after_docstring(lines: list[str], first: int) -> int:
    """The first line after a docstring that starts at line `first` (or `first` when there is none)."""
    head = lines[first].strip() if first < len(lines) else ""
    quote = next((q for q in _QUOTES if head.startswith(q)), None)
    if quote is None:
        return first
    if head.count(quote) >= 2 and len(head) > 3:
        return first + 1
    for index in range(first + 1, len(lines)):
        if quote in lines[index]:
            return index + 1
    return len(lines)


def _block(lines: list[str], header: int) -> tuple[int, int]:
    """The body under a header line: every following line indented deeper, blank lines inside included."""
    depth = len(_indent(lines[header]))
    first = next((i for i in range(header + 1, len(lines)) if lines[i].strip()), len(lines))
    start = _after_docstring(lines, first)
    end = start
    for index in range(start, len(lines)):
        if lines[index].strip() and len(_indent(lines[index])) <= depth:
            break
        if lines[index].strip():
            end = index + 1  # trailing blank lines separate this block from the next: they stay
    return start, end


def find_regions(text: str, exercise_id: str, where: str = "") -> list[Region]:
    """Every region of one exercise in a file, in order."""
    lines = text.splitlines(keepends=True)
    regions, index = [], 0
    while index < len(lines):
        found = _marker(lines[index])
        if found is None or found != (False, exercise_id):
            index += 1
            continue
        end_marker = next((j for j in range(index, len(lines)) if _marker(lines[j]) == (True, exercise_id)), None)
        next_start = next((j for j in range(index + 1, len(lines)) if _marker(lines[j]) == (False, exercise_id)), None)
        if end_marker is not None and (next_start is None or end_marker < next_start):
            start, end = index, end_marker + 1
        else:
            start, end = _block(lines, index)
        if end <= start:
            raise MlopsLevelsError(f"the region of exercise {exercise_id} is empty", where=f"{where}:{index + 1}")
        regions.append(Region(start, end, _indent(lines[start])))
        index = end
    return regions


def take_out(text: str, exercise_id: str, stubs: list[tuple[str, str]], where: str = "") -> str:
    """The text with each region replaced by its (todo, stub): a TODO line, then the stub; markers stripped."""
    lines = text.splitlines(keepends=True)
    regions = find_regions(text, exercise_id, where)
    if len(regions) != len(stubs):
        raise MlopsLevelsError(
            f"exercise {exercise_id} has {len(regions)} region(s) in {where} but {len(stubs)} stub(s)", where=where
        )
    for region, (todo, stub) in reversed(list(zip(regions, stubs, strict=True))):
        replacement = [f"{region.indent}# TODO(exercise {exercise_id}): {todo}\n"]
        replacement += [f"{region.indent}{line}\n" if line else "\n" for line in stub.splitlines()]
        lines[region.start : region.end] = replacement
    return strip_markers("".join(lines))


def region_code(text: str, exercise_id: str, where: str = "") -> list[tuple[int, str]]:
    """The level's own code of each region: (first line number, the code without markers)."""
    lines = text.splitlines(keepends=True)
    return [
        (region.start + 1, strip_markers("".join(lines[region.start : region.end])))
        for region in find_regions(text, exercise_id, where)
    ]
