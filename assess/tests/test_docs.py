"""docs/assess.md explains every detector, what assess cannot see, and how to read it."""

from __future__ import annotations

from assess.catalogue import PRACTICES
from assess.detectors import DETECTORS
from assess.scoring import DEFINING
from assess.tests.corpus import REPO

DOC = (REPO / "docs" / "assess.md").read_text()


def test_every_detector_and_the_construct_it_needs_is_documented():
    for detector in DETECTORS:
        row = next(line for line in DOC.splitlines() if f"(`{detector.practice}`)" in line)
        assert PRACTICES[detector.practice] in row and f"| {detector.level} |" in row


def test_the_level_rule_and_the_blind_spots_are_documented():
    for heading in ("## How statuses become levels", "## What it cannot see", "## How to read the scorecard"):
        assert heading in DOC
    assert "**People and process.**" in DOC and "**Anything outside the folder.**" in DOC
    assert all(f"{level} " in DOC for level in DEFINING)


def test_the_maturity_model_links_to_it():
    assert "](assess.md)" in (REPO / "docs" / "maturity-model.md").read_text()
