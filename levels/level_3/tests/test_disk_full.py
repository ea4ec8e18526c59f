"""A real full disk under the platform's prediction log: a 256 KB tmpfs, filled by real requests through the
platform's own command (a real uvicorn). No prediction is answered 200 and then lost; every other one is
refused with 503 and why."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest
from conftest import ADMIN, V1, platform_process
from training_fixtures import RIDE

from taxi_duration.prediction_log import read_log


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KB filesystem of its own, with a 64 KB file on it to delete when space must come back."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a real full disk) needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (mount / "filler").write_bytes(b"\0" * 64 * 1024)
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)


def _send(api: httpx.Client, ids: list[str]) -> httpx.Response:
    if len(ids) == 1:
        return api.post("/predict", json={**RIDE, "ride_id": ids[0]})
    return api.post("/predict/batch", json={"rides": [{**RIDE, "ride_id": i} for i in ids]})


@pytest.mark.slow
def test_a_full_disk_loses_no_acknowledged_prediction_and_refuses_the_rest(registry, small_disk):
    state = small_disk / "platform"  # the platform's state folder on the small disk: its logs fill it
    log_path = state / "predictions" / "predictions.jsonl"
    answered: list[str] = []
    refusals: list[str] = []
    with (
        platform_process(registry[0], state) as url,
        httpx.Client(base_url=url, timeout=30) as api,
    ):
        deployed = api.post("/deployments", json={"variants": [{"version": V1, "weight": 1}]}, headers=ADMIN)
        assert deployed.status_code == 200, deployed.text
        for n in range(1000):  # bounded: the disk holds about 1,100 records, 4 per request on average
            ids = [f"r{n}-{k}" for k in range(1 + n % 7)]
            answer = _send(api, ids)
            assert answer.status_code in (200, 503), answer.text
            if answer.status_code == 200:
                answered += ids
            else:
                refusals.append(answer.json()["detail"])
                if len(refusals) == 20:
                    break
        assert refusals, "the disk never filled up: the test proves nothing"
        assert all("no space left on device" in reason for reason in refusals), refusals[0]

        full = read_log(log_path)
        assert not full.torn_last_line and log_path.read_bytes().endswith(b"\n")
        assert list(full.records.ride_id) == answered  # every acknowledged record, whole, and nothing else

        (small_disk / "filler").unlink()  # space comes back: logging resumes without a restart
        for n in range(3):
            assert _send(api, [f"after-{n}-{k}" for k in range(3)]).status_code == 200
    after = read_log(log_path)
    assert list(after.records.ride_id) == answered + [f"after-{n}-{k}" for n in range(3) for k in range(3)]
    assert not after.torn_last_line
