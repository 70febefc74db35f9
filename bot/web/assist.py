"""Agent assist over HTTP: the internal page and its token-protected JSON API.

Routes (Blueprint ``assist_bp``, registered by ``bot.web.app.create_app``):

* ``GET /assist`` and ``/assist/assist.{js,css}``: the page (no token needed to load it),
* ``POST /api/assist``: analyse a pasted text (contract: ``shared/spec/contract.md``),
* ``GET /api/assist/article/<id>?client=&protocol=``: an article with its full steps,
* ``GET /api/assist/conversation/<id>``: transcript, slots and hand-over summary.

Every API route needs ``Authorization: Bearer <ASSIST_TOKEN>``; without it: 401 and
nothing else. The customer's text is never logged (only its length and timings).
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import time
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import aiohttp
import yaml
from sanic import Blueprint
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse, file, json as json_response

from bot.assist import add_bounce, assemble, prepare
from bot.assist.conversation import summarise_tracker
from bot.assist.entities import CLIENTS, PROTOCOLS
from bot.assist.kbview import article_view

logger = logging.getLogger(__name__)

assist_bp = Blueprint("assist")

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_TEXTS = Path(__file__).resolve().parents[2] / "data" / "assist" / "api.yml"
MAX_TEXT_CHARS = 100_000
# seconds per /model/parse call; then the answer comes from the knowledge base alone
NLU_TIMEOUT = float(os.environ.get("ASSIST_NLU_TIMEOUT", "") or 2.5)
WARM_NLU_SECONDS = 180.0   # keep trying to warm Rasa up this long after the app started
TRACKER_TIMEOUT = 5.0
_ARTICLE_ID = re.compile(r"^[a-z0-9_]{1,80}$")
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
_STATIC_FILES = {
    "assist.js": "application/javascript; charset=utf-8",
    "assist.css": "text/css; charset=utf-8",
}


# -- helpers ------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _error_texts() -> dict[str, str]:
    return yaml.safe_load(API_TEXTS.read_text(encoding="utf-8"))["errors"]


def api_error(status: int, code: str, **values: Any) -> HTTPResponse:
    text = _error_texts().get(code, code)
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return json_response({"error": text, "code": code}, status=status)


def _setting(request: Request, name: str, default: Any = None) -> Any:
    settings = getattr(request.app.ctx, "settings", None)
    if isinstance(settings, dict):
        return settings.get(name, default)
    return getattr(settings, name, default)


def unauthorized() -> HTTPResponse:
    return HTTPResponse(status=401, headers={"WWW-Authenticate": 'Bearer realm="assist"'},
                        content_type="text/plain; charset=utf-8")


def authorised(request: Request) -> bool:
    """Constant-time check of the bearer token; no configured token means no access."""
    expected = _setting(request, "assist_token") or ""
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode("utf-8"), str(expected).encode("utf-8"))


def _http(request: Request) -> aiohttp.ClientSession:
    """The app's shared client session (``app.ctx.http``), or our own as a fallback."""
    session = getattr(request.app.ctx, "http", None)
    if session is not None and not session.closed:
        return session
    own = getattr(request.app.ctx, "assist_http", None)
    if own is None or own.closed:
        own = aiohttp.ClientSession()
        request.app.ctx.assist_http = own
    return own


@assist_bp.listener("after_server_stop")
async def _close_own_http(app, _loop) -> None:
    own = getattr(app.ctx, "assist_http", None)
    if own is not None and not own.closed:
        await own.close()


@assist_bp.listener("after_server_start")
async def _warm_up(app, loop) -> None:
    """Load the KB and the assist data off the event loop, and get Rasa's first (slow)
    parse done before an agent waits for it."""
    def warm() -> None:
        try:
            assemble(prepare("Outlook einrichten"), [None], _kb())
        except Exception as exc:  # noqa: BLE001 - the first request will report it
            logger.warning("assist warm-up failed: %s", type(exc).__name__)

    loop.run_in_executor(None, warm)
    app.ctx.assist_warm_nlu = loop.create_task(_warm_nlu(app))


async def _warm_nlu(app) -> None:
    settings = getattr(app.ctx, "settings", None)
    rasa_url = str(getattr(settings, "rasa_url", "") or "").rstrip("/")
    token = str(getattr(settings, "rasa_token", "") or "")
    if not rasa_url:
        return
    deadline = asyncio.get_running_loop().time() + WARM_NLU_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        session = getattr(app.ctx, "http", None)
        try:
            if session is not None and not session.closed:
                async with session.post(f"{rasa_url}/model/parse", params={"token": token},
                                        json={"text": "Outlook einrichten"},
                                        timeout=aiohttp.ClientTimeout(total=30)) as response:
                    if response.status == 200:
                        return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            pass
        await asyncio.sleep(2)


@assist_bp.listener("before_server_stop")
async def _stop_warm_up(app, _loop) -> None:
    task = getattr(app.ctx, "assist_warm_nlu", None)
    if task is not None and not task.done():
        task.cancel()


def _kb() -> Any:
    from bot.kb import get_kb

    return get_kb()


def _rasa(request: Request) -> tuple[str, str]:
    return str(_setting(request, "rasa_url") or "").rstrip("/"), str(_setting(request, "rasa_token") or "")


