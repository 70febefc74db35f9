"""The loaded knowledge base: typed look-ups, client resolution and search."""

from __future__ import annotations

import difflib
import re
from typing import Optional, TypeVar

from . import schema
from .models import (
    Article, BounceArticle, Client, Contact, Contradiction, Guide, Info, Limits, PortOption,
    Problem, Procedure, SearchHit, Server,
)
from .search import SearchIndex
from .text import fold

T = TypeVar("T", bound=Article)

_PROTOCOL_SYNONYMS = {"imap": "imap", "imap4": "imap", "pop": "pop3", "pop3": "pop3",
                      "smtp": "smtp", "web": "web"}
_ENCRYPTION_SYNONYMS = {"ssl_tls": "ssl_tls", "ssl": "ssl_tls", "ssl/tls": "ssl_tls", "tls/ssl": "ssl_tls",
                        "starttls": "starttls", "none": "none", "keine": "none"}
_FUZZY_CLIENT_CUTOFF = 0.8


class KnowledgeBase:
    """Validated knowledge base. Create it with :func:`bot.kb.load_kb` or :func:`bot.kb.get_kb`."""

    def __init__(self, *, servers: dict[str, Server], clients: dict[str, Client], limits: Limits,
                 articles: dict[str, Article], contradictions: list[Contradiction]) -> None:
        self._servers = servers
        self._clients = clients
        self._articles = articles
        self.limits: Limits = limits
        self.contradictions: list[Contradiction] = contradictions
        self._index: Optional[SearchIndex] = None
        self._aliases = _alias_table(clients.values())

    # -- servers ----------------------------------------------------------------
    def server(self, protocol: str) -> Server:
        """The server for ``imap``, ``pop3`` or ``smtp``."""
        return self._servers[_canonical(protocol, _PROTOCOL_SYNONYMS, "protocol")]

    def protocol_named_in(self, text: str) -> Optional[str]:
        """The one protocol whose server ``text`` names by a word of its own.

        "Postausgangsserver Port bei SSL?" -> ``smtp`` (servers.yml ``aliases``, matched
        inside compounds after umlaut folding); None when no server or several are named.
        """
        if not isinstance(text, str):
            return None
        folded = fold(text[:1000])
        named = {server.protocol for server in self._servers.values()
                 if any(fold(alias) in folded for alias in server.aliases)}
        return named.pop() if len(named) == 1 else None

    def ports(self, protocol: str, encryption: Optional[str] = None) -> list[PortOption]:
        """Port options of a server in order of preference, optionally for one encryption."""
        options = self.server(protocol).options
        if encryption is None:
            return list(options)
        wanted = _canonical(encryption, _ENCRYPTION_SYNONYMS, "encryption")
        return [option for option in options if option.encryption == wanted]

    def recommended_port(self, protocol: str, encryption: Optional[str] = None) -> PortOption:
        """The preferred recommended option (SSL/TLS unless ``encryption`` says otherwise)."""
        options = [o for o in self.ports(protocol, encryption) if o.recommended]
        if not options:
            options = self.ports(protocol, encryption)
        if not options:
            raise KeyError(f"no port for {protocol!r} with {encryption!r}")
        return options[0]

    # -- clients and guides --------------------------------------------------------
    def clients(self) -> list[Client]:
        return list(self._clients.values())

    def client(self, client_id: str) -> Client:
        return self._clients[client_id]

    def resolve_client(self, text: str) -> Optional[str]:
        """Canonical client id for a name or alias in ``text`` ("Outlook 2016" -> "outlook")."""
        if not isinstance(text, str):
            return None
        folded = " " + " ".join(re.findall(r"[a-z0-9]+", fold(text[:1000]))) + " "
        if not folded.strip():
            return None
        for alias, client_id in self._aliases:
            if f" {alias} " in folded:
                return client_id
        single = [(alias, cid) for alias, cid in self._aliases if " " not in alias and len(alias) >= 5]
        names = [a for a, _ in single]
        for word in folded.split():
            if len(word) < 5:
                continue
            match = difflib.get_close_matches(word, names, n=1, cutoff=_FUZZY_CLIENT_CUTOFF)
            if match:
                return dict(single)[match[0]]
        return None

    def guide(self, client: str, protocol: str) -> Guide:
        """The main guide for a client and ``imap``/``pop3``/``smtp`` (webagent: its one guide)."""
        client_id = client if client in self._clients else self.resolve_client(client)
        if client_id is None:
            raise KeyError(f"unknown client {client!r}")
        wanted = _canonical(protocol, _PROTOCOL_SYNONYMS, "protocol")
        supported = self._clients[client_id].protocols
        if wanted not in supported:
            if supported == ["web"]:
                wanted = "web"
            else:
                raise KeyError(f"{client_id} has no guide for {protocol!r}")
        article_id = f"guide_{client_id}" if wanted == "web" else f"guide_{client_id}_{wanted}"
        return self._typed(article_id, Guide)

    def guides_for(self, client: str) -> list[Guide]:
        """Every guide of a client, including variants (checks, control panel, ...)."""
        return [a for a in self._articles.values() if isinstance(a, Guide) and a.client == client]

    # -- articles ---------------------------------------------------------------
    def article(self, article_id: str) -> Article:
        try:
            return self._articles[article_id]
        except KeyError:
            raise KeyError(f"unknown article id {article_id!r}") from None

    def articles(self) -> list[Article]:
        return list(self._articles.values())

    def has_article(self, article_id: str) -> bool:
        return article_id in self._articles

    def articles_for_intent(self, intent: str) -> list[Article]:
        return [a for a in self._articles.values() if intent in a.intents]

    def problem(self, problem_id: str) -> Problem:
        return self._typed(problem_id, Problem)

    def procedure(self, procedure_id: str) -> Procedure:
        return self._typed(procedure_id, Procedure)

    def info(self, info_id: str) -> Info:
        return self._typed(info_id, Info)

    def bounce_article(self, category: str) -> BounceArticle:
        if category not in schema.BOUNCE_CATEGORIES:
            raise KeyError(f"unknown bounce category {category!r}")
        return self._typed(f"bounce_{category}", BounceArticle)

    @property
    def contact(self) -> Contact:
        """The support contact (e-mail address, subject for screenshots, what not to do)."""
        return self._typed("contact_support", Contact)

    @property
    def portal(self) -> Contact:
        """The customer portal (Kundenbereich)."""
        return self._typed("contact_portal", Contact)

    def contradiction(self, contradiction_id: str) -> Contradiction:
        for item in self.contradictions:
            if item.id == contradiction_id:
                return item
        raise KeyError(f"unknown contradiction id {contradiction_id!r}")

    # -- search -------------------------------------------------------------------
    def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """Ranked German full-text search over all articles (never raises for text input)."""
        if self._index is None:
            self._index = SearchIndex(
                (a.id, a.title, a.search_fields()) for a in self._articles.values())
        return self._index.search(query, limit)

    def _typed(self, article_id: str, kind: type[T]) -> T:
        article = self.article(article_id)
        if not isinstance(article, kind):
            raise KeyError(f"{article_id!r} is a {type(article).__name__}, not a {kind.__name__}")
        return article


def _canonical(value: str, synonyms: dict[str, str], what: str) -> str:
    key = str(value).strip().lower().replace(" ", "")
    if key not in synonyms:
        raise KeyError(f"unknown {what} {value!r}")
    return synonyms[key]


def _alias_table(clients) -> list[tuple[str, str]]:
    table = []
    for client in clients:
        for alias in [client.id.replace("_", " "), client.name] + list(client.aliases):
            folded = " ".join(re.findall(r"[a-z0-9]+", fold(alias)))
            if folded:
                table.append((folded, client.id))
    # longest alias first so that "windows mail" wins over "mail"
    table.sort(key=lambda item: (-len(item[0]), item[0]))
    return table
