"""What a shell command does, for the commands written in CI steps, Makefiles, Dockerfiles and stages.

Commands are split into words with `shlex` (comments dropped), wrappers are peeled off (`pipenv run`,
`poetry run`, `uv run`, `$(PYTHON)`, environment assignments), and the program decides the action:
run a Python file or module, run tests, lint, build an image, deploy, serve, run an MLflow project
or a DVC pipeline, schedule or run a Prefect deployment, submit a job (`anyscale jobs submit`,
`kubectl apply -f job.yaml`), or follow a `make` target, a shell script or a console script. A shell
`if` on a metric (`if (( $(echo "$RMSE > 6.5" | bc -l) ))`) is a gate written in the workflow.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from assess.metricnames import names_a_metric

SEPARATORS = {"&&", "||", ";", "|", "&"}
WRAPPERS = {"sudo", "time", "exec", "env", "nohup", "xargs"}
RUNNERS = {"pipenv": "run", "poetry": "run", "uv": "run", "pdm": "run", "hatch": "run", "rye": "run"}
LINTERS = {"ruff", "flake8", "pylint", "black", "mypy", "isort", "pre-commit", "pyright", "bandit"}
TEST_RUNNERS = {"pytest", "py.test", "tox", "nox"}
SERVERS = {"uvicorn", "gunicorn", "hypercorn", "waitress-serve", "daphne", "granian"}
# (program, first sub-command or None for any): deploying something somewhere.
DEPLOYERS = {
    ("kubectl", "apply"),
    ("kubectl", "set"),
    ("kubectl", "rollout"),
    ("kubectl", "create"),
    ("helm", "upgrade"),
    ("helm", "install"),
    ("gcloud", None),
    ("aws", "lambda"),
    ("aws", "ecs"),
    ("aws", "sagemaker"),
    ("aws", "deploy"),
    ("az", "ml"),
    ("az", "webapp"),
    ("sam", "deploy"),
    ("serverless", "deploy"),
    ("sls", "deploy"),
    ("fly", "deploy"),
    ("flyctl", "deploy"),
    ("heroku", None),
    ("terraform", "apply"),
    ("cdk", "deploy"),
    ("bentoml", "deploy"),
    ("modal", "deploy"),
}


# Programs that do no work a detector cares about: a step made of these alone does nothing.
NOOPS = {"echo", "printf", "true", ":", "sleep", "exit"}
# Programs that are never a project's own console script (so they are not looked up as one).
SYSTEM_PROGRAMS = set(
    "cd mkdir cp mv rm ls cat export set source pip pip3 git curl wget jq apt apt-get brew chmod chown tar unzip "
    "gzip grep sed awk find test tee touch ln which npm yarn node java go cargo aws-vault conda mamba micromamba "
    "virtualenv ssh scp rsync if then fi else for do done while case esac".split()
)
GATE_LINE = re.compile(r"^\s*(if|elif)\s.*(<|>|-lt|-gt|-le|-ge)")


@dataclass(frozen=True)
class Action:
    # python | tests | lint | build | deploy | serve | train | dvc | schedule | make | just | script | submit
    # | mlflow-run | flow-run | program | gate
    kind: str
    target: str  # a .py path, a dotted module, a make target, a script path, "module:attr", a tool
    token: str  # the word of the command that is the construct, for evidence
    spec: str = ""  # a file the command hands over: the job spec submitted, the manifest applied


PYTHON_WORD = re.compile(r"^(python[\d.]*|py|\$[({]?PYTHON[)}]?)$")


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split("#", 1)[0].split()


def _simple_commands(words: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for word in words:
        if word in SEPARATORS:
            commands.append([])
        else:
            commands[-1].append(word)
    return [c for c in commands if c]


def _peel(words: list[str]) -> list[str]:
    while words:
        head = words[0]
        if re.match(r"^\w+=", head) or head in WRAPPERS:
            words = words[1:]
        elif head in RUNNERS and len(words) > 1 and words[1] == RUNNERS[head]:
            words = words[2:]
        elif head == "conda" and "run" in words:
            rest = words[words.index("run") + 1 :]
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("-n", "--name", "-p", "--prefix") else rest[1:]
            words = rest
        else:
            return words
    return words


def _python(words: list[str]) -> Action | None:
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag == "-m" and rest:
            module = rest[0]
            runner = _runner(module, rest[1:])
            if runner is not None:
                return runner
            if module in ("mlflow", "dvc", "prefect", "bentoml"):
                return _tool([module, *rest[1:]])
            return Action("python", module, module.split(".")[-1])
        if flag in ("-W", "-X", "-c"):
            if flag == "-c":
                return None
            rest = rest[1:]
    if rest and rest[0].endswith(".py"):
        return Action("python", rest[0], rest[0].rsplit("/", 1)[-1])
    return None


MAKE_OPTIONS_WITH_VALUES = {"-f", "--file", "--makefile", "-C", "-d", "--directory", "-j", "--jobs", "-I", "-o", "-W"}


def _make(words: list[str]) -> Action:
    """`make -f levels/level_1/Makefile test`: the target, and the Makefile (or folder, -C) it is in."""
    target, spec, skip = "", "", False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        if word in MAKE_OPTIONS_WITH_VALUES:
            skip = True
            if word in ("-f", "--file", "--makefile", "-C", "-d", "--directory") and index + 1 < len(words):
                spec = words[index + 1]
            continue
        if not word.startswith("-") and "=" not in word:
            target = target or word
    return Action("make", target, target or "make", spec)


def _runner(program: str, rest: list[str]) -> Action | None:
    """Test runners, linters and servers, run as programs or as `python -m program`."""
    if program in TEST_RUNNERS:
        return Action("tests", program, program)
    if program in LINTERS:
        return Action("lint", program, program)
    if program in SERVERS:
        return Action("serve", _first_target(rest), program)
    return None


def _first_target(words: list[str]) -> str:
    return next((w for w in words if ":" in w and not w.startswith("-")), words[0] if words else "")


def _option(words: list[str], *names: str) -> str:
    """The value of `--name value` or `--name=value` (the first of names found)."""
    for index, word in enumerate(words):
        key, _, value = word.partition("=")
        if key in names:
            return value or (words[index + 1] if index + 1 < len(words) else "")
    return ""


def _positional(words: list[str]) -> str:
    """The first word after the sub-command that is not an option (nor an option's value)."""
    rest = [w for w in words if not w.startswith("-")]
    return rest[0] if rest else ""


def _submitter(program: str, sub: str, words: list[str]) -> Action | None:
    """Well-known job submitters: what they hand over is followed to the code it runs."""
    if program == "anyscale" and sub in ("job", "jobs") and words[2:3] == ["submit"]:
        spec = _option(words, "--config-file", "-f") or _positional(words[3:])
        return Action("submit", "anyscale job", "submit", spec if spec.endswith((".yaml", ".yml")) else "")
    if program == "anyscale" and sub in ("service", "services"):
        return Action("deploy", "anyscale service", words[2] if len(words) > 2 else sub)
    if program == "kubectl" and sub in ("apply", "create") and _option(words, "-f", "--filename"):
        # A deploy, unless the manifest is a Job: then it is followed as a submitted job (see `follow`).
        return Action("deploy", f"kubectl {sub}", sub, _option(words, "-f", "--filename"))
    if program == "prefect" and sub == "deployment" and words[2:3] == ["run"]:
        return Action("flow-run", _positional(words[3:]).split("/")[0], "run")
    return None


def _tool(words: list[str]) -> Action | None:
    program, sub = words[0], words[1] if len(words) > 1 else ""
    submitted = _submitter(program, sub, words)
    if submitted is not None:
        return submitted
    if program == "mlflow":
        if sub == "run":
            return Action("mlflow-run", _option(words, "-e", "--entry-point") or "main", "run", _positional(words[2:]))
        if sub == "models" and len(words) > 2:
            return Action("build" if words[2] == "build-docker" else "serve", "mlflow models", "models")
        if sub == "deployments":
            return Action("deploy", "mlflow deployments", "deployments")
    if program == "dvc" and (sub == "repro" or words[1:3] == ["exp", "run"]):
        return Action("dvc", "dvc.yaml", sub)
    if program == "prefect" and sub == "deploy":
        scheduled = any(w.split("=")[0] in ("--cron", "--interval", "--rrule") for w in words)
        entry = next((w for w in words[2:] if ":" in w and not w.startswith("-")), "")
        return Action("schedule" if scheduled else "deploy", entry, "deploy")
    if program == "bentoml":
        kind = {"serve": "serve", "build": "build", "containerize": "build", "deploy": "deploy"}.get(sub)
        return Action(kind, "bentoml", sub) if kind else None
    if program in ("docker", "podman", "docker-compose"):
        if sub in ("build", "buildx", "push"):
            return Action("build", "image", sub)
        return None
    if (program, sub) in DEPLOYERS or (program, None) in DEPLOYERS:
        return Action("deploy", f"{program} {sub}".strip(), program)
    if re.fullmatch(r"[a-z][\w-]*", program) and program not in SYSTEM_PROGRAMS | NOOPS:
        return Action("program", program, program)  # perhaps a console script of the project
    return None


def is_noop(text: str) -> bool:
    """A command that only prints, sleeps or exits: `echo "python train.py"` trains nothing."""
    commands = [_peel(c) for line in str(text).splitlines() for c in _simple_commands(_words(line))]
    commands = [c for c in commands if c]
    return bool(commands) and all(c[0] in NOOPS for c in commands)


def _gate(line: str) -> Action | None:
    """`if (( $(echo "$RMSE > 6.5" | bc -l) )); then … exit 1`: a shell test on a metric."""
    if not GATE_LINE.match(line):
        return None
    metric = next((w for w in re.findall(r"[A-Za-z_]\w*", line) if names_a_metric(w)), None)
    return Action("gate", metric, metric) if metric else None


def parse_command(words: list[str]) -> Action | None:
    words = _peel(words)
    if not words:
        return None
    if words[0] == "__uses__" and len(words) > 1:  # a GitHub Actions step that uses a known action
        return Action(words[1], "github action", "uses")
    program = words[0].rsplit("/", 1)[-1] if not words[0].startswith("./") else words[0]
    if PYTHON_WORD.match(program):
        return _python(words)
    runner = _runner(program, words[1:])
    if runner is not None:
        return runner
    if program == "make" or program == "$(MAKE)":
        return _make(words[1:])
    if program == "just":
        action = _make(words[1:])  # `just -f FILE recipe`, `just -d DIR recipe`: the same shape as make
        return Action("just", action.target, action.token if action.target else "just", action.spec)
    if program in ("bash", "sh") and len(words) > 1 and words[1].endswith(".sh"):
        return Action("script", words[1], words[1].rsplit("/", 1)[-1])
    if program.endswith(".sh"):
        return Action("script", program.removeprefix("./"), program.rsplit("/", 1)[-1])
    if program.endswith(".py"):
        return Action("python", program.removeprefix("./"), program.rsplit("/", 1)[-1])
    return _tool([program, *words[1:]])


def actions(text: str, first_line: int) -> list[tuple[int, Action]]:
    """Every action of a (possibly multi-line) command, with the line it is written on."""
    found: list[tuple[int, Action]] = []
    pending, start = "", 0
    for offset, raw in enumerate(str(text).splitlines() or [""]):
        if not pending:
            start = offset
        pending = f"{pending} {raw.rstrip()}" if pending else raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        gate = _gate(pending)
        if gate is not None:
            found.append((first_line + start, gate))
        for words in _simple_commands(_words(pending)):
            action = parse_command(words)
            if action is not None:
                found.append((first_line + start, action))
        pending = ""
    return found
