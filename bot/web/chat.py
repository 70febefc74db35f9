"""POST /api/chat (contract: Chat API) and POST /api/session ("Neues Gespräch")."""
from __future__ import annotations

import hashlib
import logging
import math
import time

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.redact import redact

from .bodies import BodyTooLarge, read_body
from .chat_input import InputError, parse_chat_body
from .errors import json_error
from .messages import error_text, no_answer_apology, notice_text, password_warning
from .rasa_client import UpstreamError, clean_bot_messages
from .upstreams import send_balanced
from .session import COOKIE_NAME, set_session_cookie

logger = logging.getLogger(__name__)


def _log_id(conversation_id: str) -> str:
    """A short, non-reversible tag of the conversation for logs."""
    return hashlib.sha256(conversation_id.encode()).hexdigest()[:10]


def _client_address(request: Request) -> str:
    return request.remote_addr or request.ip or "-"


def _cookie_secure(request: Request, configured) -> bool:
    return configured if configured is not None else request.scheme == "https"


def _retry_after(seconds: float) -> int:
    return max(1, math.ceil(seconds))


def has_real_answer(messages) -> bool:
    """Whether Rasa's messages answer the customer: anything but the password warning
    that the Rasa channel sends before the bot's answer."""
    warning = password_warning()
    return any(message != {"text": warning} for message in messages)


def make_chat_blueprint() -> Blueprint:
    # Fill the fault texts now (knowledge base loaded once): a broken contact entry stops
    # the app at start, not when Rasa or the action server fails.
    no_answer_apology()
    error_text("upstream_unavailable")
    bp = Blueprint("chat", url_prefix="/api")

    def session_for(request: Request):
        """(conversation id, is new, error response or None)."""
        ctx = request.app.ctx
        conversation_id = ctx.sessions.conversation_id(request.cookies.get(COOKIE_NAME))
        if conversation_id:
            return conversation_id, False, None
        wait = ctx.new_session_limiter.hit(_client_address(request))
        if wait:
            seconds = _retry_after(wait)
            return None, True, json_error(429, "rate_limited", retry_after=seconds, seconds=seconds)
        return ctx.sessions.new_conversation_id(), True, None

    def with_cookie(request: Request, response: HTTPResponse, conversation_id: str, is_new: bool):
        if is_new:
            settings = request.app.ctx.settings
            set_session_cookie(
                response,
                request.app.ctx.sessions.cookie_value(conversation_id),
                _cookie_secure(request, settings.cookie_secure),
            )
        return response

    @bp.post("/chat", stream=True)
    async def chat(request: Request) -> HTTPResponse:
        ctx = request.app.ctx
        settings = ctx.settings
        started = time.monotonic()
        try:
            raw = await read_body(request, settings.max_body_bytes)
            chat_input = parse_chat_body(raw, settings.max_message_chars, settings.max_payload_chars)
        except BodyTooLarge:
            return json_error(413, "too_large")
        except InputError as error:
            return json_error(400, error.code)

        conversation_id, is_new, refused = session_for(request)
        if refused is not None:
            return refused
        wait = ctx.chat_limiter.hit(conversation_id)
        if wait:
            seconds = _retry_after(wait)
            response = json_error(429, "rate_limited", retry_after=seconds, seconds=seconds)
            return with_cookie(request, response, conversation_id, is_new)

        redaction = redact(chat_input.text)
        metadata = {"redacted": redaction.found} if redaction.found else {}
        try:
            async with ctx.gate.admit(settings.upstream_timeout) as time_left:
                items = await send_balanced(
                    ctx.http, ctx.upstreams, conversation_id, redaction.text,
                    metadata=metadata, timeout=time_left,
                )
        except UpstreamError as error:
            logger.warning("chat conv=%s upstream failed: %s", _log_id(conversation_id), error)
            response = json_error(503, error.code)
            response.headers["Retry-After"] = "5"
            return with_cookie(request, response, conversation_id, is_new)
        except Exception as error:  # a bug on the way to Rasa: still a clear 503, never a 500
            logger.error("chat conv=%s unexpected %s talking to Rasa", _log_id(conversation_id),
                         type(error).__name__)
            response = json_error(503, "upstream_unavailable")
            response.headers["Retry-After"] = "5"
            return with_cookie(request, response, conversation_id, is_new)

        messages = clean_bot_messages(items)
        if not has_real_answer(messages):
            # Rasa took the message but said nothing (besides the password warning). With
            # this bot that means a custom action failed: Rasa 3.6 logs the error, drops
            # the action's messages and goes on. Never leave the customer in silence.
            logger.warning("chat conv=%s Rasa gave no answer (action server down or failing?)",
                           _log_id(conversation_id))
            messages.append({"text": no_answer_apology()})
        answer = {"messages": messages, "new_session": is_new,
                  "truncated": chat_input.truncated}
        if chat_input.truncated:
            answer["notice"] = notice_text("truncated", limit=f"{settings.max_message_chars:,}".replace(",", "."))
        logger.info(
            "chat conv=%s kind=%s chars=%d truncated=%s redacted=%s answers=%d ms=%d",
            _log_id(conversation_id), "payload" if chat_input.is_payload else "text",
            chat_input.original_chars, chat_input.truncated, ",".join(redaction.found) or "-",
            len(answer["messages"]), (time.monotonic() - started) * 1000,
        )
        return with_cookie(request, json(answer), conversation_id, is_new)

    @bp.post("/session")
    async def new_session(request: Request) -> HTTPResponse:
        """Start a new conversation: a fresh session cookie, the old one is forgotten."""
        wait = request.app.ctx.new_session_limiter.hit(_client_address(request))
        if wait:
            seconds = _retry_after(wait)
            return json_error(429, "rate_limited", retry_after=seconds, seconds=seconds)
        conversation_id = request.app.ctx.sessions.new_conversation_id()
        return with_cookie(request, json({"status": "new"}), conversation_id, True)

    return bp
