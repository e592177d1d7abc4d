"""`make docker-check` (docker/check.py): the real Dockerfile and compose file pass, and each
rule catches its mistake in a broken copy of them: hadolint, the Compose Specification schema,
the non-root user, the /healthz HEALTHCHECK, pinned images, required secrets, every variable
documented in README.md (also those the app reads), commands that exist. No Docker engine, no
database: the SQLite pass of `make test` runs them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
DOCKERFILE = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (DOCKER / "compose.yaml").read_text(encoding="utf-8")


def _load_check() -> ModuleType:
    if str(DOCKER) not in sys.path:  # check.py imports check_app beside it, as when run
        sys.path.insert(0, str(DOCKER))
    spec = importlib.util.spec_from_file_location("docker_check", DOCKER / "check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check = _load_check()
DOCUMENTED = check.documented_variables((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def once_per_make_test(backend: str) -> None:
    """These checks read files only: they run in the SQLite pass of `make test`, not twice."""
    if backend != "sqlite":
        pytest.skip("no database involved: runs in the SQLite pass")


def broken(text: str, old: str, new: str) -> str:
    assert old in text, f"the file no longer has {old!r}: update this test"
    return text.replace(old, new, 1)


def test_the_real_files_are_clean_and_make_docker_check_says_so() -> None:
    done = subprocess.run(
        [sys.executable, str(DOCKER / "check.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "are clean" in done.stdout


def test_every_variable_the_app_reads_is_in_the_readme_table() -> None:
    read = check.app_variables()
    assert {"LAPOR_DATABASE_URL", "LAPOR_AUDIT_KEY", "LAPOR_SMTP_HOST"} <= set(read)
    assert read["LAPOR_SMTP_HOST"].startswith("sla/mailer.py:")  # a direct os.environ read
    assert sorted(set(read) - DOCUMENTED) == []


def test_variables_are_found_in_settings_and_direct_reads_but_not_in_a_wsgi_environ(
    tmp_path: Path,
) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "engine").mkdir()
    (tmp_path / "sla").mkdir()
    (tmp_path / "api" / "config.py").write_text(
        "class Settings:\n    NEW_THING: int = 1\n    extra: dict = {}\n"
    )
    (tmp_path / "sla" / "job.py").write_text(
        "import os\n"
        "a = os.environ.get('LAPOR_OTHER')\n"
        "b = os.getenv('LAPOR_THIRD', '')\n"
        "c = os.environ['LAPOR_FOURTH']\n"
        "def handler(environ):\n"
        "    return environ.get('HTTP_X_REQUEST_ID')\n"
        "def reader(request):\n"
        "    return request.environ.get('REMOTE_ADDR')\n"
    )
    found = check.app_variables(tmp_path)
    assert found == {
        "LAPOR_NEW_THING": "api/config.py (Settings)",
        "LAPOR_OTHER": "sla/job.py:2",
        "LAPOR_THIRD": "sla/job.py:3",
        "LAPOR_FOURTH": "sla/job.py:4",
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("USER 10001:10001", "USER root", "runs as root"),
        ("USER 10001:10001\n", "", "has no USER"),
        ("/healthz", "/readyz", "HEALTHCHECK on /healthz"),
        ("FROM node:22.23.2-bookworm-slim", "FROM node:latest", "not pinned to a version"),
        ("WORKDIR /app\nUSER", "RUN apt-get install -y gcc\nWORKDIR /app\nUSER", "installs"),
        ('CMD ["gunicorn"', 'CMD ["sh", "-c", "lapor db upgrade && exec gunicorn"', "migrates"),
        ('"api.wsgi:app"]', '"api.wsgi:application"]', "defines no `application`"),
        ('"--graceful-timeout"', '"--graceful-timeot"', "gunicorn refuses its options"),
        ("WEB_CONCURRENCY=2", "WEB_CONCURRENCY=2 LAPOR_SECRET_SAUCE=1", "LAPOR_SECRET_SAUCE"),
    ],
)
def test_a_broken_dockerfile_is_refused(old: str, new: str, expected: str) -> None:
    assert check.dockerfile_problems(DOCKERFILE, DOCUMENTED) == []
    problems = check.dockerfile_problems(broken(DOCKERFILE, old, new), DOCUMENTED)
    assert any(expected in p for p in problems), problems


def test_hadolint_lints_the_dockerfile(tmp_path: Path) -> None:
    assert check.hadolint_problems(DOCKER / "Dockerfile") == []
    bad = tmp_path / "Dockerfile"
    bad.write_text(broken(DOCKERFILE, "WORKDIR /src\n", "RUN cd /src\n"))
    assert any("DL3003" in p for p in check.hadolint_problems(bad))  # use WORKDIR, not cd


def test_the_compose_file_is_validated_against_the_compose_specification(tmp_path: Path) -> None:
    assert check.schema_problems(DOCKER / "compose.yaml") == []
    bad = tmp_path / "compose.yaml"
    bad.write_text(broken(COMPOSE, "    stop_grace_period: 30s\n", "    stop_grace: 30s\n"))
    problems = check.schema_problems(bad)
    assert problems and any("stop_grace" in p for p in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "${LAPOR_AUDIT_KEY:?set LAPOR_AUDIT_KEY (signs the audit checkpoints)}",
            "${LAPOR_AUDIT_KEY:-0123456789abcdef0123456789abcdef}",
            "the secret LAPOR_AUDIT_KEY must be required",
        ),
        (
            "${LAPOR_PROXY_HOPS:-0}",
            "${LAPOR_PROXY_COUNT:-0}",
            "${LAPOR_PROXY_COUNT} is not documented",
        ),
        (
            "      WEB_CONCURRENCY:",
            "      LAPOR_TURBO: 'on'\n      WEB_CONCURRENCY:",
            "LAPOR_TURBO",
        ),
        ('command: ["lapor", "scheduler"]', 'command: ["lapor", "schedule"]', "no command"),
        ("lapor db upgrade && lapor deploy", "lapor db upgrade && lapor deploy --all", "--all"),
        ('command: ["lapor", "scheduler"]', 'command: ["celery", "worker"]', "not a program"),
        ("stop_grace_period: 30s", 'stop_grace_period: 30s\n    user: "0"', "runs as root"),
        ("      mail: {condition: service_started}", "      smtp: {}", "depends on smtp"),
        ('"audit-anchor:/data/audit"', '"anchor:/data/audit"', "mounts volume anchor"),
        ("image: redis:7.4.11-bookworm", "image: redis:latest", "not pinned to a version"),
    ],
)
def test_a_broken_compose_file_is_refused(old: str, new: str, expected: str) -> None:
    assert check.compose_problems(COMPOSE, DOCKER, DOCUMENTED) == []
    problems = check.compose_problems(broken(COMPOSE, old, new), DOCKER, DOCUMENTED)
    assert any(expected in p for p in problems), problems


def test_a_secret_written_into_the_compose_file_is_refused() -> None:
    text = broken(
        COMPOSE,
        "      WEB_CONCURRENCY:",
        "      LAPOR_PERSONAL_DATA_KEY: 0123456789abcdef0123456789abcdef\n      WEB_CONCURRENCY:",
    )
    problems = check.compose_problems(text, DOCKER, DOCUMENTED)
    assert any("writes the secret LAPOR_PERSONAL_DATA_KEY" in p for p in problems), problems


def test_shell_commands_are_split_into_the_programs_they_run() -> None:
    assert check.invocations(["sh", "-c", "lapor db upgrade && lapor deploy; true"]) == [
        ["lapor", "db", "upgrade"],
        ["lapor", "deploy"],
        ["true"],
    ]
    assert check.invocations("lapor audit verify --json") == [
        ["lapor", "audit", "verify", "--json"]
    ]
