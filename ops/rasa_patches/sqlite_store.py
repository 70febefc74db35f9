"""Rasa's SQLTrackerStore on an SQLite file: one kept connection instead of one per call,
one INSERT per save, and no counting query on every save.

1. With SQLAlchemy 1.4 (Rasa 3.6) an SQLite file gets `NullPool`: every tracker read and
   write opens a connection and closes it again, and closing the last connection of a
   WAL database checkpoints the log into the database file and deletes it, i.e. extra
   fsyncs for every message. Profiled at one customer, commit and close were ~10 % of
   the Rasa server's CPU per message. The patch gives SQLite files what SQLAlchemy 2.0
   gives them by default, a `QueuePool` (connections kept open, usable from any
   thread), and sets `synchronous=NORMAL`, SQLite's recommended setting for WAL: every
   committed message survives a crash or restart of Rasa; only a power loss or kernel
   crash can lose the last commits.

2. New events are written with one INSERT instead of one ORM object each (same columns
   and values as Rasa's `save`).

3. Before writing, Rasa's `save` counts the conversation's stored events since its last
   session start (an ORM query with a sub-query; ~8 % of the server's time at 16
   customers) to know which events of the tracker are new. That number is known without
   asking: the tracker was just read from this store (as many events as rows) or saved by
   it, and while Rasa handles a message it holds the conversation's lock, so nobody else
   writes to it. The store remembers, on the tracker object, how many of its events are
   stored and which event was the last stored one; `save` uses that when the tracker
   still starts with exactly those events and asks the database as before otherwise
   (a copied tracker, a new session among the saved events, anything unexpected).

PostgreSQL (`make run-prod`) and every other store are untouched.
"""
from __future__ import annotations

import itertools
import json
from typing import Any, Optional, Tuple

_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
_STORED = "_mailhilfe_stored"  # on a tracker: (number of stored events, last stored event)


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


def remember_stored(tracker, count: int) -> None:
    """The store holds the ``count`` first events of ``tracker`` (all of them) for its
    session; anything else is not remembered."""
    events = tracker.events
    if count == len(events):
        setattr(tracker, _STORED, (count, events[-1] if count else None))
    else:
        forget_stored(tracker)


def forget_stored(tracker) -> None:
    if _STORED in vars(tracker):
        delattr(tracker, _STORED)


def stored_count(tracker) -> Optional[int]:
    """How many leading events are stored, if the tracker still starts with them."""
    known: Optional[Tuple[int, Any]] = vars(tracker).get(_STORED)
    if known is None:
        return None
    count, last = known
    events = tracker.events
    if count == 0 or (count <= len(events) and events[count - 1] is last):
        return count
    return None


def _row(sender_id, event) -> dict:
    """The columns Rasa's `save` writes for one event."""
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _starts_a_session(events) -> bool:
    from rasa.shared.core.events import SessionStarted

    return any(isinstance(event, SessionStarted) for event in events)


def install() -> None:
    import sqlalchemy as sa

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    original_init = SQLTrackerStore.__init__
    if getattr(original_init, "_mailhilfe_patched", False):
        return
    original_save = SQLTrackerStore.save
    original_retrieve = SQLTrackerStore._retrieve

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._mailhilfe_sqlite = _is_sqlite_file(self.engine.url)
        if self._mailhilfe_sqlite:
            url = self.engine.url
            self.engine.dispose()
            self.engine = pooled_engine(url)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _save_in_one_insert(self, tracker, count: Optional[int]) -> Tuple[int, list]:
        """Rasa's `save`, with the new rows written by one INSERT instead of one ORM object
        each (the ORM's unit of work was ~7 % of the server's time at 16 customers).
        ``count``: the events already stored, if known. Returns that number and the
        events saved now."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            if count is None:  # Rasa's question to the database
                count = self._event_query(session, tracker.sender_id,
                                          fetch_events_from_all_sessions=False).count()
            saved = list(itertools.islice(tracker.events, count, None))
            if saved:
                session.execute(self.SQLEvent.__table__.insert(),
                                [_row(tracker.sender_id, event) for event in saved])
            session.commit()
        return count, saved

    async def _retrieve(self, sender_id, fetch_events_from_all_sessions):
        if not getattr(self, "_mailhilfe_sqlite", False):
            return await original_retrieve(self, sender_id, fetch_events_from_all_sessions)
        # Rasa's own, plus: remember how many rows the tracker was made of
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id,
                fetch_events_from_all_sessions=fetch_events_from_all_sessions).all()
            events = [json.loads(row.data) for row in rows]
            if not (self.domain and events):
                return None
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions:
                remember_stored(tracker, len(rows))
            return tracker

    async def save(self, tracker) -> None:
        if not getattr(self, "_mailhilfe_sqlite", False):
            return await original_save(self, tracker)
        known = stored_count(tracker)
        forget_stored(tracker)  # until the database is known to hold it
        count, saved = await _save_in_one_insert(self, tracker, known)
        if not _starts_a_session(saved):  # after a new session the database is asked again
            remember_stored(tracker, count + len(saved))  # what the database now holds

    for function in (__init__, _retrieve, save):
        function._mailhilfe_patched = True  # type: ignore[attr-defined]
    __init__.original = original_init  # type: ignore[attr-defined]
    SQLTrackerStore.__init__ = __init__
    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore.save = save
