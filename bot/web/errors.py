"""JSON errors with German texts; a Sanic error handler that never answers HTML."""
from __future__ import annotations

import logging
from typing import Optional

from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse, json

from .messages import error_text

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    429: "rate_limited",
    503: "upstream_unavailable",
}


def json_error(status: int, code: str, retry_after: Optional[int] = None, **values) -> HTTPResponse:
    response = json({"error": error_text(code, **values), "code": code}, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


class JsonErrorHandler(ErrorHandler):
    """Answers every Sanic error as JSON `{"error": ..., "code": ...}`."""

    def default(self, request, exception):
        status = getattr(exception, "status_code", 500) if isinstance(exception, SanicException) else 500
        code = _STATUS_CODES.get(status)
        if code is None:
            if 400 <= status < 500:
                code = "bad_request"
            else:
                status, code = 500, "internal"
                # The exception only, never the request body (it may hold a password).
                logger.error("unhandled error on %s %s: %s", request.method if request else "-",
                             request.path if request else "-", type(exception).__name__,
                             exc_info=exception)
        return json_error(status, code)
