"""Running real `lapor` processes from tests, and waiting for what they do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import BinaryIO


def start_scheduler(database_url: str, log: BinaryIO, **env: str) -> subprocess.Popen[bytes]:
    """A `lapor scheduler` process on `database_url`, with extra LAPOR_* variables in `env`.

    Its stderr goes to a file: an unread pipe fills up and blocks the process on its next log
    line.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "scheduler"],
        env={**os.environ, "LAPOR_DATABASE_URL": database_url, **env},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` until true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
