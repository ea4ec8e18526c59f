"""docs/levels/level-N.md, written from each level's level.toml: the page a reader on GitHub opens.

The metadata lives once, in level.toml; the pages are its rendering, kept in step by a test and
rewritten by `python3 tasks.py docs`.

    python -m teaching.level_pages            # list pages that are out of date (exit 1 if any)
    python -m teaching.level_pages --write    # rewrite them
"""

from __future__ import annotations

import sys
from pathlib import Path

from teaching.catalog import LevelInfo, load_levels

PAGES = Path(__file__).resolve().parents[1] / "docs" / "levels"


def render_page(level: LevelInfo) -> str:
    n = level.number
    lines = [
        f"# Level {n} · {level.title}",
        "",
        level.summary,
        "",
        f"The code: [`levels/level_{n}/`](../../levels/level_{n}/) · its README: "
        f"[`levels/level_{n}/README.md`](../../levels/level_{n}/README.md)",
        "",
        "## Practices at this level",
        "",
    ]
    if level.practices:
        lines += ["| practice | where | why |", "|---|---|---|"]
        lines += [f"| `{p.id}` | `{p.where}` | {p.why} |" for p in level.practices]
    else:
        lines.append("None yet: this is where every project starts.")
    commands = [f"mlops-levels explain {n}", f"mlops-levels walkthrough {n}", f"mlops-levels run {n}"]
    commands += [f"mlops-levels diff {n - 1} {n}"] if n else []
    lines += ["", "## Run it", "", "```bash", *commands, "```", "", "## Still manual", ""]
    lines += [f"- {item}" for item in level.still_manual]
    if level.carried:
        lines += ["", "## Carried from earlier levels", ""]
        lines.append("Unchanged copies (only the package name differs), kept identical by a test:")
        lines += [f"- `{name}` from level {origin}" for name, origin in sorted(level.carried.items())]
    lines += ["", "## Exercises", ""]
    for index, exercise in enumerate(level.exercises, 1):
        lines += [f"{index}. {exercise.task}  ", f"   *Hint:* {exercise.hint}"]
    return "\n".join(lines) + "\n"


def stale_pages() -> list[Path]:
    return [
        PAGES / f"level-{lv.number}.md"
        for lv in load_levels()
        if not (PAGES / f"level-{lv.number}.md").exists()
        or (PAGES / f"level-{lv.number}.md").read_text(encoding="utf-8") != render_page(lv)
    ]


def main(argv: list[str]) -> int:
    if "--write" in argv:
        for level in load_levels():
            (PAGES / f"level-{level.number}.md").write_text(render_page(level), encoding="utf-8")
        return 0
    stale = stale_pages()
    for page in stale:
        print(f"{page} is out of date: python3 tasks.py docs")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
