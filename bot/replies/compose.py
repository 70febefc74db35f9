"""Compose German answers (Markdown subset) from knowledge-base entries.

Every function returns :class:`~bot.replies.templates.Message` objects: a domain response
plus the values for its placeholders. Actions send them through Rasa; the agent-assist
tool renders them to text with :meth:`Composer.render`.
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from bot.dialogue.handover import HandoverCase
from bot.dialogue.walkthrough import CHECK, Stage

from .templates import Message, Templates, get_templates

#: product names of the protocols (technical terms, identical in German)
PROTOCOL_NAMES = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP"}


class Composer:
    def __init__(self, kb, templates: Optional[Templates] = None) -> None:
        self.kb = kb
        self.templates = templates or get_templates()

    # -- text helpers ---------------------------------------------------------------------
    def render(self, message: Message) -> str:
        return self.templates.render(message)

    def render_all(self, messages: Iterable[Message]) -> str:
        return "\n\n".join(self.render(m) for m in messages)

    def part(self, name: str, **values) -> str:
        return self.templates.text(f"utter_part_{name}", **values)

    def protocol_name(self, protocol: Optional[str]) -> str:
        return PROTOCOL_NAMES.get(protocol or "", self.part("unknown"))

    def encryption_name(self, encryption: str) -> str:
        return self.part(f"encryption_{encryption}")

    def client_name(self, client: Optional[str]) -> str:
        try:
            return self.kb.client(client).name
        except (KeyError, TypeError):
            return self.part("unknown")

    def topic_name(self, topic: Optional[str]) -> str:
        name = f"topic_{topic}"
        if topic and self.templates.has(f"utter_part_{name}"):
            return self.part(name)
        return self.part("topic_other")

    # -- servers and settings ------------------------------------------------------------------
    def port_lines(self, options) -> str:
        lines = []
        for option in options:
            name = "port_option_recommended" if option.recommended else "port_option"
            lines.append(self.part(name, port=option.port,
                                   encryption_name=self.encryption_name(option.encryption)))
        return "\n".join(lines)

    def server_block(self, protocol: str, options=None) -> str:
        server = self.kb.server(protocol)
        options = server.options if options is None else options
        name = "server_outgoing" if server.direction == "outgoing" else "server_incoming"
        return self.part(name, protocol_name=self.protocol_name(protocol), host=server.host,
                         ports=self.port_lines(options))

    def authentication_text(self) -> str:
        return self.part("authentication")

    def settings(self, client: Optional[str], protocol: str) -> Message:
        """Incoming + outgoing server (or only SMTP), authentication and the client's pitfalls."""
        guide = self._guide(client, protocol)
        blocks = []
        if protocol in ("imap", "pop3"):
            blocks.append(self.server_block(protocol, _guide_options(guide, "incoming")))
        blocks.append(self.server_block("smtp", _guide_options(guide, "outgoing")))
        pitfalls = guide.pitfalls if guide else []
        values = {
            "client_name": self.client_name(client),
            "protocol_name": self.protocol_name(protocol),
            "servers": "\n\n".join(blocks),
            "authentication": self.authentication_text(),
            "pitfalls": self.part("pitfalls", pitfalls=bullets(pitfalls)) if pitfalls else "",
        }
        response = "utter_settings_generic" if client in (None, "other") else "utter_settings"
        return Message(response, values)

    def server_settings(self, protocol: str, encryption: Optional[str] = None) -> Message:
        """Answer to "which server/port for ...": one encryption if given, else all options."""
        server = self.kb.server(protocol)
        if encryption:
            options = self.kb.ports(protocol, encryption)
            values = {"protocol_name": self.protocol_name(protocol),
                      "encryption_name": self.encryption_name(encryption)}
            if not options:
                return Message("utter_port_answer_none",
                               {**values, "servers": self.server_block(protocol)})
            ports = "\n".join(self.part("port_note", port=o.port, note=o.note)
                              if o.note else self.port_lines([o]) for o in options)
            return Message("utter_port_answer", {**values, "host": server.host, "ports": ports})
        return Message("utter_server_settings", {"servers": self.server_block(protocol),
                                                  "authentication": self.authentication_text()})

    # -- walkthrough stages ----------------------------------------------------------------------
    def stage(self, stage: Stage) -> Message:
        if stage.kind == CHECK and not stage.lines:
            question = stage.question or self.part("question_solved")
            return Message("utter_walkthrough_check",
                           {"title": self._check_title(stage), "step_text": stage.text,
                            "question": question})
        if stage.kind == CHECK:
            question = stage.question or self.part("question_solved")
            return Message("utter_walkthrough_check",
                           {"title": self._check_title(stage), "step_text": numbered(stage.lines),
                            "question": question})
        return Message("utter_walkthrough_do",
                       {"number": stage.number, "total": stage.total, "title": stage.title,
                        "steps": numbered(stage.lines)})

    def retry(self, stage: Stage) -> Message:
        """Hints after a failed instruction: the KB's pitfalls, else general ones."""
        if stage.hints:
            return Message("utter_walkthrough_retry", {"hints": bullets(stage.hints)})
        if stage.article_id.startswith("guide_"):
            return Message("utter_walkthrough_retry", {"hints": self.part("generic_hint")})
        return Message("utter_walkthrough_retry_steps", {"steps": numbered(stage.lines)})

    def _check_title(self, stage: Stage) -> str:
        if stage.total > 1:
            return f"{stage.title} – {self.part('step_of', number=stage.number, total=stage.total)}"
        return stage.title

    # -- one-shot articles -------------------------------------------------------------------------
    def article(self, article_id: str) -> Message:
        article = self.kb.article(article_id)
        points = getattr(article, "points", None)
        steps = getattr(article, "steps", None)
        if points:
            return Message("utter_article_points",
                           {"title": article.title, "points": bullets(points)})
        if steps:
            hours = getattr(article, "activation_hours", None)
            notes = self.part("activation", hours=hours) if hours else ""
            return Message("utter_article_steps",
                           {"title": article.title, "summary": article.summary,
                            "steps": numbered(step_texts(steps)), "notes": notes})
        return Message("utter_article_summary", {"title": article.title,
                                                 "summary": article.summary})

    def mailbox_quota(self) -> Message:
        limits = self.kb.limits
        return Message("utter_mailbox_quota", {"quota_mb": limits.mailbox_quota_mb,
                                               "consequence": limits.mailbox_full_consequence})

    # -- bounces -------------------------------------------------------------------------------------
    def bounce(self, category: str, codes: Sequence[str] = ()) -> Message:
        article = self.kb.bounce_article(category)
        safe_codes = [c for c in codes if _is_status_code(c)]
        return Message("utter_bounce_explanation", {
            "title": article.title,
            "codes": self.part("codes", codes=", ".join(safe_codes)) if safe_codes else "",
            "explanation": article.explanation,
            "steps": numbered(step_texts(article.steps)),
        })

    # -- hand-over ---------------------------------------------------------------------------------------
    def handover_summary(self, case: HandoverCase) -> str:
        unknown = self.part("unknown")
        return self.templates.text(
            "utter_handover_summary",
            problem=self.topic_name(case.topic),
            client=self.client_name(case.client) if case.client else unknown,
            protocol=self.protocol_name(case.protocol) if case.protocol else unknown,
            error_code=case.error_code if _is_status_code(case.error_code) else unknown,
            steps_tried="; ".join(case.steps_tried) or self.part("none_tried"),
        )

    def handover(self, case: HandoverCase) -> tuple[Message, str]:
        """The hand-over message and the summary text for the agent."""
        summary = self.handover_summary(case)
        contact = self.kb.contact
        if case.topic == "report_bounce" and contact.subject:
            contact_text = self.templates.text("utter_handover_contact_bounce",
                                               email=contact.email, subject=contact.subject)
        else:
            contact_text = self.templates.text("utter_handover_contact", email=contact.email)
        return Message("utter_handover", {"summary": summary, "contact": contact_text}), summary

    # -- internals ---------------------------------------------------------------------------------------
    def _guide(self, client: Optional[str], protocol: str):
        try:
            return self.kb.guide(client or "other", protocol)
        except KeyError:
            return None


def _guide_options(guide, direction: str):
    """Port options a guide states for a direction; None (= all of the server) if it has none."""
    setting = getattr(guide, direction, None) if guide else None
    return list(setting.options) if setting and setting.options else None


def step_texts(steps) -> list[str]:
    return [getattr(step, "text", step) for step in steps]


def numbered(lines: Iterable[str]) -> str:
    return "\n".join(f"{index}. {line}" for index, line in enumerate(lines, start=1))


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def _is_status_code(code: str) -> bool:
    return isinstance(code, str) and code.replace(".", "").isdigit() and len(code) <= 9
