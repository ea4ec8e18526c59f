"""The docs are checked like code: every level has a page that names its practices and exercises."""

from __future__ import annotations

import re

import pytest

from teaching.catalog import PRACTICES, load_levels
from tests.conftest import REPO

DOCS = REPO / "docs"


@pytest.mark.parametrize("level", load_levels(), ids=lambda lv: f"level_{lv.number}")
def test_each_level_has_a_page_with_its_practices_and_exercises(level):
    page = (DOCS / "levels" / f"level-{level.number}.md").read_text()
    assert level.title in page and level.summary in page
    for practice in level.practices:
        assert f"`{practice.id}`" in page
    for exercise in level.exercises:
        assert exercise.task in page


def test_level_pages_are_rendered_from_level_toml():
    from teaching.level_pages import stale_pages

    assert stale_pages() == [], "run: python3 tasks.py docs"


def test_maturity_model_names_every_practice_and_links_resolve():
    text = (DOCS / "maturity-model.md").read_text()
    for title in PRACTICES.values():
        assert title in text
    for doc in DOCS.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", doc.read_text()):
            assert (doc.parent / target).exists(), (doc, target)


def test_glossary_and_guide_cover_what_the_issue_asks():
    glossary = (DOCS / "glossary.md").read_text()
    for term in ("Experiment", "Run", "Artifact", "Metadata", "Model registry", "Alias", "Data drift"):
        assert f"**{term}" in glossary
    guide = (DOCS / "instructor-guide.md").read_text()
    for topic in ("Lesson plan", "port 5000", "TLC", "version drift"):
        assert topic in guide


@pytest.mark.parametrize("level", load_levels(), ids=lambda lv: f"level_{lv.number}")
def test_readme_commands_fit_the_explain_page_of_an_80_column_terminal(level):
    # `explain` prints the README in a panel (4 columns of border and padding): a longer command wraps
    # mid-option, and a student who copies it gets two broken lines.
    blocks = re.findall(r"^```\w*\n(.*?)^```", level.readme, flags=re.MULTILINE | re.DOTALL)
    long = [line for block in blocks for line in block.splitlines() if len(line) > 76]
    assert long == []
