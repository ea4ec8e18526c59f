"""The class report of `run all`: one figure (every level's RMSE, month by month) and one self-contained
HTML page (the table, the figure, each level's practices, links to its reports and UIs).

The page works from file:// with no network: the figure is inlined as a PNG, there is no script and
no external stylesheet, and links to the Evidently reports are relative to the page.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from common.atomic import write_bytes_atomic, write_text_atomic
from common.sources import describe_source
from teaching.catalog import get_level
from teaching.infra.config import Settings
from teaching.scenarios import drift_note

COLORS = {"0": "#9e9e9e", "1": "#b39ddb", "2": "#90caf9", "3": "#ffcc80", "4": "#2e7d32"}


def plot_story(curves: dict[str, dict[str, float]], retrains: list[str], title: str) -> bytes:
    """RMSE per month for every level, retrains marked; the axis starts at 0 so noise cannot pass for a trend."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 4.8))
    months = sorted({m for curve in curves.values() for m in curve})
    x = range(len(months))
    for levels in _same_curves(curves):
        level, frozen = levels[0], levels[0] != "4"
        names = ", ".join(levels)
        if len(levels) > 1:  # one line drawn over another would hide a level: say they coincide
            label = f"levels {names} (the same model on the same data: the lines coincide)"
        else:
            label = f"level {level} ({get_level(int(level)).title}){', serving what it trained' if frozen else ''}"
        axis.plot(
            x,
            [curves[level].get(m, math.nan) for m in months],  # a month a level did not score is a gap
            marker="o",
            color=COLORS.get(level, "black"),
            linewidth=1.5 if frozen else 3,
            linestyle="--" if frozen else "-",
            label=label,
        )
    for month in retrains:  # a retrain decided after month M serves from month M+1: the line sits between
        if month in months:
            position = months.index(month) + 0.5
            last = position > len(months) - 1
            axis.axvline(position, color=COLORS["4"], linestyle=":", alpha=0.8)
            axis.annotate(  # at the top: the legend sits at the bottom
                "retrained (serves next month)" if last else "level 4 retrained",
                (position, 1),
                xycoords=axis.get_xaxis_transform(),
                textcoords="offset points",
                xytext=(-3 if last else 3, -12),
                horizontalalignment="right" if last else "left",
                color=COLORS["4"],
                fontsize=8,
            )
            if last:
                axis.set_xlim(-0.3, position + 0.2)
    axis.set_xticks(list(x), months)
    top = max(v for curve in curves.values() for v in curve.values())
    axis.set(title=title, xlabel="month served", ylabel="RMSE (minutes)", ylim=(0, top * 1.15))
    axis.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _same_curves(curves: dict[str, dict[str, float]]) -> list[list[str]]:
    """Levels grouped by identical curves, in level order."""
    groups: dict[tuple[tuple[str, float], ...], list[str]] = {}
    for level, curve in sorted(curves.items()):
        groups.setdefault(tuple((m, round(v, 9)) for m, v in sorted(curve.items())), []).append(level)
    return sorted(groups.values())


def _cell(value: Any) -> str:
    return html.escape(f"{value:.3f}" if isinstance(value, float) else str(value))


def _link(path: Path, page_dir: Path, label: str) -> str:
    return f'<a href="{html.escape(os.path.relpath(path, page_dir))}">{html.escape(label)}</a>'


def _links(reports: list[dict[str, Any]], months: list[str], page_dir: Path) -> list[str]:
    """Links to this story's own reports, kept beside the page: a later run rewrites a level's report
    folder, and the class report must still show what this story measured."""
    kept = page_dir / "files"
    if kept.exists():
        shutil.rmtree(kept)
    kept.mkdir(parents=True)
    links = []
    for report in reports:
        for name, path in _report_files(report, months):
            target = kept / f"level-{report['level']}-{name}"
            _keep(Path(path), target)
            links.append(_link(target, page_dir, f"level {report['level']}: {name}"))
    return links


