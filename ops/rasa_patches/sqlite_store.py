"""Rasa's SQLTrackerStore on an SQLite file: one kept connection instead of one per call.

With SQLAlchemy 1.4 (Rasa 3.6) an SQLite file gets `NullPool`: every tracker read and
write opens a connection and closes it again, and closing the last connection of a WAL
database checkpoints the log into the database file and deletes it, i.e. extra fsyncs
for every message. Profiled at one customer, commit and close were ~10 % of the Rasa
server's CPU per message. The patch gives SQLite files what SQLAlchemy 2.0 gives them
by default, a `QueuePool` (connections kept open, usable from any thread), and sets
`synchronous=NORMAL`, SQLite's recommended setting for WAL: every committed message
survives a crash or restart of Rasa; only a power loss or kernel crash can lose the last
commits. PostgreSQL and every other store are untouched.
"""
from __future__ import annotations

_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def _is_sqlite_file(url) -> bool:
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def _set_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def pooled_engine(url):
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=4,
                              connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _set_pragmas)
    return engine


def install() -> None:
    import sqlalchemy as sa

    from rasa.core.tracker_store import SQLTrackerStore

    original = SQLTrackerStore.__init__
    if getattr(original, "_mailhilfe_patched", False):
        return

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if _is_sqlite_file(self.engine.url):
            url = self.engine.url
            self.engine.dispose()
            self.engine = pooled_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    __init__._mailhilfe_patched = True  # type: ignore[attr-defined]
    __init__.original = original  # type: ignore[attr-defined]
    SQLTrackerStore.__init__ = __init__
