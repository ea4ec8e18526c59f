"""The gate decides only on what it can verify: a candidate's lineage counts only when the training pipeline
signed it (lineage.py), and the platform chooses the month it is judged on.

The attack this answers: anyone who can write to the registry (the MLflow UI has no login) registered a
1-nearest-neighbour model fitted on the gate's own month, its run tagged as trained on the month before.
The gate read those tags, judged it on the month it had memorised, and let it through without force.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ADMIN, LEVEL_DIR, V1, V2, V3, platform_app
from fastapi.testclient import TestClient
from training_fixtures import EXPERIMENT, MODEL_NAME, RIDE, Store


def _served(platform) -> list[str]:
    return [d["version"] for d in platform.get("/deployments").json()["deployed"]]


def _champion(store: Store) -> str:
    return str(store.client().get_model_version_by_alias(MODEL_NAME, "champion").version)


def _refusal(platform, version: str) -> dict:
    answer = platform.post("/promote", json={"version": version}, headers=ADMIN)
    assert answer.status_code == 409, answer.text
    return answer.json()["detail"]


def forge(store: Store, tags_from: str | None = None) -> str:
    """What the attacker did, with MlflowClient only: a KNN(1) fitted on the gate's month (2021-02), its run
    tagged as trained on 2021-01 and validated on 2021-02 (the real file's sha256, copied from an honest
    run), registered as the next version; with `tags_from`, that honest version's signed lineage copied too."""
    import tempfile

    import mlflow.sklearn
    from sklearn.neighbors import KNeighborsRegressor

    from common import model as ml
    from common.data import load_prepared
    from common.sources import resolve_data

    client = store.client()
    honest_run = client.get_run(client.get_model_version(MODEL_NAME, V1).run_id).data.tags
    gate_month = load_prepared(resolve_data("2021-02", store.config().data).path)
    knn = ml.build_model("gradient_boosting").set_params(model=KNeighborsRegressor(n_neighbors=1))
    knn.fit(ml.features_of(gate_month), gate_month["duration"].to_numpy())
    forged = {name: honest_run[name] for name in ("train_data", "train_data_sha256", "val_data", "val_data_sha256")}
    run = client.create_run(client.get_experiment_by_name(EXPERIMENT).experiment_id, tags=forged)
    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / "model"
        mlflow.sklearn.save_model(knn, saved, serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)
        client.log_artifacts(run.info.run_id, str(saved), "model")
    client.set_terminated(run.info.run_id)
    version = str(client.create_model_version(MODEL_NAME, f"{run.info.artifact_uri}/model", run.info.run_id).version)
    if tags_from:
        for name in ("lineage", "lineage.signature"):
            value = client.get_model_version(MODEL_NAME, tags_from).tags[name]
            client.set_model_version_tag(MODEL_NAME, version, name, value)
    return version


def test_a_model_fitted_on_the_gates_month_with_forged_tags_is_refused(own_registry):
    forged = forge(own_registry)
    copied = forge(own_registry, tags_from=V2)
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        unsigned = _refusal(platform, forged)
        assert f"v{forged} has no signed lineage" in unsigned["error"]
        assert "LINEAGE_SIGNING_KEY_FILE" in unsigned["fix"] and "taxi_duration.pipeline" in unsigned["fix"]
        assert unsigned["gate"]["candidate_rmse"] is None  # not measured: there is nothing to measure it against
        stolen = _refusal(platform, copied)
        assert "a signature copied from another version" in stolen["error"]
        assert _served(platform) == [V1]
        assert platform.post("/promote", json={"version": V2}, headers=ADMIN).status_code == 200  # honest: passes
    assert _champion(own_registry) == V2


def test_the_pipeline_signs_what_it_registered_and_the_platform_verifies_it(registry):
    from taxi_duration.lineage import copy_model_files, files_digest, public_key, verified_lineage

    store, v1, _ = registry
    lineage = verified_lineage(store.config(), V1, public_key())
    assert (lineage.version, lineage.run_id) == (V1, v1["run_id"])
    assert (lineage.train_data, lineage.val_data, lineage.pipeline) == ("2021-01", "2021-02", "taxi_duration.pipeline")
    tags = store.client().get_run(v1["run_id"]).data.tags  # the tags people read say the same as the record
    assert (lineage.train_sha256, lineage.val_sha256) == (tags["train_data_sha256"], tags["val_data_sha256"])
    assert lineage.git_commit == tags["git_commit"]
    assert v1["lineage_signed"] is True
    copy = copy_model_files(store.config(), V1, store.folder.parent / "v1-copy")
    assert files_digest(copy) == lineage.model_sha256


