"""Knowledge-base articles as plain, JSON-ready views (for the page and the reply).

One function per job: ``article_view`` turns any article into sections of steps, points
and pitfalls; ``server_view`` gives host and port options of a protocol; ``guide_for``
finds the guide for a client × protocol. Unknown ids return ``None`` instead of raising.
"""
from __future__ import annotations

from typing import Any, Optional

INCOMING = ("imap", "pop3")
ALL_PROTOCOLS = ("imap", "pop3", "smtp")


def find_article(kb: Any, article_id: str) -> Optional[Any]:
    try:
        return kb.article(article_id)
    except Exception:  # noqa: BLE001 - unknown id or KB problem: nothing to show
        return None


def guide_for(kb: Any, client: Optional[str], protocol: Optional[str]) -> Optional[Any]:
    if not client or not protocol:
        return None
    try:
        return kb.guide(client, protocol)
    except Exception:  # noqa: BLE001
        return None


def server_view(kb: Any, protocol: str, encryption: Optional[str] = None) -> Optional[dict[str, Any]]:
    """Host and port options of ``protocol`` (only those of ``encryption`` when given)."""
    try:
        server = kb.server(protocol)
    except Exception:  # noqa: BLE001
        return None
    options = [
        {"port": o.port, "encryption": o.encryption, "recommended": bool(o.recommended),
         "note": getattr(o, "note", "") or ""}
        for o in server.options
        if encryption is None or o.encryption == encryption
    ]
    if not options:  # asked for an encryption the server does not offer: show all
        options = [
            {"port": o.port, "encryption": o.encryption, "recommended": bool(o.recommended),
             "note": getattr(o, "note", "") or ""}
            for o in server.options
        ]
    return {
        "protocol": protocol,
        "direction": getattr(server, "direction", "outgoing" if protocol == "smtp" else "incoming"),
        "host": server.host,
        "authentication_required": bool(getattr(server, "authentication_required", True)),
        "options": options,
    }


def _step_texts(steps: Any) -> list[str]:
    texts = []
    for step in steps or []:
        text = getattr(step, "text", step)
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
    return texts


def _sections(article: Any) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for group in getattr(article, "step_groups", None) or []:
        sections.append({"title": group.title, "steps": list(group.steps)})
    steps = _step_texts(getattr(article, "steps", None))
    if steps:
        sections.append({"title": None, "steps": steps})
    for variant in getattr(article, "variants", None) or []:
        variant_steps = _step_texts(variant.steps)
        if variant_steps:
            sections.append({"title": variant.title, "steps": variant_steps})
    instructions = [t for t in getattr(article, "instructions", None) or [] if t]
    if instructions:
        sections.append({"title": None, "steps": list(instructions)})
    return sections


def _settings_protocols(article: Any) -> list[str]:
    protocol = getattr(article, "protocol", None)
    if protocol in INCOMING:
        return [protocol, "smtp"]
    if protocol == "smtp":
        return ["smtp"]
    if getattr(article, "id", "") == "info_encryption_ports":
        return list(ALL_PROTOCOLS)
    return []


def _guide_protocol_for(article: Any, protocol: Optional[str]) -> Optional[str]:
    if "send_problem" in (getattr(article, "intents", None) or []):
        return "smtp"
    return protocol


def article_view(
    kb: Any, article_id: str, client: Optional[str] = None, protocol: Optional[str] = None,
    with_guide: bool = True,
) -> Optional[dict[str, Any]]:
    """Everything the agent needs of one article, for ``client`` × ``protocol`` when given."""
    article = find_article(kb, article_id)
    if article is None:
        return None
    view: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "kind": getattr(article, "kind", ""),
        "summary": getattr(article, "summary", "") or "",
        "explanation": getattr(article, "explanation", None),
        "sections": _sections(article),
        "points": list(getattr(article, "points", None) or []),
        "pitfalls": list(getattr(article, "pitfalls", None) or []),
        "notes": list(getattr(article, "notes", None) or []),
        "do_not": list(getattr(article, "do_not", None) or []),
        "settings": [s for s in (server_view(kb, p) for p in _settings_protocols(article)) if s],
        "client": getattr(article, "client", None) or client,
        "protocol": getattr(article, "protocol", None) or protocol,
        "related_guide": None,
        "source": getattr(article, "source", "") or "",
    }
    if with_guide and getattr(article, "kind", "") == "problem":
        guide = guide_for(kb, client, _guide_protocol_for(article, protocol))
        if guide is not None and guide.id != article.id:
            view["related_guide"] = article_view(kb, guide.id, with_guide=False)
    return view
