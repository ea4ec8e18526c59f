"""What an attacker tried against the gate, and what the platform answers now.

The candidate chose the data it was judged on (120 easy rows, or the month it trained on); a registry
tag or the `champion` alias, which anyone reaching the MLflow UI can edit, stood in for the platform's
own numbers and record; a registry that could not be written left alias and traffic apart; an audit log
that could not be written answered 500 and let a forced promote through anyway.
"""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest
from conftest import ADMIN, V1, V2, V3, platform_app
from fastapi.testclient import TestClient
from training_fixtures import MODEL_NAME, RIDE


def _alias(store) -> str:
    return str(store.client().get_model_version_by_alias(MODEL_NAME, "champion").version)


def _served(platform) -> list[str]:
    return [d["version"] for d in platform.get("/deployments").json()["deployed"]]


def _audit(store) -> list[dict]:
    return [json.loads(line) for line in (store.folder / "platform" / "audit.jsonl").read_text().splitlines()]


def test_a_candidate_cannot_choose_the_data_it_is_judged_on(own_registry, prefect_api):
    from common.sources import resolve_data
    from taxi_duration.pipeline import training_pipeline

    easy = own_registry.folder / "easy.parquet"
    pd.read_parquet(resolve_data("2021-02", own_registry.config().data).path).head(120).to_parquet(easy)
    on_a_file = training_pipeline(str(easy), str(easy), "gradient_boosting")["model_version"]
    on_its_own_month = training_pipeline("2021-01..2021-02", "2021-02", "ridge")["model_version"]
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        refused = platform.post("/promote", json={"version": on_a_file}, headers=ADMIN)
        assert refused.status_code == 409, refused.text
        assert "not months" in refused.json()["detail"]["gate"]["reason"]
        # validated on a month it trained on: the platform judges it on the first month after its training
        verdict = platform.post("/evaluations", json={"version": on_its_own_month}, headers=ADMIN).json()
        assert verdict["data"] == "2021-03" and verdict["candidate_rmse"] is not None
        assert _served(platform) == [V1]


def test_a_forged_rmse_tag_does_not_open_the_gate(own_registry):
    client = own_registry.client()
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        for name in list(client.get_model_version(MODEL_NAME, V3).tags):  # nothing measured yet either
            if name.startswith("gate."):  # (its signed lineage stays: without it the gate would not measure)
                client.delete_model_version_tag(MODEL_NAME, V3, name)
        sha = client.get_run(client.get_model_version(MODEL_NAME, V3).run_id).data.tags["val_data_sha256"]
        client.set_model_version_tag(MODEL_NAME, V3, f"gate.rmse.{sha[:16]}", "0.5")
        refused = platform.post("/promote", json={"version": V3}, headers=ADMIN)
    assert refused.status_code == 409
    assert refused.json()["detail"]["gate"]["candidate_rmse"] > 1.0  # measured, not read from the tag


def test_an_alias_moved_outside_the_platform_is_put_back_and_recorded(own_registry):
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
    own_registry.client().set_registered_model_alias(MODEL_NAME, "champion", V3)  # e.g. in the MLflow UI
    with TestClient(platform_app(own_registry)) as restarted:
        assert _served(restarted) == [V1]
        assert _alias(own_registry) == V1
        refused = restarted.post("/promote", json={"version": V3}, headers=ADMIN)  # not "it is the champion"
        assert refused.status_code == 409
    repair = [a for a in _audit(own_registry) if a["action"] == "restore champion alias"]
    assert repair and repair[-1]["found"] == V3 and repair[-1]["restored"] == V1


@pytest.mark.slow
def test_a_registry_that_cannot_be_written_changes_nothing_and_answers_503(own_registry):
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        assert platform.post("/evaluations", json={"version": V2}, headers=ADMIN).json()["passed"]
        holder = sqlite3.connect(own_registry.folder / "mlflow.db", timeout=1)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the store (MLflow waits 20 s, then gives up)
        try:
            answer = platform.post("/promote", json={"version": V2}, headers=ADMIN)
        finally:
            holder.rollback()
            holder.close()
        assert answer.status_code == 503, answer.text
        assert _served(platform) == [V1]
    assert _alias(own_registry) == V1
    assert [(a["action"], a["outcome"]) for a in _audit(own_registry)[-2:]] == [
        ("promote", "passed"),
        ("promote", "failed"),
    ]


def test_an_audit_log_that_cannot_be_written_refuses_every_change_with_503(own_registry):
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        audit = own_registry.folder / "platform" / "audit.jsonl"
        audit.rename(audit.with_suffix(".kept"))
        audit.mkdir()  # a path the platform cannot append to, as a full or read-only disk would be
        forced = {"force": True, "reason": "the audit log is the point here"}
        for path, body in (
            ("/promote", {"version": V3}),
            ("/promote", {"version": V3, **forced}),
            ("/promote", {"version": V2}),
            ("/deployments", {"variants": [{"version": V2, "weight": 1}]}),
        ):
            answer = platform.post(path, json=body, headers=ADMIN)
            assert answer.status_code == 503, (body, answer.text)
            assert str(audit) in answer.text
        assert _served(platform) == [V1]
    assert _alias(own_registry) == V1


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
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        first = platform.post("/log/segment", json={"label": "2021-05"}, headers=ADMIN).json()
        assert platform.post("/predict", json=RIDE).status_code == 200
        again = platform.post("/log/segment", json={"label": "2021-05"}, headers=ADMIN).json()
        assert again == {"log": first["log"], "superseded": None}
        assert platform.post("/predict", json=RIDE).status_code == 200
    with open(first["log"], encoding="utf-8") as log:
        assert len(log.read().splitlines()) == 2
