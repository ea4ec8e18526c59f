"""What an attacker tried against the gate, and what the platform answers now.

The candidate chose the data it was judged on (120 easy rows, or the month it trained on); a registry
tag or the `champion` alias, which anyone reaching `mlops-levels ui 3` can edit, stood in for the
platform's own numbers and record; a registry that could not be written left alias and traffic apart;
an audit log that could not be written answered 500 and let a forced promote through anyway.
"""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.level_3.conftest import ADMIN


def _app(settings):
    from levels.level_3.platform_api import create_app

    return create_app(settings, admin_token="secret")


def _alias(settings) -> str:
    from levels.level_3.registry import registry_client

    return str(registry_client(settings).get_model_version_by_alias(settings.model_name, "champion").version)


def _served(platform) -> list[str]:
    return [d["version"] for d in platform.get("/deployments").json()["deployed"]]


def _audit(settings) -> list[dict]:
    return [json.loads(line) for line in (settings.level_dir(3) / "audit.jsonl").read_text().splitlines()]


def test_a_candidate_cannot_choose_the_data_it_is_judged_on(own_registry, tmp_path):
    from levels.level_3.pipeline import run_pipeline

    from common.sources import resolve_data

    settings, v1, _, _ = own_registry
    easy = tmp_path / "easy.parquet"
    pd.read_parquet(resolve_data("2021-02", settings.data).path).head(120).to_parquet(easy)
    on_a_file = run_pipeline(settings, str(easy), str(easy), "gradient_boosting")["model_version"]
    on_its_own_month = run_pipeline(settings, "2021-01..2021-02", "2021-02", "ridge")["model_version"]
    with TestClient(_app(settings)) as platform:
        assert platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN).status_code == 200
        for version, why in ((on_a_file, "not a month"), (on_its_own_month, "trained on 2021-02")):
            refused = platform.post("/promote", json={"version": version}, headers=ADMIN)
            assert refused.status_code == 409, refused.text
            assert why in refused.json()["detail"]["gate"]["reason"]
        assert _served(platform) == [v1["model_version"]]


def test_a_forged_rmse_tag_does_not_open_the_gate(own_registry):
    from levels.level_3.registry import registry_client

    settings, v1, _, v3 = own_registry
    bad = v3["model_version"]
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        client = registry_client(settings)
        for name in list(client.get_model_version(settings.model_name, bad).tags):  # nothing measured yet either
            client.delete_model_version_tag(settings.model_name, bad, name)
        sha = client.get_run(client.get_model_version(settings.model_name, bad).run_id).data.tags["val_data_sha256"]
        client.set_model_version_tag(settings.model_name, bad, f"gate.rmse.{sha[:16]}", "0.5")
        refused = platform.post("/promote", json={"version": bad}, headers=ADMIN)
    assert refused.status_code == 409
    assert refused.json()["detail"]["gate"]["candidate_rmse"] > 1.0  # measured, not read from the tag


def test_an_alias_moved_outside_the_platform_is_put_back_and_recorded(own_registry):
    from levels.level_3.registry import registry_client

    settings, v1, _, v3 = own_registry
    good, bad = v1["model_version"], v3["model_version"]
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": good}, headers=ADMIN)
    registry_client(settings).set_registered_model_alias(settings.model_name, "champion", bad)  # e.g. in `ui 3`
    with TestClient(_app(settings)) as restarted:
        assert _served(restarted) == [good]
        assert _alias(settings) == good
        refused = restarted.post("/promote", json={"version": bad}, headers=ADMIN)  # not "it is the champion"
        assert refused.status_code == 409
    repair = [a for a in _audit(settings) if a["action"] == "restore champion alias"]
    assert repair and repair[-1]["found"] == bad and repair[-1]["restored"] == good


@pytest.mark.slow
def test_a_registry_that_cannot_be_written_changes_nothing_and_answers_503(own_registry):
    settings, v1, v2, _ = own_registry
    with TestClient(_app(settings), raise_server_exceptions=False) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        assert platform.post("/evaluations", json={"version": v2["model_version"]}, headers=ADMIN).json()["passed"]
        holder = sqlite3.connect(settings.layout.mlflow_store(3), timeout=1)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the store (MLflow waits 20 s, then gives up)
        try:
            answer = platform.post("/promote", json={"version": v2["model_version"]}, headers=ADMIN)
        finally:
            holder.rollback()
            holder.close()
        assert answer.status_code == 503, answer.text
        assert _served(platform) == [v1["model_version"]]
    assert _alias(settings) == v1["model_version"]
    assert [(a["action"], a["outcome"]) for a in _audit(settings)[-2:]] == [
        ("promote", "passed"),
        ("promote", "failed"),
    ]


def test_an_audit_log_that_cannot_be_written_refuses_every_change_with_503(own_registry):
    settings, v1, v2, v3 = own_registry
    with TestClient(_app(settings), raise_server_exceptions=False) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        audit = settings.level_dir(3) / "audit.jsonl"
        audit.rename(audit.with_suffix(".kept"))
        audit.mkdir()  # a path the platform cannot append to, as a full or read-only disk would be
        forced = {"force": True, "reason": "the audit log is the point here"}
        for path, body in (
            ("/promote", {"version": v3["model_version"]}),
            ("/promote", {"version": v3["model_version"], **forced}),
            ("/promote", {"version": v2["model_version"]}),
            ("/deployments", {"variants": [{"version": v2["model_version"], "weight": 1}]}),
        ):
            answer = platform.post(path, json=body, headers=ADMIN)
            assert answer.status_code == 503, (body, answer.text)
            assert str(audit) in answer.text
        assert _served(platform) == [v1["model_version"]]
    assert _alias(settings) == v1["model_version"]


@pytest.mark.parametrize(
    "body",
    [
        {"version": "02"},
        {"version": "2", "force": "yes", "reason": "a string is not a yes"},
        {"version": "2", "force": 1, "reason": "a number is not a yes"},
        {"version": "2", "force": True, "reason": " " * 12},
        {"version": "2", "force": True, "reason": "\x00" * 12},
        {"version": "2", "surprise": True},
    ],
    ids=["leading-zero", "force-string", "force-number", "blank-reason", "nul-reason", "unknown-field"],
)
def test_admin_bodies_are_read_strictly(platform, body):
    assert platform.post("/promote", json=body, headers=ADMIN).status_code == 422
    split = {"variants": [{"version": "1", "weight": "1"}]}
    assert platform.post("/deployments", json=split, headers=ADMIN).status_code == 422


def test_an_unknown_version_is_404_for_an_evaluation_as_for_a_promote(platform):
    for path in ("/evaluations", "/promote"):
        assert platform.post(path, json={"version": "999"}, headers=ADMIN).status_code == 404


def test_asking_twice_for_the_live_log_segment_keeps_its_predictions(own_registry):
    settings, v1, _, _ = own_registry
    ride = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        first = platform.post("/log/segment", json={"label": "2021-05"}, headers=ADMIN).json()
        assert platform.post("/predict", json=ride).status_code == 200
        again = platform.post("/log/segment", json={"label": "2021-05"}, headers=ADMIN).json()
        assert again == {"log": first["log"], "superseded": None}
        assert platform.post("/predict", json=ride).status_code == 200
    with open(first["log"], encoding="utf-8") as log:
        assert len(log.read().splitlines()) == 2
