"""The demo support page, the widget's configuration and its static files."""
from __future__ import annotations

from pathlib import Path

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, html, json

from .messages import widget_texts

STATIC_DIR = Path(__file__).resolve().parent / "static"


def make_pages_blueprint() -> Blueprint:
    bp = Blueprint("pages")
    demo_page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")

    @bp.route("/", methods=["GET", "HEAD"])
    async def index(request: Request) -> HTTPResponse:
        return html(demo_page)

    @bp.get("/api/widget/config")
    async def widget_config(request: Request) -> HTTPResponse:
        settings = request.app.ctx.settings
        return json(
            {
                "texts": widget_texts(),
                "limits": {"max_message_chars": settings.max_message_chars},
                "link_hosts": list(settings.link_hosts),
            }
        )

    return bp
