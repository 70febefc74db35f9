"""Typed records of the knowledge base. All are immutable after loading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

Scalar = Union[str, int, bool]


@dataclass(frozen=True)
class PortOption:
    """One port/encryption pair of a mail server."""

    port: int
    encryption: str  # ssl_tls | starttls | none
    recommended: bool
    note: str = ""


@dataclass(frozen=True)
class Server:
    """A mail server of the provider for one protocol."""

    protocol: str  # imap | pop3 | smtp
    host: str
    direction: str  # incoming | outgoing
    authentication_required: bool
    options: list[PortOption]
    source: str = ""
    #: words customers use for this server alone ("Postausgangsserver" -> smtp)
    aliases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Client:
    """A mail program the bot knows (contract values plus ``webagent``)."""

    id: str
    name: str
    aliases: list[str]
    protocols: list[str]
    contract: bool  # False for non-contract clients such as the webmail


@dataclass(frozen=True, kw_only=True)
class Article:
    """Anything the bot can show or search: guides, problems, procedures, policies ..."""

    id: str
    kind: str  # guide | procedure | problem | bounce | info | contact
    title: str
    summary: str
    keywords: list[str]
    source: str
    file: str
    intents: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def search_fields(self) -> dict[str, list[str]]:
        """Texts for the search index, by field name."""
        return {
            "title": [self.title],
            "keywords": list(self.keywords),
            "summary": [self.summary],
            "body": list(self.notes) + self._body_texts(),
        }

    def _body_texts(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Step:
    """One step; ``question`` is what to ask the customer when the next step depends on it."""

    text: str
    question: Optional[str] = None


@dataclass(frozen=True)
class StepGroup:
    """A titled group of short steps (one screen or dialog of a mail program)."""

    title: str
    steps: list[str]


@dataclass(frozen=True)
class ServerSetting:
    """Server name and port options as one guide tells the customer to enter them."""

    host: str
    options: list[PortOption]


@dataclass(frozen=True, kw_only=True)
class Guide(Article):
    """Set-up or check instructions for one mail program and protocol."""

    client: str
    protocol: str  # imap | pop3 | smtp | web
    step_groups: list[StepGroup]
    pitfalls: list[str] = field(default_factory=list)
    incoming: Optional[ServerSetting] = None
    outgoing: Optional[ServerSetting] = None
    settings: dict[str, Scalar] = field(default_factory=dict)

    def all_steps(self) -> list[str]:
        return [step for group in self.step_groups for step in group.steps]

    def _body_texts(self) -> list[str]:
        texts = [g.title for g in self.step_groups] + self.all_steps() + list(self.pitfalls)
        return texts


@dataclass(frozen=True, kw_only=True)
class Procedure(Article):
    """A procedure in the customer portal (or a mail program) with ordered steps."""

    steps: list[Step]
    activation_hours: Optional[int] = None

    def _body_texts(self) -> list[str]:
        return [s.text for s in self.steps]


@dataclass(frozen=True)
class ProblemVariant:
    """A sub-case of a problem that needs a different fix (e.g. 554 variants a-d)."""

    key: str
    title: str
    evidence: list[str]
    steps: list[Step]
    bounce_category: Optional[str] = None
    article_id: Optional[str] = None


@dataclass(frozen=True, kw_only=True)
class Problem(Article):
    """A troubleshooting article: ordered steps, optional variants."""

    steps: list[Step]
    symptoms: list[str] = field(default_factory=list)
    error_codes: list[str] = field(default_factory=list)
    variants: list[ProblemVariant] = field(default_factory=list)

    def variant(self, key: str) -> ProblemVariant:
        for v in self.variants:
            if v.key == key:
                return v
        raise KeyError(f"{self.id} has no variant {key!r}")

    def _body_texts(self) -> list[str]:
        texts = list(self.symptoms) + list(self.error_codes) + [s.text for s in self.steps]
        for v in self.variants:
            texts.append(v.title)
            texts.extend(v.evidence)
            texts.extend(s.text for s in v.steps)
        return texts


@dataclass(frozen=True, kw_only=True)
class BounceArticle(Article):
    """Explanation and fix for one bounce category of the contract."""

    category: str
    explanation: str
    steps: list[Step]
    error_codes: list[str] = field(default_factory=list)
    from_faq: bool = True

    def _body_texts(self) -> list[str]:
        return [self.explanation] + list(self.error_codes) + [s.text for s in self.steps]


@dataclass(frozen=True, kw_only=True)
class Info(Article):
    """A policy or an explanation: key statements plus structured facts."""

    points: list[str]
    facts: dict[str, object] = field(default_factory=dict)
    limit_keys: list[str] = field(default_factory=list)

    def _body_texts(self) -> list[str]:
        return list(self.points)


@dataclass(frozen=True, kw_only=True)
class Contact(Article):
    """A contact point: the support mailbox or the customer portal."""

    email: Optional[str] = None
    url: Optional[str] = None
    subject: Optional[str] = None
    instructions: list[str] = field(default_factory=list)
    do_not: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)

    def _body_texts(self) -> list[str]:
        return list(self.instructions) + list(self.do_not)


@dataclass(frozen=True)
class Limits:
    """Numbers and character rules of the service (``limits.yml``)."""

    mailbox_quota_mb: int
    mailbox_full_consequence: str
    max_message_size_mb: int
    activation_hours: int
    address_min_length: int
    address_max_length: int
    address_allowed_special_chars: str  # besides letters and digits
    password_min_length: int
    password_max_length: int
    password_special_chars_create: str  # set given with "create address"
    password_special_chars_change: str  # set given with "change password"
    password_special_chars_safe: str  # allowed in both sets: what the bot recommends
    sources: dict[str, str] = field(default_factory=dict)

    def address_is_valid(self, local_part: str) -> bool:
        """Whether ``local_part`` (the text before the @) follows the address rules."""
        if not self.address_min_length <= len(local_part) <= self.address_max_length:
            return False
        return all(_is_ascii_alnum(c) or c in self.address_allowed_special_chars for c in local_part)

    def password_is_safe(self, password: str) -> bool:
        """Whether ``password`` is accepted by both password rules of the FAQ."""
        if not self.password_min_length <= len(password) <= self.password_max_length:
            return False
        return all(_is_ascii_alnum(c) or c in self.password_special_chars_safe for c in password)


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


@dataclass(frozen=True)
class ContradictionVersion:
    """One of the statements that disagree, with its place in the FAQ."""

    text: str
    source: str


@dataclass(frozen=True)
class Contradiction:
    """A place where the FAQ contradicts itself and the safe answer the bot gives."""

    id: str
    topic: str
    versions: list[ContradictionVersion]
    safe_answer: str
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchHit:
    """A ranked search result."""

    article_id: str
    title: str
    score: float
