"""A customer types passwords into the chat: they are stored and logged nowhere.

A stack of its own runs with DEBUG logging for Rasa and the web app (at DEBUG Rasa logs
every message text, so a secret that got through would show in the log). A customer
types credentials in several forms, through the web app and, as a second line of
defence, straight into Rasa's REST channel. Afterwards the secrets appear in no bot
message, in no byte of the tracker store (the SQLite file with its WAL, or PostgreSQL's
data directory and a dump of its tables in the production profile), and in no file of
the run directory (logs, endpoints); and each time the bot told the customer to change
the password in the customer portal.
"""
from __future__ import annotations

import secrets
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
import requests

from bot.kb import get_kb
from bot.redact import PLACEHOLDER
from ops.stack import DEFAULT_MODEL, ROOT, Stack

pytestmark = pytest.mark.stack

START_TIMEOUT = 600.0
# (what the customer types, the secret in it)
CONVERSATION: List[Tuple[str, str]] = [
    ("Hallo", ""),
    ("Ich komme nicht in mein Postfach, mein Passwort ist Sommer2024!", "Sommer2024!"),
    ("Kennwort: x7#Lk9q", "x7#Lk9q"),
    ("pw=geheim123", "geheim123"),
    ("Benutzername: max.mustermann@dokom.net\nGeheim123!", "Geheim123!"),
]
SECRETS = [secret for _, secret in CONVERSATION if secret]


def secret_forms() -> List[bytes]:
    """Each secret as it could be stored: plain UTF-8, JSON-escaped, lower case."""
    forms = set()
    for secret in SECRETS:
        for text in (secret, secret.lower(), secret.replace("#", "\\u0023")):
            forms.add(text.encode("utf-8"))
            forms.add(text.encode("utf-16-le"))
    return sorted(forms)


def find_secrets(data: bytes) -> List[str]:
    lowered = data.lower()
    return [form.decode("utf-8", "replace") for form in secret_forms() if form.lower() in lowered]


def files_under(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path


# ------------------------------------------------------------ stacks
def start_stack(base: Path, tracker_store: str = "") -> Stack:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first", pytrace=False)
    stack = Stack(
        web=(ROOT / "bot" / "web" / "__main__.py").exists(),
        run_dir=base / "run",
        tracker_db=base / "run" / "tracker.db",
        tracker_store=tracker_store or None,
        rasa_env={"LOG_LEVEL": "DEBUG"},
        web_env={"LOG_LEVEL": "DEBUG", "SESSION_SECRET": secrets.token_urlsafe(32)},
    )
    stack.start(timeout=START_TIMEOUT)
    return stack


class Played:
    """A stack after the conversation was played, with everything the tests look at."""

    def __init__(self, stack: Stack, store: str, pg=None) -> None:
        self.stack = stack
        self.store = store
        self.pg = pg
        self.web_answers: List[Dict] = []
        self.rasa_answers: List[List[Dict]] = []
        self.web_sender = ""
        self.rasa_sender = f"secrets-{uuid.uuid4().hex[:12]}"

    def play(self) -> "Played":
        http = requests.Session()
        for text, _ in CONVERSATION:
            response = http.post(f"{self.stack.web_url}/api/chat", json={"message": text},
                                 headers={"Origin": self.stack.web_url}, timeout=90)
            assert response.status_code == 200, response.text
            self.web_answers.append(response.json())
        self.web_sender = http.cookies.get("mailhilfe_session").split(".")[1]
        # straight into Rasa's REST channel: its own redaction must hold without the web app
        for text, _ in CONVERSATION:
            response = requests.post(f"{self.stack.rasa_url}/webhooks/rest/webhook",
                                     json={"sender": self.rasa_sender, "message": text}, timeout=90)
            assert response.status_code == 200, response.text
            self.rasa_answers.append(response.json())
        return self

    def reply_texts(self) -> List[List[str]]:
        web = [[m.get("text") or "" for m in answer["messages"]] for answer in self.web_answers]
        rasa = [[m.get("text") or "" for m in answer] for answer in self.rasa_answers]
        return web + rasa


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def played(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"secrets-{request.param}")
    if request.param == "sqlite":
        stack = start_stack(base)
        try:
            yield Played(stack, "sqlite").play()
        finally:
            stack.stop()
        return
    try:
        from ops.services import PostgresServer, ServiceUnavailable, ensure_installed
    except ImportError as exc:
        pytest.skip(f"production profile (ops/services.py) not available: {exc}")
    try:
        ensure_installed()
        pg = PostgresServer(durable=True).start()
    except (ServiceUnavailable, OSError) as exc:
        pytest.skip(f"PostgreSQL cannot be started on this machine: {exc}")
    try:
        stack = start_stack(base, tracker_store=pg.tracker_store_yaml())
        try:
            yield Played(stack, "postgresql", pg).play()
        finally:
            stack.stop()
    finally:
        pg.stop()


# ------------------------------------------------------------ what the customer sees
def test_no_secret_in_any_bot_message(played):
    for texts in played.reply_texts():
        joined = "\n".join(texts)
        assert not find_secrets(joined.encode("utf-8")), joined


def test_customer_is_told_to_change_the_password_in_the_portal(played):
    portal = get_kb().portal.url
    answers = played.reply_texts()
    per_conversation = len(CONVERSATION)
    for index, texts in enumerate(answers):
        text, secret = CONVERSATION[index % per_conversation]
        joined = "\n".join(texts)
        if secret:
            assert portal in joined and "Kundenbereich" in joined and "ändern" in joined, \
                f"no advice to change the password after {text!r}: {joined}"
        else:
            assert "Passwort entfernt" not in joined and portal not in joined


# ------------------------------------------------------------ what is stored
def stored_events_text(played: Played) -> str:
    """Every stored event of both conversations, decoded by the store itself."""
    if played.store == "sqlite":
        import sqlite3

        with sqlite3.connect(str(played.stack.tracker_db)) as conn:
            rows = conn.execute("SELECT sender_id, data FROM events").fetchall()
    else:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=played.pg.port, user=played.pg.user,
                                dbname=played.pg.database)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT sender_id, data FROM events")
                rows = cur.fetchall()
        finally:
            conn.close()
    return "\n".join(f"{sender} {data}" for sender, data in rows
                     if sender in (played.web_sender, played.rasa_sender))


