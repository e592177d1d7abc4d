"""Every setting, listed once with a typed default, read from LAPOR_* environment variables.

A bad value stops the process with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(SystemExit):
    pass


@dataclass
class Settings:
    DATABASE_URL: str = f"sqlite:///{ROOT / 'instance' / 'lapor.db'}"
    SECRET_KEY: str = field(default_factory=lambda: secrets.token_hex(32))  # set it in prod
    BPMN_DIR: str = str(ROOT / "bpmn")
    NODE_MODULES: str = str(ROOT / "node_modules")
    ARGON2_TIME_COST: int = 3
    ARGON2_MEMORY_COST: int = 65536
    MAX_CONTENT_LENGTH: int = 8 * 1024 * 1024
    # pelapor's attachments, stored under random names; must lie outside the served folders
    ATTACHMENT_DIR: str = str(ROOT / "instance" / "attachments")
    CHECK_MIGRATIONS: bool = True
    TESTING: bool = False
    TEST_CLOCK: bool = False  # shared settable clock + /api/v1/testing; never in production
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            env = f"LAPOR_{f.name}"
            if env in os.environ:
                values[f.name] = _convert(env, os.environ[env], f.type)
        settings = cls(**values)
        for key, value in (overrides or {}).items():
            if hasattr(settings, key) and key != "extra":
                setattr(settings, key, value)
            else:
                settings.extra[key] = value
        settings.check()
        return settings

    def check(self) -> None:
        if not self.DATABASE_URL.startswith(("sqlite", "postgresql")):
            raise ConfigError("LAPOR_DATABASE_URL must be an sqlite:// or postgresql:// URL")
        if self.ARGON2_TIME_COST < 1 or self.ARGON2_MEMORY_COST < 8:
            raise ConfigError("LAPOR_ARGON2_TIME_COST >= 1 and LAPOR_ARGON2_MEMORY_COST >= 8")
        attachments = Path(self.ATTACHMENT_DIR).resolve()
        if any(
            attachments.is_relative_to(p) for p in (ROOT / "api", Path(self.NODE_MODULES).resolve())
        ):
            raise ConfigError("LAPOR_ATTACHMENT_DIR must lie outside the served folders")


def _convert(env: str, raw: str, kind: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else kind.__name__
    try:
        if kind_name == "int":
            return int(raw)
        if kind_name == "bool":
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes"}
    except ValueError as exc:
        raise ConfigError(f"{env}={raw!r} is not a valid {kind_name}") from exc
    return raw
