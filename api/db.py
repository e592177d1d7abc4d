"""The app's database: one engine per app, one Session per request, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.db import make_engine, make_session_factory


class Database:
    """A Flask extension created unbound and attached with `init_app`."""

    def init_app(self, app: Flask, url: str) -> None:
        engine = make_engine(url)
        app.extensions["lapor_db"] = (engine, make_session_factory(engine))
        app.teardown_appcontext(self._close)

    @staticmethod
    def engine(app: Flask | None = None) -> Engine:
        return (app or current_app).extensions["lapor_db"][0]

    @staticmethod
    def factory(app: Flask | None = None) -> sessionmaker:
        return (app or current_app).extensions["lapor_db"][1]

    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.factory()()
        return g.db_session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()
