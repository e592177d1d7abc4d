"""The Blueprint every REST module uses: flask-smorest's, with a JSON parser that refuses
bodies nested too deeply to parse (webargs lets the RecursionError through as a 500)."""

from __future__ import annotations

import json
from typing import Any

from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser


class SafeJsonParser(FlaskParser):
    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            error = json.JSONDecodeError("JSON nested too deeply", "<body>", 0)
            return self._handle_invalid_json_error(error, req)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = SafeJsonParser()
