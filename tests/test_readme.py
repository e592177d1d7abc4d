"""The README's examples work: the webhook verification snippet accepts our signatures and
rejects tampered ones, and the README opens with the two commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sla.webhooks import signed_headers

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make run", "make test"]


def test_webhook_verification_example_matches_our_signatures() -> None:
    snippet = re.search(r"```python\n(.*?)```", README, re.S)
    assert snippet is not None
    namespace: dict[str, Any] = {}
    exec(compile(snippet.group(1), "README.md", "exec"), namespace)  # noqa: S102
    verify = namespace["verify_lapor"]
    body = b'{"id":"evt-1","type":"escalation","data":{}}'
    headers = signed_headers("endpoint-secret", "evt-1", body)
    assert verify("endpoint-secret", headers, body) is True
    assert verify("endpoint-secret", headers, body.replace(b"evt-1", b"evt-2")) is False
    assert verify("another-secret", headers, body) is False
