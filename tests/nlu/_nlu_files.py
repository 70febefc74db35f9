"""Shared helpers for the NLU tests: load training data and holdout with Rasa's reader."""
from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data" / "nlu"
HOLDOUT = ROOT / "tests" / "nlu" / "holdout.yml"
CONTRACT_INTENTS = [
    "setup_client", "ask_server_settings", "report_bounce", "send_problem", "receive_problem",
    "login_problem", "mailbox_full", "max_message_size", "create_address", "delete_address",
    "address_rules", "change_password", "password_rules", "setup_forwarding",
    "forwarding_to_mailbox", "activation_delay", "imap_folders", "pop3_leave_copy",
    "spam_problem", "phishing", "virus_filter", "smtp_auth_info", "domain_authentication",
    "fax_attachment", "greet", "goodbye", "thank", "affirm", "deny", "inform",
    "bot_challenge", "human_handoff", "out_of_scope",
]
CANONICAL = {
    "client": {"outlook", "thunderbird", "apple_mail", "windows_mail", "other"},
    "protocol": {"imap", "pop3", "smtp"},
    "encryption": {"ssl_tls", "starttls", "none"},
}
# SMTP basic reply codes and RFC 3463 enhanced status codes, kept as written.
ERROR_CODE = re.compile(r"^(?:[245]\d\d|[245]\.\d{1,3}\.\d{1,3})$")

_PUNCT = str.maketrans({c: " " for c in string.punctuation + "„“”‚‘’«»…"})


def normalise(text: str) -> str:
    """Lowercase, whitespace collapsed (the contract of the disjointness check)."""
    return " ".join(text.lower().split())


def normalise_loose(text: str) -> str:
    """Also ignores punctuation: 'Hallo!' and 'hallo' count as the same utterance."""
    return " ".join(text.lower().translate(_PUNCT).split())


@lru_cache(maxsize=None)
def training_data():
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(NLU_DIR))


@lru_cache(maxsize=None)
def holdout_data():
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(HOLDOUT))
