"""Every setting, listed once with a typed default, read from LAPOR_* environment variables.

A bad value stops the process with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from limits import parse_many

ROOT = Path(__file__).resolve().parent.parent
# for tests and development only: production sets LAPOR_AUDIT_KEY (docker compose requires it)
DEV_AUDIT_KEY = "dev-only-audit-key-NOT-FOR-PRODUCTION"
# for tests and development only: production sets LAPOR_PERSONAL_DATA_KEY (compose requires it);
# migration 0009 repeats this default, so a dev database is sealed under the same key
DEV_PERSONAL_DATA_KEY = "dev-only-personal-data-key-NOT-FOR-PRODUCTION"


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
    # report exports (CSV/XLSX) under random names, kept RETENTION_EXPORT_HOURS after they are
    # made; must lie outside the served folders too
    EXPORT_DIR: str = str(ROOT / "instance" / "exports")
    CHECK_MIGRATIONS: bool = True
    # Flask-Limiter: memory:// for one process, redis://host:6379 when several must agree
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_FILING: str = "20 per hour"  # per client address, API and form together
    RATELIMIT_LOGIN: str = "10 per minute"
    SESSION_COOKIE_SECURE: bool = False  # true when served over https (docker compose sets it)
    PROXY_HOPS: int = 0  # reverse proxies in front: trust that many X-Forwarded-For/-Proto hops
    # staff login lockout, counted in the database (seconds for the durations)
    LOGIN_MAX_FAILURES: int = 5  # per username within LOGIN_FAILURE_WINDOW
    LOGIN_ADDRESS_MAX_FAILURES: int = 50  # per client address: slows password spraying
    LOGIN_FAILURE_WINDOW: int = 15 * 60
    LOGIN_LOCKOUT: int = 15 * 60
    PASSWORD_RESET_LIFETIME: int = 60 * 60  # a mailed reset link works this long, once
    # signs the audit trail's checkpoints (HMAC-SHA256); kept outside the database, and the
    # same in every process (a random default would make other processes' checkpoints fail)
    AUDIT_KEY: str = DEV_AUDIT_KEY
    # the audit anchor: every checkpoint is also appended (and synced) to this file, outside
    # the database, so deleting the newest events with their checkpoints is caught; one file
    # for every process that writes checkpoints, on storage the database's users cannot write
    AUDIT_ANCHOR_PATH: str = str(ROOT / "instance" / "audit-anchor.jsonl")
    # encrypts the pelapor's name, email and phone at rest and keys the email blind index; the
    # same in every process, kept outside the database; losing it loses that data
    PERSONAL_DATA_KEY: str = DEV_PERSONAL_DATA_KEY
    # retention in days (`lapor privacy purge`, and the scheduler daily): the pelapor's identity
    # and the attachments of a report closed that long ago; delivered emails (they hold
    # addresses); login throttle rows; expired, revoked or used login and password reset tokens
    RETENTION_IDENTITY_DAYS: int = 730
    RETENTION_ATTACHMENT_DAYS: int = 730
    RETENTION_OUTBOX_DAYS: int = 90
    RETENTION_EMAIL_CONTENT_DAYS: int = 7  # a delivered email's address and text (row stays)
    RETENTION_LOGIN_THROTTLE_DAYS: int = 1
    RETENTION_TOKEN_DAYS: int = 30
    RETENTION_EXPORT_HOURS: int = 24
    # operations: log lines as `json` or `text` (empty: text under `lapor serve`, else JSON),
    # and from which level; /readyz wants a scheduler heartbeat at most this many seconds old;
    # /metrics asks for `Authorization: Bearer <token>` when a token is set (else it is open)
    LOG_FORMAT: str = ""
    LOG_LEVEL: str = "INFO"
    READY_HEARTBEAT_SECONDS: int = 60
    SCHEDULER_HEARTBEAT_SECONDS: int = 15  # how often `lapor scheduler` beats: well below that
    METRICS_TOKEN: str = ""
    # staff SSO (OpenID Connect): also accept plain http providers on 127.0.0.1/localhost
    # (development; always on when TESTING); production providers must use https
    OIDC_ALLOW_HTTP_LOCALHOST: bool = False
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
        if not self.RATELIMIT_STORAGE_URI.startswith(("memory://", "redis://", "rediss://")):
            raise ConfigError(
                "LAPOR_RATELIMIT_STORAGE_URI must be memory://, redis:// or rediss://"
            )
        for name in ("RATELIMIT_FILING", "RATELIMIT_LOGIN"):
            try:
                parse_many(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"LAPOR_{name}: {exc}") from exc
        for name in (
            "LOGIN_MAX_FAILURES",
            "LOGIN_ADDRESS_MAX_FAILURES",
            "LOGIN_FAILURE_WINDOW",
            "LOGIN_LOCKOUT",
            "PASSWORD_RESET_LIFETIME",
            "RETENTION_IDENTITY_DAYS",
            "RETENTION_ATTACHMENT_DAYS",
            "RETENTION_OUTBOX_DAYS",
            "RETENTION_EMAIL_CONTENT_DAYS",
            "RETENTION_LOGIN_THROTTLE_DAYS",
            "RETENTION_TOKEN_DAYS",
            "READY_HEARTBEAT_SECONDS",
            "SCHEDULER_HEARTBEAT_SECONDS",
            "RETENTION_EXPORT_HOURS",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"LAPOR_{name} must be at least 1")
        if self.LOG_FORMAT not in ("", "json", "text"):
            raise ConfigError("LAPOR_LOG_FORMAT must be json or text")
        if self.LOG_LEVEL.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError("LAPOR_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        if self.METRICS_TOKEN and len(self.METRICS_TOKEN) < 16:
            raise ConfigError("LAPOR_METRICS_TOKEN must be at least 16 characters when set")
        if len(self.AUDIT_KEY) < 32:
            raise ConfigError(
                "LAPOR_AUDIT_KEY must be at least 32 characters (secrets.token_hex(32))"
            )
        if not self.AUDIT_ANCHOR_PATH.strip() or Path(self.AUDIT_ANCHOR_PATH).is_dir():
            raise ConfigError("LAPOR_AUDIT_ANCHOR_PATH must name a file (the audit anchor)")
        if len(self.PERSONAL_DATA_KEY) < 32:
            raise ConfigError(
                "LAPOR_PERSONAL_DATA_KEY must be at least 32 characters (secrets.token_hex(32))"
            )
        for name in ("ATTACHMENT_DIR", "EXPORT_DIR"):
            folder = Path(getattr(self, name)).resolve()
            if any(
                folder.is_relative_to(p) for p in (ROOT / "api", Path(self.NODE_MODULES).resolve())
            ):
                raise ConfigError(f"LAPOR_{name} must lie outside the served folders")


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
