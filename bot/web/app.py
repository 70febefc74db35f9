"""The Sanic app: `create_app(settings)` and the `python -m bot.web` entry point."""
from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
from typing import Optional

import aiohttp
from sanic import Sanic

from . import security
from .admission import AdmissionGate
from .chat import make_chat_blueprint
from .errors import JsonErrorHandler
from .messages import load_messages
from .pages import STATIC_DIR, make_pages_blueprint
from .ratelimit import RateLimiter
from .session import SessionSigner
from .settings import Settings
from .upstreams import Upstreams

logger = logging.getLogger(__name__)
_NAME_RE = re.compile(r"[^A-Za-z0-9_]")


def _register_assist(app: Sanic) -> None:
    """Agent assist (`bot/web/assist.py`, Blueprint `assist_bp`), when it exists."""
    if importlib.util.find_spec("bot.web.assist") is None:
        return
    module = importlib.import_module("bot.web.assist")
    blueprint = getattr(module, "assist_bp", None)
    if blueprint is None:
        raise RuntimeError("bot/web/assist.py defines no Blueprint named assist_bp")
    app.blueprint(blueprint)


def create_app(settings: Optional[Settings] = None, name: str = "mailhilfe_web") -> Sanic:
    settings = settings or Settings.from_env()
    load_messages()  # fail at start, not at the first request, when the texts are broken
    app = Sanic(_NAME_RE.sub("_", name), error_handler=JsonErrorHandler())
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes
    app.config.REQUEST_TIMEOUT = 15
    app.config.RESPONSE_TIMEOUT = max(30, int(settings.upstream_timeout) + 10)
    app.config.KEEP_ALIVE_TIMEOUT = 5
    app.config.FALLBACK_ERROR_FORMAT = "json"

    app.ctx.settings = settings
    app.ctx.http = None
    app.ctx.upstreams = Upstreams(
        settings.rasa_urls or (settings.rasa_url,), settings.rasa_balance,
        settings.rasa_retry_after, token=settings.rasa_token,
    )
    app.ctx.gate = AdmissionGate(settings.rasa_max_in_flight * len(app.ctx.upstreams))
    app.ctx.sessions = SessionSigner(settings.session_secret, settings.session_max_age)
    app.ctx.chat_limiter = RateLimiter(settings.rate_limit_messages, settings.rate_limit_window)
    app.ctx.new_session_limiter = RateLimiter(settings.new_sessions_per_minute, 60.0)

    @app.listener("before_server_start")
    async def open_http(app_, _loop):
        app_.ctx.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout),
        )

    @app.listener("after_server_stop")
    async def close_http(app_, _loop):
        if app_.ctx.http is not None:
            await app_.ctx.http.close()
            app_.ctx.http = None

    security.install(app, settings)
    app.blueprint(make_pages_blueprint())
    app.blueprint(make_chat_blueprint())
    _register_assist(app)
    app.static("/static", str(STATIC_DIR), name="static")
    return app


def main() -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    if not os.environ.get("SESSION_SECRET"):
        logger.info("SESSION_SECRET not set: generated one; sessions end when the app restarts")
    app = create_app(settings)
    for name in ("sanic.root", "sanic.error", "sanic.access"):
        logging.getLogger(name).propagate = False  # Sanic prints these itself
    app.run(host=settings.host, port=settings.port, access_log=False, debug=False,
            workers=1, motd=False)
    return 0
