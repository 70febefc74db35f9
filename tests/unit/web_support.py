"""Test support for the web app: a fake Rasa REST channel and the real Sanic app,
both served on free loopback ports from one background thread, plus a small raw HTTP
client (so tests can send invalid UTF-8, wrong headers and huge bodies)."""
from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import socket
import threading
from dataclasses import dataclass, field, replace
from http.cookies import SimpleCookie
from typing import Any, Dict, List, Optional

from aiohttp import web
from sanic import Sanic

from bot.web import Settings, create_app

# Several apps start in one process here; Sanic needs test mode for that.
Sanic.test_mode = True

SECRET = b"unit-test-secret-with-enough-bytes!"
_counter = itertools.count()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeRasa:
    """Rasa's REST channel as far as the web app sees it. `mode` picks the behaviour."""

    def __init__(self) -> None:
        self.mode = "echo"
        self.delay = 0.0
        self.received: List[Dict[str, Any]] = []

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(body)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.mode == "slow":
            await asyncio.sleep(60)
        if self.mode == "error":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "badjson":
            return web.Response(status=200, text="<html>not json", content_type="text/html")
        if self.mode == "notlist":
            return web.json_response({"oops": True})
        if self.mode == "empty":
            return web.json_response([])
        sender = body.get("sender")
        return web.json_response(
            [
                {"recipient_id": sender, "text": "Echo: " + str(body.get("message"))},
                {
                    "recipient_id": sender,
                    "text": "Welches Protokoll möchten Sie nutzen?",
                    "buttons": [
                        {"title": "IMAP", "payload": '/inform{"protocol":"imap"}'},
                        {"title": "POP3", "payload": '/inform{"protocol":"pop3"}'},
                        {"title": 5, "payload": None},
                    ],
                },
                {"recipient_id": sender, "custom": {"kind": "settings"}},
                {"recipient_id": sender, "text": None},
            ]
        )


@dataclass
class Response:
    status: int
    headers: Dict[str, str]
    set_cookies: List[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def cookie(self, name: str) -> Optional[str]:
        for raw in self.set_cookies:
            jar = SimpleCookie()
            jar.load(raw)
            if name in jar:
                return jar[name].value
        return None


@dataclass
class Client:
    port: int
    cookies: Dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: Optional[bytes] = None,
                headers: Optional[Dict[str, str]] = None, timeout: float = 30.0) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        all_headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=all_headers)
            raw = conn.getresponse()
            data = raw.read()
            response = Response(
                status=raw.status,
                headers={k.lower(): v for k, v in raw.getheaders()},
                set_cookies=raw.headers.get_all("Set-Cookie") or [],
                body=data,
            )
        finally:
            conn.close()
        for raw_cookie in response.set_cookies:
            jar = SimpleCookie()
            jar.load(raw_cookie)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response

    def chat(self, payload: Any, origin: Optional[str] = "self", **kwargs) -> Response:
        headers = {"Content-Type": "application/json"}
        if origin == "self":
            headers["Origin"] = self.origin
        elif origin is not None:
            headers["Origin"] = origin
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        return self.request("POST", "/api/chat", body=body, headers=headers, **kwargs)


class Running:
    """The web app (with `settings`) and a FakeRasa, served from a background thread."""

    def __init__(self, settings: Optional[Settings] = None, rasa_down: bool = False,
                 dead_rasa_first: bool = False) -> None:
        self.rasa = FakeRasa()
        self.rasa_port = free_port()
        self.port = free_port()
        base = settings or make_settings()
        rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        # dead_rasa_first: RASA_URLS lists a server that refuses connections first
        rasa_urls = (f"http://127.0.0.1:{free_port()}", rasa_url) if dead_rasa_first else ()
        self.settings = replace(base, rasa_url=rasa_url, rasa_urls=rasa_urls, port=self.port,
                                rasa_balance="round_robin" if dead_rasa_first else base.rasa_balance)
        self.rasa_down = rasa_down
        self.app = create_app(self.settings, name=f"web_test_{next(_counter)}")
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def client(self) -> Client:
        return Client(self.port)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        if not self.rasa_down:
            rasa_app = web.Application()
            rasa_app.router.add_post("/webhooks/rest/webhook", self.rasa.webhook)
            self._rasa_runner = web.AppRunner(rasa_app, access_log=None)
            await self._rasa_runner.setup()
            await web.TCPSite(self._rasa_runner, "127.0.0.1", self.rasa_port).start()
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        await self._server.start_serving()

    async def _stop(self) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()
        if not self.rasa_down:
            await self._rasa_runner.cleanup()

    def __enter__(self) -> "Running":
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def __exit__(self, *exc_info) -> None:
        future = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        try:
            future.result(15)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)


def make_settings(**overrides) -> Settings:
    values = dict(
        session_secret=SECRET,
        upstream_timeout=1.0,
        rate_limit_messages=0,
        new_sessions_per_minute=0,
        allowed_origins=("https://www.dokom21.de",),
    )
    values.update(overrides)
    return Settings(**values)


def assert_json_error(response, status, code):
    assert response.status == status, response.body
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["code"] == code
    assert isinstance(data["error"], str) and len(data["error"]) > 10
    return data
