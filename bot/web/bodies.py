"""Read a request body with a size limit, for routes declared with ``stream=True``.

Sanic refuses an oversized body by closing the connection, which many clients see as a
reset instead of the 413. A streaming route reads the body itself: up to `limit` bytes
are kept; beyond that up to `drain_limit` bytes are read and dropped, so the client has
sent everything and reliably gets the JSON 413.
"""
from __future__ import annotations

from sanic.request import Request

DRAIN_LIMIT = 16 * 1024 * 1024


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int, drain_limit: int = DRAIN_LIMIT) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > drain_limit:
        raise BodyTooLarge()
    if request.stream is None:  # body already read by Sanic
        if len(request.body or b"") > limit:
            raise BodyTooLarge()
        return request.body or b""
    request.stream.request_max_size = drain_limit
    chunks = []
    size = 0
    too_large = False
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            too_large = True
            chunks.clear()
            if size > drain_limit:
                break
            continue
        chunks.append(chunk)
    if too_large:
        raise BodyTooLarge()
    return b"".join(chunks)
