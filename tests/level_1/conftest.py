from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model_file(tmp_path_factory, trained_model):
    from common.model import save_model

    return save_model(trained_model, tmp_path_factory.mktemp("level1") / "model.bin")


@pytest.fixture
def client(model_file):
    from fastapi.testclient import TestClient

    from levels.level_1.serve import create_app

    with TestClient(create_app(model_file), raise_server_exceptions=False) as test_client:
        yield test_client
