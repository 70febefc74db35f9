"""Settings of the web app, read from the environment by `Settings.from_env()`."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from typing import Mapping, Optional, Tuple

DEFAULT_LINK_HOSTS = ("dokom21.de", "dokom.net", "dokom.de")


def _split(value: Optional[str]) -> Tuple[str, ...]:
    return tuple(item.strip().rstrip("/") for item in (value or "").split(",") if item.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the web app needs; defaults are the documented limits."""

    host: str = "127.0.0.1"
    port: int = 8080
    rasa_url: str = "http://127.0.0.1:5005"
    # Several Rasa servers sharing one tracker store (production profile): see
    # bot/web/upstreams.py. Empty: only rasa_url.
    rasa_urls: Tuple[str, ...] = ()
    rasa_balance: str = "sticky"
    rasa_retry_after: float = 5.0
    rasa_token: str = ""
    assist_token: str = ""
    # Origins (scheme://host[:port]) besides the app's own that may call the chat API
    # and embed the widget; the app's own origin is always allowed.
    allowed_origins: Tuple[str, ...] = ()
    # Extra pages that may frame the app (CSP frame-ancestors), besides allowed_origins.
    frame_ancestors: Tuple[str, ...] = ()
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    session_max_age: int = 24 * 3600          # seconds a session cookie is honoured
    cookie_secure: Optional[bool] = None      # None: Secure when the request came over https
    upstream_timeout: float = 10.0            # seconds to wait for Rasa before answering 503
    # chat messages at each Rasa server at once; more wait in the web app (0: no limit),
    # see bot/web/admission.py
    rasa_max_in_flight: int = 4
    max_body_bytes: int = 1024 * 1024         # request body limit (413 above)
    max_message_chars: int = 4000             # longer chat messages are cut, with a notice
    max_payload_chars: int = 1000             # button payloads longer than this: 400
    rate_limit_messages: int = 20             # chat requests per session ...
    rate_limit_window: float = 60.0           # ... per this many seconds (429 above)
    new_sessions_per_minute: int = 120        # new sessions per client address (0: no limit)
    link_hosts: Tuple[str, ...] = DEFAULT_LINK_HOSTS  # widget links only to these domains

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        secret = env.get("SESSION_SECRET", "")
        secure = env.get("COOKIE_SECURE", "").strip().lower()
        return cls(
            host=env.get("WEB_HOST", "").strip() or "127.0.0.1",
            port=_int(env, "WEB_PORT", 8080),
            rasa_url=(env.get("RASA_URL", "").strip() or "http://127.0.0.1:5005").rstrip("/"),
            rasa_urls=_split(env.get("RASA_URLS")),
            rasa_balance=(env.get("RASA_BALANCE", "").strip().lower() or "sticky"),
            rasa_retry_after=_float(env, "RASA_RETRY_AFTER", 5.0),
            rasa_token=env.get("RASA_TOKEN", ""),
            assist_token=env.get("ASSIST_TOKEN", ""),
            allowed_origins=tuple(o.lower() for o in _split(env.get("ALLOWED_ORIGINS"))),
            frame_ancestors=_split(env.get("FRAME_ANCESTORS")),
            session_secret=secret.encode("utf-8") if secret else secrets.token_bytes(32),
            session_max_age=_int(env, "SESSION_MAX_AGE", 24 * 3600),
            cookie_secure={"1": True, "true": True, "0": False, "false": False}.get(secure),
            upstream_timeout=_float(env, "UPSTREAM_TIMEOUT", 10.0),
            rasa_max_in_flight=_int(env, "RASA_MAX_IN_FLIGHT", 4),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 1024 * 1024),
            max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 4000),
            rate_limit_messages=_int(env, "RATE_LIMIT_MESSAGES", 20),
            rate_limit_window=_float(env, "RATE_LIMIT_WINDOW", 60.0),
            new_sessions_per_minute=_int(env, "NEW_SESSIONS_PER_MINUTE", 120),
            link_hosts=_split(env.get("LINK_HOSTS")) or DEFAULT_LINK_HOSTS,
        )
