"""Every line assess cites is code of the construct it claims: opened here independently of the tool
(tokenize and ast for Python and notebook cells, the YAML node tree for YAML, the line itself for
Makefiles and Dockerfiles), it must hold the cited token as code, never in a comment or a string."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest
import yaml

from assess.tests.corpus import CORPUS, LEVELS_DIR


def _cell_source(path: Path, cell: int) -> str:
    source = json.loads(path.read_text())["cells"][cell - 1]["source"]
    text = "".join(source) if isinstance(source, list) else source
    # Magics and shell escapes are not Python: blank them, keeping line numbers (as Jupyter shows them).
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


def _code_names(source: str, line: int) -> set[str]:
    """Identifiers the code on `line` uses or defines, by the tokenizer and the syntax tree both."""
    tokens = {
        t.string
        for t in tokenize.generate_tokens(io.StringIO(source).readline)
        if t.type == tokenize.NAME and t.start[0] == line
    }
    tree_names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.end_lineno == line:
            tree_names.add(node.attr)
        elif getattr(node, "lineno", None) == line:
            if isinstance(node, ast.Name):
                tree_names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                tree_names.add(node.name)
            elif isinstance(node, ast.Raise):
                tree_names.add("raise")
    return tokens & tree_names


def _yaml_scalars_on(text: str, line: int) -> list[str]:
    found = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        stack = [document]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.ScalarNode):
                if node.start_mark.line + 1 <= line <= node.end_mark.line + 1:
                    found.append(str(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(n for pair in node.value for n in pair)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
    return found


def check(root: Path, evidence: dict) -> None:
    path = root / evidence["file"]
    token = evidence["token"]
    assert token, evidence
    if path.suffix == ".ipynb":
        source = _cell_source(path, evidence["cell"])
        assert token in _code_names(source, evidence["line"]), evidence
    elif path.suffix == ".py":
        assert token in _code_names(path.read_text(), evidence["line"]), evidence
    elif path.suffix in (".yml", ".yaml") or path.name == "MLproject":
        raw = path.read_text().splitlines()[evidence["line"] - 1]
        assert not raw.lstrip().startswith("#"), evidence
        assert any(token in value for value in _yaml_scalars_on(path.read_text(), evidence["line"])), evidence
    else:  # Makefile, Dockerfile, shell, Procfile: the token as a word, before any comment
        raw = path.read_text().splitlines()[evidence["line"] - 1]
        assert not raw.lstrip().startswith("#"), evidence
        assert re.search(rf"(?<![\w.-]){re.escape(token)}(?![\w-])", raw.split(" #")[0]), evidence
    assert (
        evidence["text"]
        == (
            _cell_source(path, evidence["cell"]).splitlines()[evidence["line"] - 1].strip()
            if evidence["cell"]
            else path.read_text().splitlines()[evidence["line"] - 1].strip()
        )[:160]
    ), evidence


def _all_evidence(result) -> list[dict]:
    return [e.to_dict() for p in result.practices.values() for e in p.evidence]


@pytest.mark.parametrize("name", CORPUS)
def test_every_cited_line_of_the_corpus_is_the_construct(name, assessed):
    result = assessed[name]
    if isinstance(result, Exception):
        return
    for evidence in _all_evidence(result):
        check(Path(result.folder), evidence)


@pytest.mark.parametrize("level", range(5))
def test_every_cited_line_of_the_levels_is_the_construct(level):
    from assess import assess

    folder = LEVELS_DIR / f"level_{level}"
    for evidence in _all_evidence(assess(folder)):
        check(folder, evidence)


def test_the_check_itself_refuses_comments_and_strings(tmp_path):
    (tmp_path / "m.py").write_text('# mlflow.log_metric("a", 1)\nx = "mlflow.log_metric"\nmlflow.log_metric("a", 1)\n')
    for line in (1, 2):
        with pytest.raises(AssertionError):
            check(tmp_path, {"file": "m.py", "line": line, "cell": None, "token": "log_metric", "text": ""})
    (tmp_path / "ci.yml").write_text("# on:\n#   schedule:\non:\n  push:\n")
    with pytest.raises(AssertionError):
        check(tmp_path, {"file": "ci.yml", "line": 2, "cell": None, "token": "schedule", "text": "#   schedule:"})
