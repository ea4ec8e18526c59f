"""Forged training metadata does not pass the gate (issue 23, point 2).

The attack, as it was measured: anyone who can write to a workspace's registry (the MLflow UI on 127.0.0.1
has no login) registered a 1-nearest-neighbour model fitted on the gate's own month, its run tagged as
trained on the month before. The gate took the month it judged on from those tags, the model had
memorised it, and it went in with no force. Now the platform the toolkit starts holds only the public
half of the workspace's lineage key pair and verifies what the level's pipeline signed; the tags are
for people.
"""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import SMALL_MONTH_ROWS

LEVEL = 3
TOKEN = "forged-lineage-admin-token"


def _forge(settings, tags_from: str | None = None) -> str:
    """The attacker's KNN(1) on 2021-02, registered with MlflowClient only, its run's tags copied from v1's
    (trained on 2021-01, validated on 2021-02 with that file's real sha256); with `tags_from`, that honest
    version's signed lineage copied onto it as well."""
    import mlflow.sklearn
    from mlflow import MlflowClient
    from sklearn.neighbors import KNeighborsRegressor

    from common import model as ml
    from common.data import load_prepared
    from common.sources import resolve_data
    from teaching.levelproc import tracking_uri

    uri = tracking_uri(LEVEL, settings)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    honest = client.get_run(client.get_model_version(settings.model_name, "1").run_id)
    gate_month = load_prepared(resolve_data("2021-02", settings.data).path)
    knn = ml.build_model("gradient_boosting").set_params(model=KNeighborsRegressor(n_neighbors=1))
    knn.fit(ml.features_of(gate_month), gate_month["duration"].to_numpy())
    names = ("train_data", "train_data_sha256", "val_data", "val_data_sha256", "git_commit")
    run = client.create_run(honest.info.experiment_id, tags={n: honest.data.tags[n] for n in names})
    with tempfile.TemporaryDirectory(dir=settings.level_dir(LEVEL)) as scratch:
        saved = Path(scratch) / "model"
        mlflow.sklearn.save_model(knn, saved, serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE)
        client.log_artifacts(run.info.run_id, str(saved), "model")
    client.set_terminated(run.info.run_id)
    created = client.create_model_version(settings.model_name, f"{run.info.artifact_uri}/model", run.info.run_id)
    version = str(created.version)
    if tags_from:
        for name in ("lineage", "lineage.signature"):
            value = client.get_model_version(settings.model_name, tags_from).tags[name]
            client.set_model_version_tag(settings.model_name, version, name, value)
    return version


@pytest.mark.slow
def test_a_model_with_forged_training_tags_is_refused_by_the_platform(prefect_api, tmp_path, monkeypatch):
    from teaching.drive.training import train
    from teaching.infra.config import Settings
    from teaching.infra.secrets import lineage_env
    from teaching.levelproc import level_server

    settings = Settings(workspace=tmp_path / "workspace", synthetic_rows=SMALL_MONTH_ROWS)
    honest = [train(LEVEL, settings, "2021-01", "2021-02", "linear_regression")["model_version"] for _ in range(2)]
    assert honest == ["1", "2"]
    monkeypatch.chdir(settings.level_dir(LEVEL))  # where the attacker's MLflow client writes, as the pipeline did
    forged, copied = _forge(settings), _forge(settings, tags_from="2")

    verifies = lineage_env(settings, signs=False)
    private = settings.layout.secrets / "lineage" / "lineage.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600  # the workspace's key, beside the admin token
    assert verifies["LINEAGE_SIGNING_KEY_FILE"] == "" and Path(verifies["LINEAGE_PUBLIC_KEY_FILE"]).is_file()
    env = {"PLATFORM_ADMIN_TOKEN": TOKEN, **verifies}  # the platform gets the public key's path only
    with (
        level_server(LEVEL, "taxi_duration.platform_api", [], settings, env) as url,
        httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {TOKEN}"}) as api,
    ):
        assert api.post("/promote", json={"version": "1"}).status_code == 200
        for version, said in ((forged, f"v{forged} has no signed lineage"), (copied, "signature copied")):
            refused = api.post("/promote", json={"version": version})
            assert refused.status_code == 409, refused.text
            assert said in refused.json()["detail"]["error"], refused.text
            assert "LINEAGE_SIGNING_KEY_FILE" in refused.json()["detail"]["fix"]
            assert api.get("/deployments").json()["deployed"][0]["version"] == "1"  # the champion is unchanged
        assert api.post("/promote", json={"version": "2"}).status_code == 200  # the honest candidate passes
