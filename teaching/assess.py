"""Place any project folder on the maturity ladder: probe it for each practice of the vocabulary,
with the evidence found (file and line), and name the next practice to adopt.

The probes are plain regular expressions over source and build files: fast, explainable, and easy
for a student to check by opening the file at the line shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UsageError
from levels.catalog import PRACTICES, load_levels

SCANNED = {".py", ".yml", ".yaml", ".toml", ".cfg", ".ini"}
SCANNED_NAMES = {"Dockerfile", "Makefile", "MLproject", "Jenkinsfile", "Procfile"}
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "mlruns", "mlops-workspace", ".tox"}
MAX_FILES = 5000

PROBES: dict[str, list[str]] = {
    "versioned_code": [r"argparse\.ArgumentParser\(", r"typer\.Typer\(", r"@click\.command", r"^def main\("],
    "unit_tests": [r"^def test_\w+\(", r"\bpytest\b.*tests?", r"unittest\.TestCase"],
    "ci": [r"^\s*runs-on:", r"^\s*stages:", r"pipeline\s*\{"],
    "packaged_service": [r"^FROM \S+", r"FastAPI\(", r"Flask\(__name__\)"],
    "ops_metrics": [r"prometheus_client", r"generate_latest\(", r"statsd"],
    "experiment_tracking": [r"mlflow\.(start_run|log_metric|log_param|autolog)", r"wandb\.init\(", r"neptune\.init"],
    "model_registry": [r"registered_model_name\s*=", r"set_registered_model_alias\(", r"mlflow\.register_model\("],
    "orchestrated_pipeline": [r"^@flow\b", r"from airflow", r"^@dag\b", r"from kedro\.pipeline"],
    "automated_deployment": [r"@\w+\.post\(\"/deployments\"", r"def deploy\w*\("],
    "quality_gate": [r"def \w*quality_gate\w*\(", r"def \w*gate\w*\(.*champion"],
    "continuous_delivery": [r"def \w*quality_gate\w*\(", r"def \w*gate\w*\(.*champion"],
    "ab_testing": [r"def choose_variant\(", r"traffic[_ ]split", r"def \w*ab_test\w*\("],
    "model_monitoring": [r"from evidently", r"import evidently", r"DataDriftPreset", r"whylogs", r"nannyml"],
    "automated_retraining": [r"def fired_rules\(", r"def \w*retrain\w*\(", r"\.serve\([^)]*cron", r"cron\s*="],
}


@dataclass
class Evidence:
    practice: str
    file: str
    line: int
    text: str


@dataclass
class Assessment:
    folder: str
    level: int
    found: dict[str, list[Evidence]] = field(default_factory=dict)
    next_practice: str | None = None

    def to_dict(self) -> dict:
        return {
            "folder": self.folder,
            "level": self.level,
            "next_practice": self.next_practice,
            "practices": {p: [e.__dict__ for e in ev] for p, ev in self.found.items()},
        }


def _files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        if any(part in SKIPPED_DIRS for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and (path.suffix in SCANNED or path.name in SCANNED_NAMES):
            found.append(path)
            if len(found) >= MAX_FILES:
                break
    return found


def probe(folder: Path) -> dict[str, list[Evidence]]:
    compiled = {p: [re.compile(rx, re.MULTILINE) for rx in rxs] for p, rxs in PROBES.items()}
    found: dict[str, list[Evidence]] = {p: [] for p in PROBES}
    for path in _files(folder):
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            for practice, patterns in compiled.items():
                if len(found[practice]) < 3 and any(p.search(line) for p in patterns):
                    where = str(path.relative_to(folder))
                    found[practice].append(Evidence(practice, where, number, line.strip()[:100]))
    return found


def assess(folder: Path) -> Assessment:
    """The highest level whose practices are all present (levels are cumulative)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", fix="pass the root folder of a project")
    found = probe(folder)
    level = 0
    for info in load_levels():
        if all(found[p] for p in info.practice_ids):
            level = info.number
        else:
            break
    missing = [p for p in PRACTICES if not found[p]]
    return Assessment(str(folder), level, {p: e for p, e in found.items() if e}, missing[0] if missing else None)
