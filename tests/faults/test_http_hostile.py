"""Every prediction service on a real uvicorn, under 1,100 generated hostile requests each: no answer
of 500 or more, and no connection dropped without a status line (tests/faults/hostile.py says what is sent)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from common.http import MAX_BODY_BYTES
from tests.faults.hostile import hostile_requests
from tests.faults.rawhttp import Outcome, send

REQUESTS_PER_SERVICE = 1100
SEED = 12


# How each level's service is started by its own command (teaching/levelproc.py), and what it needs.
SERVICES = {
    2: ("taxi_duration.serve", ["--version", "1"], {}),
    3: ("taxi_duration.platform_api", [], {"PLATFORM_ADMIN_TOKEN": "secret"}),
    4: ("taxi_duration.platform_api", [], {"PLATFORM_ADMIN_TOKEN": "secret"}),
}


@contextlib.contextmanager
def _serving(level: int, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The level's service as the toolkit starts it: its own command, in a process of its own."""
    from teaching.levelproc import level_server

    if level == 1:
        from common.model import save_model

        model = save_model(request.getfixturevalue("trained_model"), tmp_path / "model.bin")
        module, args, extra = "taxi_duration.serve", ["--model-path", str(model)], {}
        settings = request.getfixturevalue("settings")
    else:
        (module, args, extra), settings = SERVICES[level], request.getfixturevalue("registries")
    if level >= 3:  # the platform verifies the lineage the workspace's pipeline signed, as `run N` starts it
        from teaching.infra.secrets import lineage_env

        extra = {**extra, **lineage_env(settings, signs=False)}
    with level_server(level, module, args, settings, extra) as url:
        yield url


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_hostile_requests_get_an_answer_and_never_a_server_error(level, request, tmp_path):
    requests = hostile_requests(SEED + level, REQUESTS_PER_SERVICE, platform=level >= 3)
    with _serving(level, request, tmp_path) as url:
        if level >= 3:
            deployed = httpx.post(
                f"{url}/deployments",
                json={"variants": [{"version": "1", "weight": 1}]},
                headers={"Authorization": "Bearer secret"},
            )
            assert deployed.status_code == 200, deployed.text
        host, port = url.removeprefix("http://").split(":")
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda r: send(host, int(port), r), requests))
        assert httpx.get(f"{url}/health").status_code == 200  # and the service is still up

    failures = [(r.family, o) for r, o in zip(requests, outcomes, strict=True) if _failed(o)]
    statuses = Counter(o.status for o in outcomes)
    assert not failures, f"{len(failures)} failures, by family {Counter(f for f, _ in failures)}: {failures[:5]}"
    assert {200, 400, 404, 413, 422} <= set(statuses), statuses  # the set really exercises each kind of answer
    # A reset while writing is acceptable only where uvicorn's own parser refused a malformed request
    # head with 400 and closed: the services' own answers (413 included) never cut a request short.
    cut_short = Counter(o.status for o in outcomes if o.write_error)
    assert set(cut_short) <= {400}, f"answers that reset a client still writing: {cut_short}"
    too_large = Counter(o.status for r, o in zip(requests, outcomes, strict=True) if len(r.body) > MAX_BODY_BYTES)
    assert set(too_large) == {413}, f"bodies over the limit, whatever their framing, get 413: {too_large}"


def _failed(outcome: Outcome) -> bool:
    return outcome.status is None or outcome.status >= 500 or bool(outcome.error)
