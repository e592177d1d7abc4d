"""The WSGI entry point for production servers: `gunicorn api.wsgi:app`.

Logging is set up first (JSON lines unless LAPOR_LOG_FORMAT=text), gunicorn's own loggers too.
"""

from api import create_app, logs
from api.config import Settings

_settings = Settings.from_env()
logs.configure(logs.resolve_format(_settings.LOG_FORMAT, development=False), _settings.LOG_LEVEL)
app = create_app()
