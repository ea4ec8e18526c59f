"""`run 3`, `serve 3` and `diff 2 3` drive level 3's own commands (pipeline, platform, monitoring job) from outside."""

from __future__ import annotations

import json
from pathlib import Path

from teaching.catalog import get_level
from teaching.infra.serving import free_port


def test_run_3_deploys_ab_tests_monitors_and_promotes_through_the_gate(invoke, workspace, prefect_api):
    result = invoke("run", "3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    details = report["details"]
    calls = details["quality gate"]
    assert [c["call"].split()[0] for c in calls] == ["promote", "A/B", "promote"]
    assert calls[0]["answer"] == "accepted"  # a fresh workspace: no champion yet
    ab_accepted = calls[1]["answer"] == "accepted"
    served = {row["variant"] for row in details["ab_test"]}
    # a candidate the gate refuses never sees traffic; one it passes gets its share
    assert served == ({"champion", "challenger"} if ab_accepted else {"champion"})
    # the last call names why that version: an A/B winner only when there was an A/B test to win
    assert ("(A/B winner)" in calls[2]["call"]) == ab_accepted and ("served alone" in calls[2]["call"]) != ab_accepted
    winner = min(details["ab_test"], key=lambda row: row["RMSE"])
    assert details["serving_after"] == [{"name": "champion", "version": winner["version"], "weight": 1.0}]
    audit = [json.loads(line) for line in open(report["artifacts"]["audit log"])]
    assert [a["action"] for a in audit][-3:] == ["promote", "deploy", "promote"]
    assert Path(report["artifacts"]["audit log"]).is_relative_to(workspace)
    for path in details["report_files"].values():
        assert Path(path).exists() and Path(path).is_relative_to(workspace)
    assert not (get_level(3).folder / "platform").exists() and not (get_level(3).folder / "mlruns").exists()


def test_run_3_passes_a_level_error_through_in_one_line(invoke, tmp_path, prefect_api):
    result = invoke("run", "3", "--train-data", str(tmp_path / "missing.parquet"))
    assert result.exit_code == 2 and "file not found" in result.output and "Traceback" not in result.output


def test_serve_3_refuses_a_level_without_a_store(invoke):
    result = invoke("serve", "3", "--port", str(free_port()))
    assert result.exit_code == 1 and "level 3 has no registry yet — run it first: mlops-levels run 3" in result.output


def test_diff_2_3_pairs_the_platform_with_the_service(invoke):
    report = json.loads(invoke("diff", "2", "3", "--json").output)
    pairs = {f["new"]: f["old"] for f in report["files"]}
    assert pairs["taxi_duration/platform_api.py"] == "taxi_duration/serve.py"
    assert pairs["taxi_duration/gate.py"] == "taxi_duration/promote.py"
    assert next(f for f in report["files"] if f["new"] == "taxi_duration/tracking.py")["status"] == "unchanged"
    gained = {p["id"]: p["where"] for p in report["practices_gained"]}
    assert set(gained) == {
        "automated_deployment",
        "quality_gate",
        "continuous_delivery",
        "ab_testing",
        "model_monitoring",
    }
    assert gained["quality_gate"] == "taxi_duration/deployer.py::Platform" and gained["continuous_delivery"] == "cd.yml"
