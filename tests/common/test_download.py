"""The TLC download, against a local HTTP server on 127.0.0.1 (tests never touch the network)."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from common.download import download, trip_url
from common.errors import DataError
from common.sources import resolve_data
from teaching.infra.config import Settings


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    lie_about_length: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        extra = 1000 if self.path in self.lie_about_length else 0
        self.send_header("Content-Length", str(len(body) + extra))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def tlc_server(month_files):
    _Handler.files = {
        "/trip-data/green_tripdata_2021-01.parquet": month_files["2021-01"].read_bytes(),
        "/trip-data/green_tripdata_2021-05.parquet": b"x" * 5000,
    }
    _Handler.lie_about_length = {"/trip-data/green_tripdata_2021-05.parquet"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_writes_the_file_and_reports_progress(tmp_path, tlc_server):
    seen = []
    target = download(
        trip_url(tlc_server, "green", "2021-01"), tmp_path / "a.parquet", lambda done, total: seen.append((done, total))
    )
    assert target.stat().st_size == seen[-1][0] == seen[-1][1]


def test_a_missing_month_is_a_clear_error_and_leaves_no_file(tmp_path, tlc_server):
    with pytest.raises(DataError, match="HTTP 404"):
        download(trip_url(tlc_server, "green", "2019-01"), tmp_path / "b.parquet")
    assert list(tmp_path.iterdir()) == []


def test_a_cut_download_leaves_no_half_file_in_the_cache(tmp_path, tlc_server):
    with pytest.raises(DataError):
        download(trip_url(tlc_server, "green", "2021-05"), tmp_path / "c.parquet")
    assert list(tmp_path.iterdir()) == []


def test_tlc_source_resolves_a_month_through_the_cache(tmp_path, tlc_server):
    settings = Settings(workspace=tmp_path, source="tlc", tlc_base_url=tlc_server)
    first = resolve_data("2021-01", settings.data)
    assert first.path.exists() and first.month == "2021-01"
    assert resolve_data("2021-01", settings.data).path == first.path


def test_unreachable_server_says_how_to_work_offline(tmp_path):
    with pytest.raises(DataError, match="synthetic"):
        download("http://127.0.0.1:9/trip-data/x.parquet", tmp_path / "x.parquet", timeout=2)
    assert not Path(tmp_path / "x.parquet").exists()


def test_data_fetch_command_downloads_into_the_workspace_cache(invoke, workspace, tlc_server, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_TLC_BASE_URL", tlc_server)
    fetched = invoke("data", "fetch", "2021-01")
    assert fetched.exit_code == 0, fetched.output
    assert (workspace / "data" / "tlc" / "green_tripdata_2021-01.parquet").exists()
    missing = invoke("data", "fetch", "2019-01")
    assert missing.exit_code == 2 and "HTTP 404" in missing.output
    assert not (workspace / "data" / "tlc" / "green_tripdata_2019-01.parquet").exists()


@pytest.mark.slow
def test_run_0_with_the_tlc_source_reads_the_downloaded_months(invoke, tlc_server, monkeypatch):
    import json

    monkeypatch.setenv("MLOPS_LEVELS_TLC_BASE_URL", tlc_server)
    result = invoke("run", "0", "--source", "tlc", "--train-data", "2021-01", "--val-data", "2021-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["rmse_val"] > 0
