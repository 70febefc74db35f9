"""Talks to Rasa's REST channel over loopback, with a hard time limit."""
from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import aiohttp

WEBHOOK_PATH = "/webhooks/rest/webhook"


class UpstreamError(Exception):
    """Rasa could not be asked or gave no usable answer (-> 503)."""

    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    code = "upstream_timeout"


async def send_message(
    http: aiohttp.ClientSession,
    rasa_url: str,
    sender: str,
    text: str,
    metadata: Optional[Dict[str, Any]] = None,
    timeout: float = 10.0,
) -> List[Dict[str, Any]]:
    """Send one user message; return Rasa's bot messages in order."""
    body = {"sender": sender, "message": text, "metadata": metadata or {}}
    try:
        return await asyncio.wait_for(_post(http, rasa_url + WEBHOOK_PATH, body, timeout), timeout)
    except asyncio.TimeoutError as exc:
        raise UpstreamTimeout("Rasa did not answer in time") from exc
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise UpstreamError(f"Rasa not reachable: {type(exc).__name__}") from exc


async def _post(http: aiohttp.ClientSession, url: str, body: Dict[str, Any], timeout: float):
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with http.post(url, json=body, timeout=client_timeout) as response:
        if response.status != 200:
            raise UpstreamError(f"Rasa answered HTTP {response.status}")
        raw = await response.read()
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, list):
        raise UpstreamError("Rasa answered no list")
    return [item for item in data if isinstance(item, dict)]


def clean_bot_messages(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Keep the parts the widget shows: text, buttons, image, custom (Rasa's order)."""
    messages = []
    for item in items:
        message: Dict[str, Any] = {}
        if isinstance(item.get("text"), str) and item["text"]:
            message["text"] = item["text"]
        buttons = [
            {"title": button["title"], "payload": button["payload"]}
            for button in item.get("buttons") or []
            if isinstance(button, dict)
            and isinstance(button.get("title"), str)
            and isinstance(button.get("payload"), str)
        ]
        if buttons:
            message["buttons"] = buttons
        if isinstance(item.get("image"), str):
            message["image"] = item["image"]
        if isinstance(item.get("custom"), (dict, list)):
            message["custom"] = item["custom"]
        if message:
            messages.append(message)
    return messages
