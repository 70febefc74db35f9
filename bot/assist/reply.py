"""Compose the suggested German reply from the knowledge base.

Frame and wording: ``data/assist/reply.yml``; which facts answer an intent:
``data/assist/intents.yml``; the facts themselves: ``data/kb``. What is unknown (the mail
program, IMAP or POP3, the wording of a bounce) becomes a clearly marked gap such as
"[Mailprogramm?]" that the agent fills in before sending.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .config import AssistConfig
from .kbview import article_view, server_view
from .ranking import resolve_ids

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
UNCLEAR_ARTICLE_MIN_SCORE = 0.3


@dataclass
class Topic:
    """One thing the customer asked, with what is known about it."""

    question: str
    intent: str
    confidence: float
    slots: dict[str, str] = field(default_factory=dict)
    articles: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    text: str
    gaps: list[str]


def _core_sentence(text: str) -> str:
    """The asking sentence of a question unit (the first with a '?'), capitalised."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    index = next((i for i, s in enumerate(sentences) if s.endswith("?")), 0)
    asking = sentences[index].strip()
    if len(asking) < 30 and index > 0:  # "Was kann ich tun?" needs the sentence before it
        asking = f"{sentences[index - 1].strip()} {asking}"
    return asking[:1].upper() + asking[1:]


