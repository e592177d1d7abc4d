"""Officers' pages, one blueprint (`officer`) in modules with one job each:

- `officer_common`: the blueprint, header links, times in the officer's time zone, shared helpers;
- `officer_inbox`: the task inbox (`/tugas`), filtered and paged in SQL;
- `officer_task`: one task (`/tugas/<id>`): report, attachments, timeline, form, claim, complete;
- `officer_case`: beside the form: internal notes, duplicate links, redactions of public text;
- `officer_queue`: the national admins' verification queue and decision page (`/verifikasi`).

Forms are rendered on the server and work without JavaScript. Services authorise: a task the
officer may not see is a 404 page, like a missing one.
"""

from __future__ import annotations

from api.web import officer_case, officer_inbox, officer_queue, officer_task
from api.web.officer_common import blp

__all__ = ["blp", "officer_case", "officer_inbox", "officer_queue", "officer_task"]