def test_the_conversations_are_stored_with_placeholders(played):
    """The store really holds both conversations (so the next tests look at the right data)."""
    text = stored_events_text(played)
    for sender in (played.web_sender, played.rasa_sender):
        assert sender in text
    assert text.count(PLACEHOLDER) >= 2 * len(SECRETS), text[:2000]


def test_no_secret_in_the_tracker_store(played):
    assert not find_secrets(stored_events_text(played).encode("utf-8"))
    if played.store == "sqlite":
        db = Path(played.stack.tracker_db)
        raw_files = [p for p in db.parent.glob(db.name + "*") if p.is_file()]  # db, -wal, -shm
        assert db in raw_files
    else:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=played.pg.port, user=played.pg.user,
                                dbname=played.pg.database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("CHECKPOINT")  # write the rows into the table files too
                cur.execute("SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = 'public'")
                tables = [row[0] for row in cur.fetchall()]
                for table in tables:  # every table, every column, as text
                    cur.execute(f'SELECT t::text FROM "{table}" t')
                    dump = "\n".join(row[0] for row in cur.fetchall())
                    assert not find_secrets(dump.encode("utf-8")), table
        finally:
            conn.close()
        raw_files = list(files_under(Path(played.pg.data_dir)))
        if played.pg.log_path:
            raw_files.append(Path(played.pg.log_path))
    found = {str(p): find_secrets(p.read_bytes()) for p in raw_files}
    assert not {p: s for p, s in found.items() if s}, found
    assert sum(p.stat().st_size for p in raw_files) > 0


def test_no_secret_in_any_file_of_the_run_directory(played):
    files = list(files_under(played.stack.run_dir))
    names = {p.name for p in files}
    assert {"rasa.log", "actions.log"} <= names, names
    rasa_log = (played.stack.run_dir / "rasa.log").read_text(errors="replace")
    # DEBUG logging is on: the redacted texts are logged, so a secret would be too
    assert PLACEHOLDER in rasa_log, "Rasa did not log message texts; this test would see nothing"
    found = {str(p): find_secrets(p.read_bytes()) for p in files}
    assert not {p: s for p, s in found.items() if s}, found


def test_the_secret_search_finds_a_planted_secret(tmp_path):
    """The byte search is not vacuous: a planted secret, also JSON-escaped, is found."""
    assert find_secrets(b'{"text": "Kennwort: x7#Lk9q"}')
    assert find_secrets('{"text": "x7\\u0023Lk9q"}'.encode())
    assert find_secrets("pw=GEHEIM123".encode("utf-16-le"))
    assert not find_secrets(f"Kennwort: {PLACEHOLDER}".encode())
