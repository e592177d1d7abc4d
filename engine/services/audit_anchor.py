"""The audit anchor: every audit checkpoint copied to an append-only file outside the database.

Checkpoints in the database alone cannot show that the newest events were deleted together with
the checkpoints that signed them. Each checkpoint run therefore also appends one JSON line per
batch of checkpoints to this file (`LAPOR_AUDIT_ANCHOR_PATH`), opened with O_APPEND and synced
(fsync) before the run goes on:

    {"v": 2, "first": 41, "last": 43, "prev": "<mac before 41>", "mac": "<mac of 43>",
     "heads": [[41, 7, 12, "<hash>", "2026-03-01T02:00:00.000000Z", "<mac>"], ...],
     "line_mac": "<HMAC-SHA256 of the line without line_mac>"}

`heads` are the checkpoints themselves, `[id, report_id, seq, hash, at, mac]` (report_id null
for the no-report chain); `prev` is the mac of the checkpoint the batch's first one follows
(checkpoints are chained, see engine.services.audit) and `mac` that of its last one, so lines
link up too. `line_mac` is keyed with the audit key, so an edited line is named.

Writers hold an exclusive `flock` on the file from before their database transaction until
their line is synced, so lines are in checkpoint order; readers take it shared only to note how
far the file goes. One file serves every process that writes checkpoints (a shared volume).
This module only knows the file; engine.services.audit decides what goes in it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

FORMAT = 2
TAIL_CHUNK = 64 * 1024


class AnchorProblem(RuntimeError):
    """The anchor cannot be written as it is (missing, or its last line does not verify)."""


@dataclass(frozen=True)
class Head:
    """One checkpoint as the anchor holds it (`at` in the canonical text form)."""

    id: int
    report_id: int | None
    seq: int
    hash: str
    at: str
    mac: str

    def as_list(self) -> list[Any]:
        return [self.id, self.report_id, self.seq, self.hash, self.at, self.mac]


@dataclass(frozen=True)
class Line:
    """One line of the anchor, read back; `error` says why it cannot be trusted (None: fine)."""

    number: int  # 1-based
    first: int
    last: int
    prev: str
    mac: str
    heads: tuple[Head, ...]
    error: str | None = None


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _line_mac(key: bytes, document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "line_mac"}
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def encode(key: bytes, heads: Sequence[Head], prev: str) -> bytes:
    """One anchor line (with its newline) for `heads`, in id order, following `prev`."""
    document: dict[str, Any] = {
        "v": FORMAT,
        "first": heads[0].id,
        "last": heads[-1].id,
        "prev": prev,
        "mac": heads[-1].mac,
        "heads": [h.as_list() for h in heads],
    }
    document["line_mac"] = _line_mac(key, document)
    return _canonical(document) + b"\n"


def decode(key: bytes, number: int, raw: bytes) -> Line:
    """A line as written by `encode`; a line that is not one, or fails its HMAC, has `error`."""
    if not raw.endswith(b"\n"):
        return Line(number, 0, 0, "", "", (), "is incomplete (no line end: cut short?)")
    broken = Line(number, 0, 0, "", "", (), "is not an anchor line")
    try:
        document = json.loads(raw)
        heads = tuple(
            Head(int(i), None if r is None else int(r), int(s), str(h), str(a), str(m))
            for i, r, s, h, a, m in document["heads"]
        )
        line = Line(
            number,
            int(document["first"]),
            int(document["last"]),
            str(document["prev"]),
            str(document["mac"]),
            heads,
        )
        given = str(document["line_mac"])
    except (ValueError, TypeError, KeyError):
        return broken
    if not hmac.compare_digest(_line_mac(key, document).encode(), given.encode()):
        return replace(line, error="does not match its HMAC (edited?)")
    if not heads or heads[0].id != line.first or heads[-1].id != line.last:
        return replace(line, error="names other checkpoints than it holds")
    return line


class Writer:
    """The anchor opened for appending, under an exclusive lock (see `writing`)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @property
    def empty(self) -> bool:
        return os.fstat(self.fd).st_size == 0

    def tail(self, key: bytes) -> Line | None:
        """The last line, or None when the file is empty."""
        size = os.fstat(self.fd).st_size
        if size == 0:
            return None
        if os.pread(self.fd, 1, size - 1) != b"\n":  # a line cut short by a crash
            raise AnchorProblem(f"the audit anchor {self.path} ends in an incomplete line")
        data, start = b"", size - 1  # the last line, read backwards without its line end
        while start > 0:
            step = min(TAIL_CHUNK, start)
            data = os.pread(self.fd, step, start - step) + data
            start -= step
            cut = data.rfind(b"\n")
            if cut != -1:
                data = data[cut + 1 :]
                break
        return decode(key, 0, data + b"\n")

    def append(self, line: bytes) -> None:
        """Write the line at the end in one call and sync it to disk."""
        written = os.write(self.fd, line)
        if written != len(line):  # a full disk: the line is incomplete, say so loudly
            raise AnchorProblem(f"only {written} of {len(line)} bytes reached {self.path}")
        os.fsync(self.fd)


@contextmanager
def writing(path: Path, *, create: bool) -> Iterator[Writer]:
    """The anchor opened with O_APPEND and locked exclusively until the block ends; created
    (with its folder, mode 0600) only when `create`, else `AnchorProblem` if it is not there."""
    flags = os.O_RDWR | os.O_APPEND
    if create:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags |= os.O_CREAT
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError as exc:
        raise AnchorProblem(f"the audit anchor {path} does not exist") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if create:  # a new file's name must survive a crash as well as its lines
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        yield Writer(path, fd)
    finally:
        os.close(fd)  # also releases the lock


@contextmanager
def noted(path: Path) -> Iterator[int]:
    """How many bytes the anchor holds, with a shared lock held until the block ends: no writer
    is then between its database commit and its line, so checkpoints the database shows by the
    block's end are in those bytes. 0 when there is no file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield 0
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield os.fstat(fd).st_size
    finally:
        os.close(fd)


def read(path: Path, key: bytes, *, upto: int) -> Iterator[Line]:
    """The lines in the first `upto` bytes of the anchor (the file only grows)."""
    with path.open("rb") as fh:
        done = 0
        for number, raw in enumerate(fh, start=1):
            if done + len(raw) > upto:
                raw = raw[: upto - done]
            if not raw:
                return
            done += len(raw)
            yield decode(key, number, raw)
            if done >= upto:
                return
