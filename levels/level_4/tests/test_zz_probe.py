import json, time
from conftest import run_story

def test_probe(prefect_api, tmp_path, month_cache):
    for scenario in ("traffic-returns", "mild"):
        t = time.monotonic()
        r = run_story(tmp_path / scenario, month_cache, ["2021-01","2021-02","2021-03","2021-04","2021-05"], scenario)
        print(scenario, round(time.monotonic() - t, 1))
        for d in r["decisions"]:
            print(json.dumps({k: d.get(k) for k in ("month","drift_share","drifted_columns","rmse","frozen_rmse","rules_fired","action")}))