def test_an_edited_record_does_not_verify(own_registry):
    client = own_registry.client()
    record = json.loads(client.get_model_version(MODEL_NAME, V3).tags["lineage"])
    record["train_data"] = "2020-12"  # "it never saw 2021-01": the gate would judge it on the month it trained on
    client.set_model_version_tag(MODEL_NAME, V3, "lineage", json.dumps(record, sort_keys=True, separators=(",", ":")))
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        assert "is not signed by the training pipeline's key" in _refusal(platform, V3)["error"]


def test_model_files_replaced_after_signing_are_refused(own_registry):
    from taxi_duration.registry import model_location, resolve_version

    config = own_registry.config()
    honest, worse = (Path(model_location(config, resolve_version(config, v))) for v in (V2, V3))
    assert honest.is_relative_to(own_registry.folder)  # the copy's own files, never the session's
    shutil.copy2(worse / "model.pkl", honest / "model.pkl")  # v2's name and signature, v3's far worse model
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        assert "not the ones the pipeline signed" in _refusal(platform, V2)["error"]
        assert _served(platform) == [V1]


@pytest.mark.parametrize("damage", ["a linked folder", "files made a file"])
def test_model_files_a_writer_tampered_with_are_refused_not_a_server_error(own_registry, damage):
    from taxi_duration.registry import model_location, resolve_version

    config = own_registry.config()
    files = Path(model_location(config, resolve_version(config, V2)))
    if damage == "a linked folder":  # a link to a folder is a folder to is_dir(): it must not slip past the digest
        (files / "extra").symlink_to(files.parent, target_is_directory=True)
    else:
        shutil.rmtree(files)
        files.write_text("not a model")
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        refused = _refusal(platform, V2)  # 409 with the reason, never a 500
        assert "symbolic link" in refused["error"] or "cannot be read" in refused["error"], refused
        assert _served(platform) == [V1]


def test_an_unsigned_version_is_refused_even_with_no_champion_yet(own_registry):
    client = own_registry.client()
    for name in ("lineage", "lineage.signature"):
        client.delete_model_version_tag(MODEL_NAME, V2, name)
    with TestClient(platform_app(own_registry)) as platform:
        assert "v2 has no signed lineage" in _refusal(platform, V2)["error"]  # the first champion is signed too
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        forced = {"version": V2, "force": True, "reason": "a rollback to a version from before signing"}
        assert platform.post("/promote", json=forced, headers=ADMIN).status_code == 200  # a human may, recorded
        # the champion needs no signature: it is measured, on the month the candidate's lineage gives
        verdict = platform.post("/evaluations", json={"version": V1}, headers=ADMIN).json()
        assert verdict["champion_version"] == V2 and verdict["champion_rmse"] is not None


def test_a_signature_from_another_key_does_not_verify(own_registry, tmp_path):
    from taxi_duration.lineage import keygen
    from taxi_duration.platform_api import create_app

    _, other = keygen(tmp_path / "other")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LINEAGE_PUBLIC_KEY_FILE", str(other))
        with TestClient(create_app(own_registry.config(), own_registry.folder / "platform", "secret")) as platform:
            assert "signed with another key" in _refusal(platform, V1)["error"]
        mp.delenv("LINEAGE_PUBLIC_KEY_FILE")
        with TestClient(create_app(own_registry.config(), own_registry.folder / "platform", "secret")) as platform:
            assert "LINEAGE_PUBLIC_KEY_FILE is not set" in _refusal(platform, V1)["error"]


