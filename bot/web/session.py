"""Signed session cookie carrying the conversation id.

The conversation id is 128 random bits chosen by the app, never by the browser. The
cookie value is ``v1.<id>.<issued>.<signature>`` with an HMAC-SHA256 signature, so a
forged, altered or expired cookie is simply replaced by a new conversation.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Callable, Optional

COOKIE_NAME = "mailhilfe_session"
_VERSION = "v1"
_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def _sign(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SessionSigner:
    def __init__(self, secret: bytes, max_age: int, clock: Callable[[], float] = time.time):
        if len(secret) < 16:
            raise ValueError("SESSION_SECRET must have at least 16 bytes")
        self._secret = secret
        self._max_age = max_age
        self._clock = clock

    @staticmethod
    def new_conversation_id() -> str:
        return secrets.token_hex(16)

    def cookie_value(self, conversation_id: str) -> str:
        issued = str(int(self._clock()))
        body = f"{_VERSION}.{conversation_id}.{issued}"
        return f"{body}.{_sign(self._secret, body)}"

    def conversation_id(self, cookie: Optional[str]) -> Optional[str]:
        """The conversation id of a valid, unexpired cookie value; else None."""
        if not cookie or len(cookie) > 200:
            return None
        parts = cookie.split(".")
        if len(parts) != 4 or parts[0] != _VERSION or not _ID_RE.match(parts[1]):
            return None
        body = ".".join(parts[:3])
        if not hmac.compare_digest(_sign(self._secret, body), parts[3]):
            return None
        try:
            issued = int(parts[2])
        except ValueError:
            return None
        age = self._clock() - issued
        if age < -60 or age > self._max_age:
            return None
        return parts[1]


def set_session_cookie(response, value: str, secure: bool) -> None:
    response.cookies[COOKIE_NAME] = value
    cookie = response.cookies[COOKIE_NAME]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if secure:
        cookie["secure"] = True
