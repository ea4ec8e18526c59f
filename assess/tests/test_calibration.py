"""The corpus: does assess agree with the level and the practices a person gave each project?"""

from __future__ import annotations

import pytest

from assess import AssessError
from assess.catalogue import PRACTICES
from assess.tests.corpus import CORPUS, expected

STATUSES = {"found", "partial", "absent"}
# The cases issue 13 asks the corpus to cover, by fixture name.
REQUIRED = {
    "empty",
    "readme_only",
    "notebook_only",
    "notebook_mlflow",
    "scripts_pytest",
    "ci_without_tests",
    "tracked_pipeline_scheduled",
    "scoring_cron",
    "monitoring_without_retraining",
    "full_loop",
    "comments_and_strings",
    "dvc_no_training",
    "fixture_named_test",
    "dead_code_practices",
}
RATED = [name for name in CORPUS if not expected(name).get("nothing_to_assess")]


def test_the_corpus_covers_every_case_of_the_issue():
    assert REQUIRED <= set(CORPUS)
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("name", CORPUS)
def test_every_fixture_says_what_a_person_gives_it_and_why(name):
    person = expected(name)
    assert person["why"].strip() and person["imitates"].strip()
    if person.get("nothing_to_assess"):
        return
    assert person["level"] in range(5)
    assert set(person["practices"]) == set(PRACTICES)
    assert set(person["practices"].values()) <= STATUSES


@pytest.mark.parametrize("name", RATED)
def test_level_is_within_one_of_the_persons(name, assessed):
    result = assessed[name]
    assert not isinstance(result, AssessError), result
    person = expected(name)["level"]
    assert abs(result.level - person) <= 1, (result.level, person, result.reasoning)


def test_level_is_exact_for_at_least_80_percent_of_the_corpus(assessed):
    exact = [name for name in RATED if assessed[name].level == expected(name)["level"]]
    misses = {name: (assessed[name].level, expected(name)["level"]) for name in RATED if name not in exact}
    assert len(exact) / len(RATED) >= 0.8, misses


def test_practice_statuses_agree_with_the_person_for_at_least_90_percent(assessed):
    pairs = [
        (name, practice, status, assessed[name].practices[practice].status)
        for name in RATED
        for practice, status in expected(name)["practices"].items()
    ]
    disagreements = [p for p in pairs if p[2] != p[3]]
    assert 1 - len(disagreements) / len(pairs) >= 0.9, disagreements


@pytest.mark.parametrize("name", [n for n in CORPUS if expected(n).get("nothing_to_assess")])
def test_nothing_to_assess_is_said_not_scored(name, assessed):
    assert isinstance(assessed[name], AssessError)
    assert "nothing to assess" in assessed[name].one_line()
