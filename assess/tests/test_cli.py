"""`mlops-levels assess` through the CLI: honest edges, the JSON shape, the scorecard in 80 columns."""

from __future__ import annotations

import json
import os
import re

import pytest
from rich.console import Console

from assess.catalogue import PRACTICES
from assess.tests.corpus import CORPUS, LEVELS_DIR, project_copy


def _one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_an_empty_folder_has_nothing_to_assess(invoke, tmp_path):
    result = invoke("assess", str(tmp_path))
    assert result.exit_code == 2
    assert "nothing to assess" in _one_line_error(result) and "0 files seen" in result.output


def test_a_readme_only_folder_has_nothing_to_assess(invoke, tmp_path):
    (tmp_path / "README.md").write_text("# Plans\nWe will use `mlflow.start_run()` and Prefect.\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "plans"\n')
    result = invoke("assess", str(tmp_path), "--json")
    assert result.exit_code == 2  # with --json the error is JSON too, for the script reading it
    assert "nothing to assess" in json.loads(result.output)["error"]["what"] and "2 files seen" in result.output
    assert "nothing to assess" in _one_line_error(invoke("assess", str(tmp_path)))


def test_a_path_that_is_not_a_folder_is_refused(invoke, tmp_path):
    (tmp_path / "train.py").write_text("print('hi')\n")
    for path in (tmp_path / "train.py", tmp_path / "missing"):
        result = invoke("assess", str(path))
        assert result.exit_code == 2
        assert "is not a folder" in _one_line_error(result)


def test_unreadable_files_are_counted_never_fatal(invoke, tmp_path):
    (tmp_path / "train.py").write_text("import argparse\n\ndef main():\n    argparse.ArgumentParser()\n")
    (tmp_path / "broken.py").write_text("def oops(:\n")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02mlflow.start_run()")
    (tmp_path / "bad.ipynb").write_text("{ not json")
    (tmp_path / "cells.ipynb").write_text(
        json.dumps(
            {"cells": [{"cell_type": "code", "source": "%%bash\necho hi"}, {"cell_type": "code", "source": "x = 1"}]}
        )
    )
    (tmp_path / "huge.py").write_text("x = 1\n" * 200_000)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    result = invoke("assess", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    read = json.loads(result.output)["read"]
    assert read["python_files"] == 1 and read["notebooks"] == 1 and read["notebook_cells"] == 1
    assert read["skipped_files"] == {
        "Python that does not parse": 1,
        "binary": 1,
        "notebook that is not valid JSON": 1,
        "notebook cells that are not Python": 1,
        "too large": 1,
    }


def test_environments_caches_and_data_folders_are_skipped(invoke, tmp_path):
    tracked = "import mlflow\n\ndef run():\n    mlflow.log_metric('rmse', 1.0)\n\nrun()\n"
    for folder in (".git", ".venv", "env", "node_modules", "data/raw", "mlruns"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "track.py").write_text(tracked)
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "app.py").write_text("print('hello')\n")
    result = json.loads(invoke("assess", str(tmp_path), "--json").output)
    assert result["practices"]["experiment_tracking"]["status"] == "absent"
    assert result["read"]["python_files"] == 1
    assert result["read"]["skipped_folders"] == {"data": 1, "dependencies": 3, "run outputs": 1, "version control": 1}


def test_json_gives_practices_views_levels_and_counts(invoke, tmp_path):
    result = invoke("assess", str(project_copy("full_loop", tmp_path)), "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["level"] == 4 and data["reasoning"].startswith("level 4: ")
    assert set(data["practices"]) == set(PRACTICES)
    for practice in data["practices"].values():
        assert practice["status"] in ("found", "partial", "absent") and practice["needs"] and practice["title"]
        assert practice["runs"] in ({"found": "running"}.get(practice["status"]), None, "tested", "not running")
        for evidence in practice["evidence"]:
            keys = {"file", "line", "cell", "cells", "execution_count", "where", "text", "construct", "token", "reach"}
            assert set(evidence) == keys
    assert [v["id"] for v in data["views"]] == ["people", "model_creation", "model_release", "application_integration"]
    assert data["views"][0]["level"] is None and all(isinstance(v["level"], int) for v in data["views"][1:])
    assert set(data["ladder"]) == {"1", "2", "3", "4"} and all("reached" in rung for rung in data["ladder"].values())
    assert {"files_seen", "files_read", "python_files", "notebooks", "notebook_cells", "skipped_files"} <= set(
        data["read"]
    )
    assert data["read"]["not_read"] == [] and data["not_followed"] == [] and data["projects"] == []


@pytest.mark.parametrize("level", range(5))
def test_each_level_folder_is_assessed_at_its_own_level(invoke, level):
    result = invoke("assess", str(LEVELS_DIR / f"level_{level}"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # Its CI runs `python levels/level_N/x.py` from the repository root: followed into this folder.
    assert data["level"] == level and data["not_followed"] == []


def _render(result, width: int) -> list[str]:
    from assess.scorecard import scorecard

    console = Console(width=width, record=True, color_system=None, file=open(os.devnull, "w"))
    console.print(scorecard(result))
    return console.export_text().splitlines()


def _words(lines: list[str]) -> set[str]:
    return {w for line in lines for w in line.split() if "…" not in w}  # "…" marks a deliberate cut


def _long_lines(root):
    """Paths and code longer than a terminal line, where a careless renderer breaks words."""
    deep = root / "long_lines" / "src" / "a_rather_long_package_name" / "and_a_subpackage_with_a_long_name"
    deep.mkdir(parents=True)
    (deep / "training_entry_point_with_a_long_name.py").write_text(
        "import argparse\nimport mlflow\n\n\ndef main():\n"
        "    parser = argparse.ArgumentParser(description='trains_the_model_and_logs_every_parameter_to_mlflow')\n"
        "    mlflow.log_metric('root_mean_squared_error_on_the_validation_month_of_february_2021', 1.0)\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    return root / "long_lines"


@pytest.mark.parametrize("name", [n for n in CORPUS if n not in ("empty", "readme_only")] + ["level_4", "long_lines"])
def test_the_scorecard_fits_80_columns_without_breaking_a_word(name, assessed, tmp_path):
    from assess import assess

    if name == "long_lines":
        result = assess(_long_lines(tmp_path))
    else:
        result = assess(LEVELS_DIR / name) if name.startswith("level_") else assessed[name]
    narrow, wide = _render(result, 80), _render(result, 400)
    assert max(len(line) for line in narrow) <= 80
    # A word cut across two lines leaves pieces that the unconstrained rendering never shows.
    assert _words(narrow) <= _words(wide), _words(narrow) - _words(wide)
    text = "\n".join(narrow)
    assert f"Level {result.level}" in text and "Read " in text
    for practice in result.practices.values():
        assert practice.title in text
        for evidence in practice.evidence:
            assert re.search(rf"{re.escape(evidence.where)}\s", text) or "…/" in text, evidence.where


def test_assess_reads_code_without_importing_it_or_any_heavy_library():
    import subprocess
    import sys

    from assess.tests.corpus import REPO

    heavy = ["pandas", "sklearn", "mlflow", "prefect", "evidently", "fastapi", "levels.level_4.pipeline"]
    code = (
        "import sys\nfrom assess import assess\n"
        f"assess('levels/level_4')\nprint([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("level", range(5))
def test_each_level_as_the_project_it_is_keeps_its_level_and_follows_every_command(invoke, level):
    """Each levels/level_N is a project of its own (package taxi_duration/, pyproject.toml, a Makefile run
    inside its folder): assessed alone, it gets its level, and every command it runs is followed."""
    result = invoke("assess", str(LEVELS_DIR / f"level_{level}"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["level"] == level
    assert data["not_followed"] == []
