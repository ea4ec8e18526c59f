"""The audit log is the platform's memory of what it approved, so only the platform can write it.

An attacker appended one line, `{"action":"promote","version":"3","outcome":"passed"}`, to a 0644 audit
log and the platform took v3 for its champion: it moved the alias to a worse version and measured the next
candidates against it. Now each record is sealed (an HMAC chained to the record before, with a key only
the platform holds): an edited, inserted, deleted or cut record stops the platform with file:line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ADMIN, ADMIN_TOKEN, V1, V3, free_port, platform_app
from fastapi.testclient import TestClient
from training_fixtures import LEVEL_DIR, MODEL_NAME

FORGED = b'{"action":"promote","version":"3","outcome":"passed"}\n'


def _alias(store) -> str:
    return str(store.client().get_model_version_by_alias(MODEL_NAME, "champion").version)


def _history(tmp_path):
    """An audit log with three promotions in it, written by the platform's own AuditLog."""
    from taxi_duration.deployer import AuditLog

    audit = AuditLog(tmp_path / "platform" / "audit.jsonl")
    for version in ("1", "2", "1"):
        audit.record({"action": "promote", "version": version, "outcome": "passed"})
    return audit


def test_the_audit_log_and_its_key_are_private_and_hold_no_key(tmp_path):
    audit = _history(tmp_path)
    for path in (audit.path, audit.sealed.key_path, audit.sealed.head_path):
        assert oct(os.stat(path).st_mode & 0o777) == "0o600", path
    assert audit.sealed.key_path.read_text() not in audit.path.read_text()
    assert audit.champion() == "1"


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda lines: lines + [FORGED], 4),  # the attack: one appended line
        (lambda lines: [lines[0], lines[1].replace(b'"version":"2"', b'"version":"3"'), lines[2]], 2),
        (lambda lines: [lines[0], lines[2]], 2),  # a middle record deleted
        (lambda lines: [lines[0], FORGED, lines[1], lines[2]], 2),  # one inserted
        (lambda lines: [lines[0], lines[2], lines[1]], 2),  # reordered
        (lambda lines: lines[:2], 3),  # the last record cut away: the head knew of three
        (lambda lines: lines[:2] + [lines[2][:20]], 3),  # torn mid-line
    ],
    ids=["appended", "edited", "deleted", "inserted", "reordered", "truncated", "torn"],
)
def test_a_damaged_audit_log_stops_the_platform_at_its_line(tmp_path, damage, line):
    from common.errors import StoreError
    from taxi_duration.deployer import AuditLog

    path = _history(tmp_path).path
    path.write_bytes(b"".join(damage(path.read_bytes().splitlines(keepends=True))))
    with pytest.raises(StoreError) as refused:
        AuditLog(path).champion()  # a restarted platform: only the files are left
    assert f"{path}:{line}" in refused.value.one_line()


def test_an_audit_log_others_can_read_or_write_is_refused_with_the_fix(tmp_path):
    from common.errors import StoreError
    from taxi_duration.deployer import AuditLog

    path = _history(tmp_path).path
    path.chmod(0o644)
    with pytest.raises(StoreError) as refused:
        AuditLog(path).champion()
    assert refused.value.one_line().count("\n") == 0
    assert str(path) in refused.value.one_line() and f"chmod 600 {path}" in refused.value.one_line()
    with pytest.raises(StoreError, match="chmod 600"):
        AuditLog(path).record({"action": "promote", "version": "3", "outcome": "passed"})
    path.chmod(0o600)
    assert AuditLog(path).champion() == "1"


def test_an_appended_promote_line_does_not_move_the_champion(own_registry):
    audit = own_registry.folder / "platform" / "audit.jsonl"
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        with audit.open("ab") as log:  # while it runs: the next admin call is refused
            log.write(FORGED)
        answer = platform.post("/promote", json={"version": V3}, headers=ADMIN)
        assert answer.status_code == 503, answer.text
        assert f"{audit}:2" in answer.text
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as restarted:
        health = restarted.get("/health")
        assert health.status_code == 503 and f"{audit}:2" in health.text
        assert restarted.post("/promote", json={"version": V3}, headers=ADMIN).status_code == 503
        assert restarted.get("/deployments").json() == {"deployed": []}
    assert _alias(own_registry) == V1


def test_the_platform_command_exits_3_on_an_audit_log_it_did_not_write(own_registry):
    state = own_registry.folder / "platform"
    state.mkdir()
    (state / "audit.jsonl").write_bytes(FORGED)
    (state / "audit.jsonl").chmod(0o600)  # private, as the platform's own, but not sealed by it
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": own_registry.uri,
        "PLATFORM_STATE_DIR": str(state),
        "PLATFORM_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    command = [sys.executable, "-m", "taxi_duration.platform_api", "--port", str(free_port())]
    done = subprocess.run(command, cwd=LEVEL_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"{state / 'audit.jsonl'}:1" in line and "Traceback" not in done.stderr
    assert json.loads((state / "audit.jsonl").read_bytes()) == json.loads(FORGED)  # left as found
