"""What the app reads and runs, for docker/check.py.

- `app_variables`: every environment variable the code of api/, engine/ and sla/ reads: the
  `Settings` fields of api/config.py (each is `LAPOR_<FIELD>`) and every direct read
  (`os.environ.get("X")`, `env.get("X")`, `os.environ["X"]`, `os.getenv("X")`), found in the
  source with `ast`, without importing it.
- `command_problems`: whether a container command names a real `lapor` command with valid
  options (resolved through the click tree of api.cli) or a gunicorn command line gunicorn
  accepts, with an app object that exists (`api.wsgi:app`).
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("api", "engine", "sla")
SETTINGS_PREFIX = "LAPOR_"
ENV_MAPPINGS = {"environ", "env"}  # os.environ, and the `env = os.environ` of sla/
# a WSGI `environ` (a parameter of that name) holds request keys, not settings
WSGI_KEYS = re.compile(r"^(HTTP_|wsgi\.|REMOTE_|SERVER_|REQUEST_|CONTENT_|PATH_INFO|QUERY_STRING)")
SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
SHELL_SEPARATORS = {"&&", "||", ";"}
PLAIN_PROGRAMS = {"python", "python3", "sh", "true"}  # in the image, nothing of ours to check


# -- environment variables ------------------------------------------------------------------


def settings_variables(config: Path) -> set[str]:
    """`LAPOR_<FIELD>` for each field of the `Settings` dataclass (but `extra`)."""
    tree = ast.parse(config.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            return {
                SETTINGS_PREFIX + item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.target.id != "extra"
            }
    return set()


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_environment(node: ast.expr) -> bool:
    """`os.environ`, or a plain name `environ` / `env` (not a WSGI `request.environ`)."""
    if isinstance(node, ast.Name):
        return node.id in ENV_MAPPINGS
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _read_name(node: ast.AST) -> ast.expr | None:
    """The key expression of an environment read, or None when `node` is none."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault"):
            return node.args[0] if _is_environment(func.value) else None
        if _last_name(func) == "getenv":
            return node.args[0]
    if isinstance(node, ast.Subscript) and _is_environment(node.value):
        return node.slice
    if (
        isinstance(node, ast.Compare)
        and isinstance(node.ops[0], ast.In)
        and _is_environment(node.comparators[0])
    ):
        return node.left
    return None


def direct_reads(root: Path = ROOT) -> dict[str, str]:
    """Each variable read straight from the environment, with the first `file:line` reading it."""
    found: dict[str, str] = {}
    for package in APP_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                key = _read_name(node)
                if (
                    isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and not WSGI_KEYS.match(key.value)
                ):
                    where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                    found.setdefault(key.value, where)
    return found


def app_variables(root: Path = ROOT) -> dict[str, str]:
    """Every variable the app reads, with where: `api/config.py (Settings)` or `file:line`."""
    settings = settings_variables(root / "api" / "config.py")
    found = {name: "api/config.py (Settings)" for name in settings}
    for name, where in direct_reads(root).items():
        found.setdefault(name, where)
    return found


# -- commands -------------------------------------------------------------------------------


def invocations(command: str | list[str]) -> list[list[str]]:
    """The programs a container command runs: `sh -c "a && b; c"` is three of them."""
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    if len(argv) >= 3 and argv[0] in SHELLS and argv[1] == "-c":
        return list(_split_script(argv[2]))
    return [argv] if argv else []


def _split_script(script: str) -> Iterator[list[str]]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    current: list[str] = []
    for token in lexer:
        if token in SHELL_SEPARATORS:
            if current:
                yield current
            current = []
        else:
            current.append(token)
    if current:
        yield current


def command_problems(argv: list[str], where: str) -> list[str]:
    """Why `argv` would not run in the image ([] when it would, as far as can be told)."""
    program = Path(argv[0]).name
    if program == "lapor":
        return [f"{where}: {p}" for p in _lapor_problems(argv[1:])]
    if program == "gunicorn":
        return [f"{where}: {p}" for p in _gunicorn_problems(argv[1:])]
    if program in PLAIN_PROGRAMS:
        return []
    return [f"{where}: `{argv[0]}` is not a program of the image (lapor, gunicorn, python)"]


def _lapor_problems(args: list[str]) -> list[str]:
    import click

    from api.cli import main

    command: click.Command = main
    path = ["lapor"]
    while isinstance(command, click.Group):
        if not args or args[0].startswith("-"):
            return [f"`{' '.join(path)}` needs a command ({', '.join(sorted(command.commands))})"]
        sub = command.get_command(click.Context(command, info_name=path[-1]), args[0])
        if sub is None:
            known = ", ".join(sorted(command.commands))
            return [f"`{' '.join(path)} {args[0]}` is no command (there are: {known})"]
        command, path, args = sub, [*path, args[0]], args[1:]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            command.make_context(" ".join(path), list(args))
    except click.exceptions.Exit:
        return []
    except click.ClickException as exc:
        return [f"`{' '.join(path)}`: {exc.format_message()}"]
    return []


def _gunicorn_problems(args: list[str]) -> list[str]:
    from gunicorn.config import Config

    parser = Config(prog="gunicorn").parser()
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            parsed = parser.parse_args(args)
    except SystemExit:
        return [f"gunicorn refuses its options: {errors.getvalue().strip().splitlines()[-1]}"]
    if len(parsed.args) != 1:
        return [f"gunicorn needs one app (module:object), got {parsed.args}"]
    return _app_object_problems(parsed.args[0])


def _app_object_problems(target: str) -> list[str]:
    module, _, name = target.partition(":")
    path = ROOT / (module.replace(".", "/") + ".py")
    if not name or not path.is_file():
        return [f"gunicorn app {target}: no module {path.relative_to(ROOT)}"]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if name not in assigned:
        return [f"gunicorn app {target}: {path.relative_to(ROOT)} defines no `{name}`"]
    return []
