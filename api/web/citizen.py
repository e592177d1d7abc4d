"""Citizen (pelapor) pages, no account needed: file a report, see its tracking number and secret
link, track it, reply on tunda, rate the follow-up, delete the optional GESI answers, see their
personal data and delete their identity, and ask for the links again by email.

One module per job, all on the one `citizen` blueprint (endpoints `citizen.<function>`):

- `citizen_pages`: the blueprint, rendering with the form token, validation, labels;
- `citizen_filing`: the filing form and the page after it (tracking number, secret link);
- `citizen_track`: finding a report by its number, re-sending the links by email;
- `citizen_status`: a report's status page;
- `citizen_replies`: the pelapor's information on tunda and rating of the follow-up;
- `citizen_gesi`: the pelapor deletes their GESI answers;
- `citizen_privacy`: the pelapor sees their personal data and deletes their identity.
"""

from __future__ import annotations

from flask import Response

from api.web import (
    citizen_filing,
    citizen_gesi,
    citizen_privacy,
    citizen_replies,
    citizen_status,
    citizen_track,
)
from api.web.citizen_pages import blp, category_labels, classifications, page

__all__ = ["blp", "category_labels", "classifications"]  # the labels: also the public feed's
# the modules whose pages are added to `blp` as they are imported
ROUTES = (
    citizen_filing,
    citizen_track,
    citizen_status,
    citizen_replies,
    citizen_gesi,
    citizen_privacy,
)


@blp.get("/")
def home() -> Response:
    return page("citizen/home.html")