async def parse_with_rasa(request: Request, text: str) -> Optional[dict[str, Any]]:
    """Rasa's /model/parse result for ``text``, or None when Rasa fails (never raises)."""
    rasa_url, token = _rasa(request)
    if not rasa_url:
        return None
    timeout = aiohttp.ClientTimeout(total=NLU_TIMEOUT)
    try:
        async with _http(request).post(f"{rasa_url}/model/parse", params={"token": token},
                                       json={"text": text}, timeout=timeout) as response:
            if response.status != 200:
                logger.warning("assist: NLU answered HTTP %s", response.status)
                return None
            data = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        logger.warning("assist: NLU not reachable (%s)", type(exc).__name__)
        return None
    return data if isinstance(data, dict) else None


def _read_text(request: Request) -> tuple[Optional[str], Optional[HTTPResponse]]:
    try:
        body = json.loads((request.body or b"").decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, api_error(400, "bad_json")
    if not isinstance(body, dict):
        return None, api_error(400, "bad_json")
    text = body.get("text")
    if not isinstance(text, str):
        return None, api_error(400, "text_missing")
    if len(text) > MAX_TEXT_CHARS:
        return None, api_error(400, "text_too_long", max_chars=f"{MAX_TEXT_CHARS:,}".replace(",", "."))
    # JSON may carry lone surrogates ("\ud800") that no UTF-8 answer could hold
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"), None


# -- routes -------------------------------------------------------------------------
@assist_bp.get("/assist")
async def assist_page(request: Request) -> HTTPResponse:
    return await file(STATIC_DIR / "assist.html", mime_type="text/html; charset=utf-8",
                      headers={"Cache-Control": "no-cache"})


@assist_bp.get("/assist/<name:str>")
async def assist_static(request: Request, name: str) -> HTTPResponse:
    if name not in _STATIC_FILES:
        raise NotFound("not found")
    return await file(STATIC_DIR / name, mime_type=_STATIC_FILES[name],
                      headers={"Cache-Control": "no-cache"})


@assist_bp.post("/api/assist")
async def assist_api(request: Request) -> HTTPResponse:
    if not authorised(request):
        return unauthorized()
    text, error = _read_text(request)
    if error is not None:
        return error
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    try:
        prepared = await loop.run_in_executor(None, partial(prepare, text, with_bounce=False))
        texts = prepared.nlu_texts()
        # the bounce analyser (this process) and the NLU (Rasa's process) work side by side
        bounce_done = loop.run_in_executor(None, add_bounce, prepared)
        parses = list(await asyncio.gather(*(parse_with_rasa(request, t) for t in texts)))
        await bounce_done
        answer = await loop.run_in_executor(None, assemble, prepared, parses, _kb())
    except Exception as exc:  # noqa: BLE001 - report the kind only, never the text
        logger.error("assist: analysis failed: %s", type(exc).__name__)
        return api_error(500, "internal")
    logger.info("assist: %d chars, %d questions, nlu=%s, bounce=%s, %.0f ms", len(text),
                len(answer["questions"]), answer["nlu_available"], answer["bounce"] is not None,
                (time.perf_counter() - started) * 1000)
    return json_response(answer, dumps=lambda data: json.dumps(data, ensure_ascii=False))


@assist_bp.get("/api/assist/article/<article_id:str>")
async def assist_article(request: Request, article_id: str) -> HTTPResponse:
    if not authorised(request):
        return unauthorized()
    client = request.args.get("client") or None
    protocol = request.args.get("protocol") or None
    if client is not None and client not in CLIENTS + ("webagent",):
        return api_error(400, "bad_parameter", name="client")
    if protocol is not None and protocol not in PROTOCOLS:
        return api_error(400, "bad_parameter", name="protocol")
    if not _ARTICLE_ID.match(article_id):
        return api_error(404, "article_not_found")
    loop = asyncio.get_running_loop()
    try:
        view = await loop.run_in_executor(None, article_view, _kb(), article_id, client, protocol)
    except Exception as exc:  # noqa: BLE001
        logger.error("assist: article view failed: %s", type(exc).__name__)
        return api_error(500, "internal")
    if view is None:
        return api_error(404, "article_not_found")
    return json_response(view, dumps=lambda data: json.dumps(data, ensure_ascii=False))


@assist_bp.get("/api/assist/conversation/<conversation_id:str>")
async def assist_conversation(request: Request, conversation_id: str) -> HTTPResponse:
    if not authorised(request):
        return unauthorized()
    if not _CONVERSATION_ID.match(conversation_id):
        return api_error(400, "bad_conversation_id")
    rasa_url, token = _rasa(request)
    url = f"{rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker"
    try:
        async with _http(request).get(url, params={"token": token},
                                      timeout=aiohttp.ClientTimeout(total=TRACKER_TIMEOUT)) as response:
            if response.status == 404:
                return api_error(404, "conversation_not_found")
            if response.status != 200:
                logger.warning("assist: tracker answered HTTP %s", response.status)
                return api_error(503, "rasa_unavailable")
            tracker = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        logger.warning("assist: tracker not reachable (%s)", type(exc).__name__)
        return api_error(503, "rasa_unavailable")
    summary = summarise_tracker(tracker) if isinstance(tracker, dict) else None
    if summary is None:
        return api_error(404, "conversation_not_found")
    summary["conversation_id"] = conversation_id
    return json_response(summary, dumps=lambda data: json.dumps(data, ensure_ascii=False))