def _html_table(table_id: str, rows: list[dict[str, Any]]) -> str:
    """Rows of one shape as an HTML table: a header from the first row's keys, a line per row."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _decisions_table(reports: list[dict[str, Any]]) -> str:
    """What level 4 decided each month and why (the rules that fired), from its decision log's rows."""
    rows: list[dict[str, Any]] = next((r["details"]["month_by_month"] for r in reports if r["level"] == 4), [])
    if not rows:
        return ""
    return (
        "<h2>What level 4 decided, month by month, and why</h2>"
        + _html_table("decisions", rows)
        + "<p>rules: what fired (drift share ≥ 50%, or RMSE 10% worse than at promotion); then: what the loop did."
        " A month where no rule fired keeps its model: deciding not to retrain is a decision too.</p>"
    )


def _report_files(report: dict[str, Any], months: list[str]) -> list[tuple[str, str]]:
    files = dict(report["details"].get("report_files") or {})
    if report["level"] == 4:  # each month's reports are named in level 4's decision log, one JSON a line
        log = Path(report["artifacts"]["decisions"]).read_text(encoding="utf-8")
        for decision in (json.loads(line) for line in log.splitlines() if line.strip()):
            if decision["month"] in months:
                files |= decision.get("reports") or {}
    return [(name, path) for name, path in files.items() if name.endswith(".html")]


def _keep(source: Path, target: Path) -> None:
    # Reports are replaced atomically (a new inode each time), so a hard link keeps this story's copy
    # for free; another file system needs a real copy.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _page(
    settings: Settings,
    table: list[dict[str, Any]],
    png: bytes,
    reports: list[dict[str, Any]],
    months: list[str],
    page_dir: Path,
) -> str:
    from teaching.infra.services import running_prefect_api

    comparison = _html_table("comparison", table)
    levels = "".join(
        f"<li><b>Level {lv.number} · {html.escape(lv.title)}</b>: "
        + (", ".join(html.escape(p.title) for p in lv.practices) or "no practice yet")
        + "</li>"
        for lv in (get_level(r["level"]) for r in reports)
    )
    links = "".join(f"<li>{link}</li>" for link in _links(reports, months, page_dir)) or "<li>none yet</li>"
    prefect = running_prefect_api(settings)
    prefect_ui = (
        f'<a href="{prefect.removesuffix("/api")}/runs">{prefect.removesuffix("/api")}/runs</a>'
        if prefect
        else "not running"
    )
    image = base64.b64encode(png).decode()
    loop = _decisions_table(reports)
    note = drift_note(settings.data)
    drift = f'<p id="drift"><b>{html.escape(note)}</b></p>' if note else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mlops-levels · class report</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
th{{background:#f0f0f0}}img{{max-width:100%}}code{{background:#f4f4f4;padding:0 .2rem}}</style></head>
<body><h1>One taxi-duration model, five maturity levels</h1>
<p>Data: {html.escape(describe_source(settings.data))}; months {html.escape(months[0])} to {html.escape(months[-1])}.
Levels 0–3 keep serving the model they trained on {html.escape(months[0])}; level 4 watches every month and
retrains when the data moves.</p>{drift}
{comparison}
<h2>RMSE of the model each level serves, month by month</h2>
<img id="story" alt="RMSE per month for every level" src="data:image/png;base64,{image}">
{loop}<h2>What each level has</h2><ul>{levels}</ul>
<h2>Reports and runs</h2><ul>{links}</ul>
<p>MLflow runs: <code>mlops-levels ui 3</code> (or 2, 4), then http://127.0.0.1:5000 ·
Prefect flow runs: {prefect_ui}</p>
</body></html>
"""


def write_class_report(
    settings: Settings,
    reports: list[dict[str, Any]],
    curves: dict[str, dict[str, float]],
    table: list[dict[str, Any]],
    months: list[str],
) -> dict[str, str]:
    folder = settings.layout.report
    retrains = [
        d["month"]
        for r in reports
        if r["level"] == 4
        for d in r["details"]["month_by_month"]
        if d["then"].startswith("retrained")
    ]
    png = plot_story(curves, retrains, f"RMSE of the model each level serves · {describe_source(settings.data)}")
    write_bytes_atomic(folder / "story.png", png)
    write_text_atomic(folder / "index.html", _page(settings, table, png, reports, months, folder))
    return {"figure": str(folder / "story.png"), "class report": str(folder / "index.html")}