class _Context(dict):
    """Format values; unknown placeholders stay visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template) if template else ""


class ReplyComposer:
    """Builds the reply for a list of topics (and an optional bounce)."""

    def __init__(self, kb: Any, config: AssistConfig) -> None:
        self.kb = kb
        self.config = config
        self.texts = config.texts
        self.gaps = {k: str(v) for k, v in self.texts["gaps"].items()}

    # -- context ---------------------------------------------------------------
    def _base_context(self) -> _Context:
        ctx = _Context({f"gap_{k}": v for k, v in self.gaps.items()})
        limits = getattr(self.kb, "limits", None)
        for name, attr in (("quota_mb", "mailbox_quota_mb"), ("max_size_mb", "max_message_size_mb"),
                           ("activation_hours", "activation_hours"),
                           ("mailbox_full_consequence", "mailbox_full_consequence")):
            value = getattr(limits, attr, None)
            if value is not None:
                ctx[name] = value
        ctx["support_email"] = self._safe(lambda: self.kb.contact.email) or "[Support-Adresse?]"
        ctx["portal_url"] = self._safe(lambda: self.kb.portal.url) or "[Kundenbereich?]"
        return ctx

    @staticmethod
    def _safe(getter):
        try:
            return getter()
        except Exception:  # noqa: BLE001
            return None

    def _client_name(self, client: Optional[str]) -> str:
        if not client:
            return self.gaps["client"]
        if client == "other":
            return "Ihrem E-Mail-Programm"
        try:
            return self.kb.client(client).name
        except Exception:  # noqa: BLE001
            return client

    def _protocol_name(self, protocol: Optional[str]) -> str:
        names = self.texts.get("protocol_names", {})
        return names.get(protocol, self.gaps["protocol"]) if protocol else self.gaps["protocol"]

    def _topic_context(self, base: _Context, slots: dict[str, str]) -> _Context:
        ctx = _Context(base)
        ctx["client_name"] = self._client_name(slots.get("client"))
        ctx["protocol_name"] = self._protocol_name(slots.get("protocol"))
        return ctx

    # -- blocks ------------------------------------------------------------------
    @staticmethod
    def _applies(block: dict[str, Any], slots: dict[str, str]) -> bool:
        for slot, wanted in (block.get("when") or {}).items():
            have = slots.get(slot)
            if wanted is None and have:
                return False
            if wanted is not None and have != wanted:
                return False
        return True

    def render_article(self, article_id: str, slots: dict[str, str]) -> str:
        view = article_view(self.kb, article_id, slots.get("client"), slots.get("protocol"),
                            with_guide=False)
        if view is None:
            return ""
        lines: list[str] = []
        if view["explanation"]:
            lines.append(view["explanation"])
        elif view["summary"] and view["kind"] not in ("guide", "info"):
            lines.append(view["summary"])
        for section in view["sections"]:
            if lines:
                lines.append("")
            if section["title"]:
                lines.append(f"{section['title']}:")
            lines.extend(f"{n}. {step}" for n, step in enumerate(section["steps"], start=1))
        if view["points"]:
            if lines:
                lines.append("")
            lines.extend(f"- {point}" for point in view["points"])
        elif view["kind"] == "info" and view["summary"]:
            lines.append(view["summary"])
        pitfall = self.texts.get("article", {}).get("pitfall", "{text}")
        for text in view["pitfalls"] + view["do_not"]:
            lines.append(_fill(pitfall, _Context(text=text)))
        return "\n".join(lines).strip()

    def render_servers(self, protocols: list[str], slots: dict[str, str], done: set[str]) -> str:
        servers = self.texts["servers"]
        names = self.texts.get("encryption_names", {})
        blocks: list[str] = []
        wanted: list[str] = []
        unknown_incoming = False
        for pattern in protocols:
            if pattern == "{protocol}":
                if slots.get("protocol"):
                    wanted.append(slots["protocol"])
                else:
                    unknown_incoming = True
                    wanted.extend(["imap", "pop3"])
            else:
                wanted.append(pattern)
        if unknown_incoming:
            blocks.append(_fill(servers["both_incoming"], self._base_context()))
        for protocol in dict.fromkeys(wanted):
            if protocol in done:
                continue
            view = server_view(self.kb, protocol, slots.get("encryption"))
            if view is None:
                continue
            done.add(protocol)
            key = "outgoing" if protocol == "smtp" else "incoming"
            lines = [_fill(servers[key], _Context(protocol_name=self._protocol_name(protocol),
                                                 host=view["host"]))]
            for option in view["options"]:
                line = _fill(servers["option"], _Context(
                    port=option["port"], encryption_name=names.get(option["encryption"], option["encryption"])))
                if option["recommended"]:
                    line += servers["recommended"]
                elif option["encryption"] == "none":
                    line += servers["not_recommended"]
                else:
                    line += servers["alternative"]
                lines.append(f"- {line}")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def render_bounce(self, bounce: Optional[dict[str, Any]], ctx: _Context) -> str:
        texts = self.texts["bounce"]
        if not bounce:
            return _fill(" ".join(texts["missing"].split()), ctx)
        article_id = bounce.get("article_id") or f"bounce_{bounce.get('category', 'unknown')}"
        view = article_view(self.kb, article_id, with_guide=False)
        parts: list[str] = []
        title = view["title"] if view else bounce.get("category", "")
        parts.append(_fill(texts["intro"], _Context(ctx, title=title)))
        if bounce.get("evidence"):
            parts.append(_fill(texts["evidence"], _Context(ctx, evidence=bounce["evidence"])))
        if bounce.get("recipients"):
            parts.append(_fill(texts["recipients"], _Context(ctx, recipients=", ".join(bounce["recipients"]))))
        body = self.render_article(article_id, {})
        if body:
            parts.append(body)
        if bounce.get("category") == "unknown":
            parts.append(_fill(" ".join(texts["missing"].split()), ctx))
        return "\n\n".join(parts)

    def render_topic(self, topic: Topic, base: _Context, bounce: Optional[dict[str, Any]]) -> str:
        intent = self.config.intent(topic.intent)
        ctx = self._topic_context(base, topic.slots)
        slots = dict(topic.slots)
        slots["bounce"] = "yes" if bounce else ""
        parts: list[str] = []
        servers_done: set[str] = set()
        for block in intent.reply:
            if not self._applies(block, slots):
                continue
            if "text" in block:
                template = self.texts["texts"].get(block["text"], "")
                parts.append(_fill(" ".join(str(template).split()), ctx))
            elif "article" in block:
                ids = resolve_ids(block["article"], slots, self.kb)
                if ids:
                    parts.append(self.render_article(ids[0], slots))
            elif "servers" in block:
                parts.append(self.render_servers(list(block["servers"]), slots, servers_done))
            elif "bounce" in block:
                parts.append(self.render_bounce(bounce, ctx))
        parts = [p for p in parts if p and p.strip()]
        if not parts:
            best = next((a for a in topic.articles if a["score"] >= UNCLEAR_ARTICLE_MIN_SCORE), None)
            if best:
                parts.append(self.render_article(best["id"], slots))
            parts = [p for p in parts if p] or [_fill(self.texts["texts"]["unclear"], ctx)]
        return "\n\n".join(parts)

    # -- the whole reply ---------------------------------------------------------
    def _heading(self, question: str) -> str:
        limit = int(self.texts.get("question_heading_max_chars", 90))
        question = _core_sentence(" ".join(question.split()))
        if len(question) > limit:
            question = question[:limit].rsplit(" ", 1)[0] + " …"
        return _fill(self.texts["question_heading"], _Context(question=question))

    def compose(
        self,
        topics: list[Topic],
        bounce: Optional[dict[str, Any]] = None,
        sender_name: Optional[str] = None,
        password_masked: bool = False,
    ) -> Reply:
        base = self._base_context()
        greeting = self.texts["greeting"]
        paragraphs = [
            _fill(greeting["named"], _Context(name=sender_name)) if sender_name else greeting["anonymous"]
        ]
        sections: list[tuple[Optional[str], str]] = []
        seen: set[tuple] = set()
        if bounce:
            sections.append((None, self.render_bounce(bounce, base)))
            seen.add(("report_bounce",))
        substantive = [t for t in topics if self.config.intent(t.intent).reply or t.articles]
        for topic in substantive or topics:
            key = ("report_bounce",) if topic.intent == "report_bounce" else (
                topic.intent, tuple(sorted(topic.slots.items())))
            if key in seen:
                continue
            seen.add(key)
            sections.append((topic.question, self.render_topic(topic, base, bounce)))
        if not sections:
            sections.append((None, _fill(self.texts["texts"]["unclear"], base)))
        multi = len(sections) > 1
        paragraphs.append(self.texts["intro"]["multi" if multi else "single"])
        for question, body in sections:
            if multi and question:
                paragraphs.append(self._heading(question))
            paragraphs.append(body)
        if password_masked:
            paragraphs.append(_fill(" ".join(self.texts["password_warning"].split()), base))
        paragraphs.append(_fill(self.texts["closing"], base))
        text = "\n\n".join(p.strip() for p in paragraphs if p and p.strip())
        gaps = [marker for marker in self.gaps.values() if marker in text]
        return Reply(text=text, gaps=gaps)
