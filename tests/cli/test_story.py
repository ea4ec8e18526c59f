"""`run all` tells the course's story: every level on the same months, level 4 ahead by the end, one
figure and one page an instructor can project (opened here in a real headless Chromium). The `story` fixture
(tests/cli/conftest.py) runs it once for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import dom, looks_blank, screenshot
from tests.cli.conftest import STORY_ROWS


@pytest.mark.slow
def test_every_level_runs_on_the_same_story_and_level_4_is_ahead_by_the_last_month(story):
    assert [r["level"] for r in story["reports"]] == [0, 1, 2, 3, 4]
    assert story["months"] == ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05", "2021-06"]
    assert {r["train"] for r in story["reports"][:4]} == {"2021-01"}
    last = {str(row["level"]): row["RMSE 2021-06"] for row in story["comparison"]}
    frozen = min(last[level] for level in "0123")
    assert last["4"] <= 0.95 * frozen, last
    assert story["reports"][4]["metrics"]["retrains"] >= 1
    # the story drifts faster than the world, and says by how much wherever it is shown
    assert story["drift_note"].startswith("Stylised") and "× as fast as real 2021 months" in story["drift_note"]
    assert story["reports"][4]["details"]["drift"] == story["drift_note"]
    for level in "0123":  # the frozen models get worse as traffic returns
        curve = story["curves"][level]
        assert curve["2021-06"] > curve["2021-02"]


@pytest.mark.slow
def test_the_class_report_opens_offline_in_a_browser_with_its_table_and_figure(story, tmp_path):
    page = Path(story["files"]["class report"])
    html = page.read_text()
    assert "http://" not in html.split("<body>")[0] and "<script" not in html  # no network, no script
    rendered = dom(page.as_uri())
    levels = rendered.split('id="comparison"')[1].split("</table>")[0]
    assert levels.count("<tr>") == 6 and 'id="story"' in rendered and "data:image/png;base64," in rendered
    assert 'id="drift"' in rendered  # the story says it is stylised
    decided = rendered.split('id="decisions"')[1].split("</table>")[0]  # level 4's months, each with its reason
    assert decided.count("<tr>") == 1 + len(story["months"]) - 1 and "retrained" in decided
    shot = screenshot(page.as_uri(), tmp_path / "page.png")
    assert not looks_blank(shot)
    assert Path(story["files"]["figure"]).stat().st_size > 20_000


@pytest.mark.slow
def test_the_class_report_keeps_its_own_reports_when_a_later_run_rewrites_them(story):
    import re

    page = Path(story["files"]["class report"])
    targets = [page.parent / href for href in re.findall(r'href="([^"]+)"', page.read_text()) if "://" not in href]
    names = {t.name for t in targets}
    assert {f"level-4-drift-{m}.html" for m in story["months"][1:]} <= names, names
    assert all(t.is_file() and t.parent == page.parent / "files" for t in targets)
    # A later run replaces a level's report (atomically, as every report is written); the page's copy stays.
    original = Path(story["reports"][4]["artifacts"]["reports"]) / f"drift-{story['months'][-1]}.html"
    kept = page.parent / "files" / f"level-4-{original.name}"
    before = kept.read_bytes()
    rewritten = original.with_suffix(".new")
    rewritten.write_text("<html>a later run</html>")
    rewritten.replace(original)
    assert kept.read_bytes() == before


@pytest.mark.slow
def test_every_rmse_difference_between_levels_names_its_measured_cause(story):
    """The table's reasons are the run's numbers: level 1's dropped rows are the ones in the data and the
    whole of its difference from level 0 (a model fitted with and without them gives both RMSEs)."""
    from common.data import prepare_trips, prepare_trips_counted
    from common.model import evaluate, train
    from common.synthetic import generate_month

    first, last = "2021-02", story["months"][-1]
    why = {row["level"]: row["why"] for row in story["comparison"]}
    curves = story["curves"]
    raw = generate_month("2021-01", scenario="traffic-returns", rows=int(STORY_ROWS))
    counted = prepare_trips_counted(raw)
    dropped = counted.dropped.invalid
    assert dropped > 0 and f"without the {dropped:,} training rows" in why[1], why[1]
    assert f"{curves['0'][first]:.3f} → {curves['1'][first]:.3f}" in why[1]
    minutes = (raw.lpep_dropoff_datetime - raw.lpep_pickup_datetime).dt.total_seconds() / 60
    course_rows = raw[(minutes >= 1) & (minutes <= 60)].assign(duration=minutes)  # level 0's: no validation
    rides = prepare_trips(generate_month(first, scenario="traffic-returns", rows=int(STORY_ROWS)))  # scored rides
    assert evaluate(train(course_rows), rides) == pytest.approx(curves["0"][first], abs=1e-3)
    assert evaluate(train(counted.trips), rides) == pytest.approx(curves["1"][first], abs=1e-3)
    assert "same predictions" in why[2] and curves["2"][first] == pytest.approx(curves["1"][first], abs=1e-6)
    served = story["reports"][3]["serving"]["version"]
    winner = min(story["reports"][3]["details"]["ab_test"], key=lambda arm: arm["RMSE"])  # what the A/B measured
    named = f"v{winner['version']} ({winner['model']})"
    assert named in why[3] and "A/B winner" in why[3] and f"serves v{served}" in why[3]
    assert (str(winner["version"]) == str(served)) == ("refused its promotion" not in why[3])
    level_4 = story["reports"][4]["metrics"]
    assert f"{level_4['last_month_rmse']:.3f}, where its own first champion kept frozen scores" in why[4]
    assert f"{level_4['last_month_frozen_rmse']:.3f}" in why[4] and last in why[4]
