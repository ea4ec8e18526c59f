"""The corpus: does assess agree with the level and the practices a person gave each project?"""

from __future__ import annotations

import pytest

from assess import AssessError
from assess.catalogue import PRACTICES
from assess.tests.corpus import CORPUS, FIXTURES, expected

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
# Issue 22's cases, each modelled on a real project and rated in its README before the tool ran on it.
ISSUE_22 = {
    "anyscale_script_ci",
    "make_script_gate",
    "suspended_cronjob",
    "echo_only_schedule",
    "dead_flow",
    "test_only_monitoring",
    "invalid_ci_yaml",
    "course_monorepo",
}
RATED = [name for name in CORPUS if not expected(name).get("nothing_to_assess")]


def test_the_corpus_covers_every_case_of_the_issues():
    assert REQUIRED | ISSUE_22 <= set(CORPUS)
    assert len(CORPUS) >= 28


@pytest.mark.parametrize("name", sorted(ISSUE_22))
def test_each_new_fixture_has_a_readme_with_the_persons_rating_and_reasons(name):
    readme = (FIXTURES / name / "README.md").read_text()
    assert f"a person's rating: level {expected(name)['level']}" in readme and "Why level" in readme


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
def test_level_is_exactly_the_persons(name, assessed):
    assert assessed[name].level == expected(name)["level"], assessed[name].reasoning


def test_practice_statuses_agree_with_the_person_for_at_least_95_percent(assessed):
    pairs = [
        (name, practice, status, assessed[name].practices[practice].status)
        for name in RATED
        for practice, status in expected(name)["practices"].items()
    ]
    disagreements = [p for p in pairs if p[2] != p[3]]
    assert 1 - len(disagreements) / len(pairs) >= 0.95, disagreements


@pytest.mark.parametrize("name", [n for n in RATED if "projects" in expected(n)])
def test_a_folder_of_unrelated_projects_is_assessed_per_project(name, assessed):
    assert len(assessed[name].projects) == expected(name)["projects"]


@pytest.mark.parametrize("name", [n for n in CORPUS if expected(n).get("nothing_to_assess")])
def test_nothing_to_assess_is_said_not_scored(name, assessed):
    assert isinstance(assessed[name], AssessError)
    assert "nothing to assess" in assessed[name].one_line()
