"""Origin allow-list, CORS for allowed origins, and security headers on every response."""
from __future__ import annotations

from typing import Iterable, Optional, Tuple

from sanic import Sanic
from sanic.request import Request

from .errors import json_error
from .settings import Settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CORS_PATHS = ("/api/chat", "/api/session", "/api/widget/config")


def own_origin(request: Request) -> str:
    return f"{request.scheme}://{request.host}".lower()


def origin_allowed(request: Request, settings: Settings) -> bool:
    """No Origin header (not a browser) or an allowed one; `null` is never allowed."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    return origin == own_origin(request) or origin in settings.allowed_origins


def cors_origin(request: Request, settings: Settings) -> Optional[str]:
    """The origin to echo in Access-Control-Allow-Origin (cross-origin, allowed)."""
    origin = (request.headers.get("origin") or "").strip().rstrip("/").lower()
    if origin and origin != own_origin(request) and origin in settings.allowed_origins:
        return origin
    return None


def content_security_policy(settings: Settings) -> str:
    ancestors = " ".join(("'self'",) + _unique(settings.allowed_origins + settings.frame_ancestors))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        ]
    )


def _unique(values: Iterable[str]) -> Tuple[str, ...]:
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen)


def install(app: Sanic, settings: Settings) -> None:
    """Register the origin check, CORS preflight and header middleware on `app`."""
    csp = content_security_policy(settings)

    @app.middleware("request")
    async def check_origin(request: Request):
        if request.method == "OPTIONS" and request.path in CORS_PATHS:
            if not origin_allowed(request, settings):
                return json_error(403, "origin_forbidden")
            from sanic.response import empty

            response = empty(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
            return response
        if request.method in UNSAFE_METHODS and not origin_allowed(request, settings):
            return json_error(403, "origin_forbidden")
        return None

    @app.middleware("response")
    async def security_headers(request: Request, response):
        headers = response.headers
        headers["Content-Security-Policy"] = csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.path.startswith("/api/"):
            headers["Cache-Control"] = "no-store"
        if request.path in CORS_PATHS:
            allowed = cors_origin(request, settings)
            headers["Vary"] = "Origin"
            if allowed:
                headers["Access-Control-Allow-Origin"] = allowed
                headers["Access-Control-Allow-Credentials"] = "true"