def test_key_files_others_could_read_or_replace_are_refused(tmp_path, monkeypatch):
    from common.errors import StoreError, UsageError
    from taxi_duration.lineage import Lineage, keygen, public_key, signing_key

    private, public = keygen(tmp_path / "keys")
    assert private.stat().st_mode & 0o777 == 0o600
    with pytest.raises(UsageError, match="exists already"):
        keygen(tmp_path / "keys")  # a key pair is never overwritten: its signatures would stop verifying
    monkeypatch.setenv("LINEAGE_SIGNING_KEY_FILE", str(private))
    monkeypatch.setenv("LINEAGE_PUBLIC_KEY_FILE", str(public))
    record = Lineage("m", "1", "r", "2021-01", "a", "2021-02", "b", "c", "p", "g").to_bytes()
    public_key().verify(signing_key().sign(record), record)  # the round trip
    private.chmod(0o640)
    with pytest.raises(StoreError, match="can be read or written by others"):
        signing_key()
    public.chmod(0o666)
    with pytest.raises(StoreError, match="can be written by others"):
        public_key()


@pytest.mark.slow
def test_the_pipeline_without_a_key_registers_unsigned_and_says_so(project, prefect_api):
    env = {**os.environ, "LINEAGE_SIGNING_KEY_FILE": "", "PYTHONPATH": str(LEVEL_DIR)}
    command = [sys.executable, "-m", "taxi_duration.pipeline", "--json"]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lineage_signed"] is False
    assert "v1 is not signed (LINEAGE_SIGNING_KEY_FILE is not set)" in done.stdout + done.stderr
    wide = project / "wide.key"
    wide.write_text("a key others can read is refused before it is even parsed")
    wide.chmod(0o644)
    env["LINEAGE_SIGNING_KEY_FILE"] = str(wide)
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 3 and "can be read or written by others" in done.stderr  # before any training


@pytest.mark.parametrize(
    ("trained", "validated", "judged"),
    [
        ("2021-01", "2021-02", "2021-02"),  # the usual: the month after its training
        ("2021-01,2021-02", "2021-05", "2021-05"),  # across a gap: the month it was made for, not 2021-03
        ("2021-01..2021-02", "2021-02", "2021-03"),  # validated on a month it trained on: the month after
    ],
)
def test_the_platform_judges_on_the_signed_month_after_training_or_the_one_after(
    own_registry, trained, validated, judged
):
    from dataclasses import replace

    from common.data import fingerprint
    from common.sources import resolve_data
    from taxi_duration.gate import evaluation_data
    from taxi_duration.lineage import Lineage

    config = own_registry.config()
    sha = fingerprint(resolve_data(validated, config.data).path)
    lineage = Lineage(MODEL_NAME, "9", "run", trained, "x" * 64, validated, sha, "y" * 64, "taxi_duration.pipeline", "")
    month, judged_sha = evaluation_data(config, lineage)
    assert month == judged and judged_sha == fingerprint(resolve_data(judged, config.data).path)
    if judged == validated:  # a file that is not the one signed is refused, never measured
        with pytest.raises(Exception, match="is not the file"):
            evaluation_data(config, replace(lineage, val_sha256="0" * 64))


@pytest.mark.parametrize("change", ["its files replaced in place", "the model deleted and registered anew"])
def test_a_champion_changed_in_the_registry_after_its_promotion_is_not_served(own_registry, change):
    """Anyone who can write to the registry (the MLflow UI has no login) could change a promoted version's
    files, or delete the model and register other files under the same version numbers: the platform
    records which run and files it promoted, and serves a champion only while they are the same."""
    from taxi_duration.registry import model_location, resolve_version

    config = own_registry.config()
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V2}, headers=ADMIN).status_code == 200
    client = own_registry.client()
    if change == "its files replaced in place":
        honest, worse = (Path(model_location(config, resolve_version(config, v))) for v in (V2, V3))
        shutil.copy2(worse / "model.pkl", honest / "model.pkl")
    else:
        sources = [client.get_model_version(MODEL_NAME, v) for v in (V3, V3)]  # v3's run, twice: v1 and v2 anew
        client.delete_registered_model(MODEL_NAME)
        client.create_registered_model(MODEL_NAME)
        for source in sources:
            client.create_model_version(MODEL_NAME, source.source, source.run_id, model_id=source.model_id)
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as platform:
        health = platform.get("/health")
        assert health.status_code == 503 and "not the model this platform promoted" in health.text, health.text
        assert platform.post("/predict", json=RIDE).status_code == 503  # nothing else serves in its place
