"""scripts/soak.py: a customer's finished conversations stay in the check."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bot.web.session import SessionSigner

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
soak = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("soak", soak)  # its dataclasses look their module up there
_spec.loader.exec_module(soak)


def test_a_new_conversation_keeps_the_old_one_for_the_check():
    customer = soak.Customer(0, SessionSigner(b"s" * 32, 3600))
    customer.conversation, customer.cookie = "first", "cookie-1"
    customer.accepted, customer.sent, customer.accepted_markers = 2, 3, ["K00001", "K00002"]
    customer.start_new_conversation()
    assert customer.conversation is None and customer.cookie is None  # next request: new session
    assert customer.accepted == customer.sent == 0 and customer.accepted_markers == []
    customer.conversation, customer.accepted, customer.accepted_markers = "second", 1, ["K00007"]
    got = [(c.conversation, c.accepted, c.accepted_markers) for c in customer.conversations()]
    assert got == [("first", 2, ["K00001", "K00002"]), ("second", 1, ["K00007"])]


def test_verify_finds_a_message_lost_in_an_earlier_conversation(tmp_path):
    import sqlite3

    db = tmp_path / "tracker.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, data TEXT)")
        conn.execute("INSERT INTO events (sender_id, type_name, data) VALUES (?, ?, ?)",
                     ("second", "user", '{"text": "Hallo (Ref K00007)"}'))
    customer = soak.Customer(0, SessionSigner(b"s" * 32, 3600))
    customer.conversation, customer.accepted, customer.accepted_markers = "first", 1, ["K00001"]
    customer.start_new_conversation()
    customer.conversation, customer.accepted, customer.accepted_markers = "second", 1, ["K00007"]
    result = soak.verify(customer.conversations(), db)
    assert result["lost"] == ["K00001"] and result["duplicated"] == []
