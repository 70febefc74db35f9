"""Turn validated YAML nodes into typed records (one builder per file kind)."""

from __future__ import annotations

from typing import Any

from . import schema
from .fields import Node
from .models import (
    Article, BounceArticle, Client, Contact, Contradiction, ContradictionVersion, Guide, Info,
    Limits, PortOption, Problem, ProblemVariant, Procedure, Server, ServerSetting, Step,
    StepGroup,
)

ARTICLE_REQUIRED = ("id", "title", "summary", "keywords", "source")
ARTICLE_OPTIONAL = ("intents", "related", "notes")


def _article_fields(node: Node, kind: str) -> dict[str, Any]:
    article_id = node.text("id")
    if not article_id.replace("_", "").isalnum() or article_id != article_id.lower():
        raise node.error(f"id {article_id!r} must be lower-case letters, digits and _", "id")
    keywords = node.text_list("keywords", required=True)
    intents = node.text_list("intents")
    for index, intent in enumerate(intents):
        if intent not in schema.INTENTS:
            raise node.error(f"unknown intent {intent!r}", f"intents[{index}]")
    return {
        "id": article_id,
        "kind": kind,
        "title": node.text("title"),
        "summary": node.text("summary"),
        "keywords": keywords,
        "source": node.text("source"),
        "file": node.file,
        "intents": intents,
        "related": node.text_list("related"),
        "notes": node.text_list("notes"),
    }


def _steps(node: Node, key: str = "steps", required: bool = True) -> list[Step]:
    steps = []
    for item in node.items(key, required=required):
        if isinstance(item.value, dict):
            item.check_keys(("text",), ("question",))
            steps.append(Step(text=item.text("text"), question=item.opt_text("question")))
        else:
            steps.append(Step(text=item.as_text()))
    return steps


# -- servers ------------------------------------------------------------------
def port_option(node: Node, defaults: dict[tuple[int, str], PortOption] | None = None) -> PortOption:
    optional = ("recommended", "note") if defaults is not None else ("note",)
    required = ("port", "encryption") if defaults is not None else ("port", "encryption", "recommended")
    node.check_keys(required, optional)
    port = node.integer("port")
    if not 0 < port < 65536:
        raise node.error(f"port {port} is out of range", "port")
    encryption = node.choice("encryption", schema.ENCRYPTIONS)
    if defaults is not None:
        known = defaults.get((port, encryption))
        if known is None:
            raise node.error(
                f"port {port} with encryption {encryption!r} is not offered by this server "
                "(see servers.yml)")
        return PortOption(port, encryption, node.flag("recommended", known.recommended),
                          node.text("note", known.note))
    return PortOption(port, encryption, node.flag("recommended"), node.text("note", ""))


def build_servers(root: Node) -> dict[str, Server]:
    servers: dict[str, Server] = {}
    for protocol, node in root.child("servers").entries():
        if protocol not in schema.PROTOCOLS:
            raise node.error(f"unknown protocol (allowed: {', '.join(schema.PROTOCOLS)})")
        node.check_keys(("host", "direction", "authentication_required", "options"), ("source", "aliases"))
        options = [port_option(item) for item in node.items("options")]
        seen = set()
        for item, option in zip(node.items("options"), options):
            if (option.port, option.encryption) in seen:
                raise item.error("duplicate port/encryption pair")
            seen.add((option.port, option.encryption))
        servers[protocol] = Server(
            protocol=protocol,
            host=node.text("host"),
            direction=node.choice("direction", schema.DIRECTIONS),
            authentication_required=node.flag("authentication_required"),
            options=options,
            source=node.text("source", ""),
            aliases=node.text_list("aliases", required=False),
        )
    for protocol in schema.PROTOCOLS:
        if protocol not in servers:
            raise root.error("server is missing", f"servers.{protocol}")
    return servers


# -- clients ------------------------------------------------------------------
def build_clients(root: Node) -> dict[str, Client]:
    clients: dict[str, Client] = {}
    for node in root.items("clients"):
        node.check_keys(("id", "name", "aliases", "protocols"), ("contract",))
        client_id = node.choice("id", schema.ALL_CLIENTS)
        if client_id in clients:
            raise node.error(f"duplicate client id {client_id!r}", "id")
        protocols = node.text_list("protocols", required=True)
        for index, protocol in enumerate(protocols):
            if protocol not in schema.GUIDE_PROTOCOLS:
                raise node.error(f"unknown protocol {protocol!r}", f"protocols[{index}]")
        clients[client_id] = Client(
            id=client_id,
            name=node.text("name"),
            aliases=node.text_list("aliases", required=True),
            protocols=protocols,
            contract=node.flag("contract", client_id in schema.CONTRACT_CLIENTS),
        )
    for client_id in schema.ALL_CLIENTS:
        if client_id not in clients:
            raise root.error(f"client {client_id!r} is missing", "clients")
    return clients


# -- guides -------------------------------------------------------------------
def _server_setting(node: Node, server: Server) -> ServerSetting:
    node.check_keys(("host",), ("options",))
    host = node.text("host")
    if host != server.host:
        raise node.error(f"host {host!r} differs from servers.yml ({server.host!r})", "host")
    defaults = {(o.port, o.encryption): o for o in server.options}
    options = [port_option(item, defaults) for item in node.items("options", required=False)]
    return ServerSetting(host, options)


def build_guides(root: Node, servers: dict[str, Server]) -> list[Guide]:
    guides = []
    by_host = {server.host: server for server in servers.values()}
    for node in root.items("guides"):
        node.check_keys(
            ARTICLE_REQUIRED + ("client", "protocol", "step_groups"),
            ARTICLE_OPTIONAL + ("pitfalls", "incoming", "outgoing", "settings"),
        )
        fields = _article_fields(node, "guide")
        settings_node = Node(node.file, f"{node.path}.settings", node.mapping().get("settings") or {})
        settings: dict[str, Any] = {}
        for key, value_node in settings_node.entries():
            if key not in schema.GUIDE_SETTINGS:
                raise value_node.error(f"unknown setting (allowed: {', '.join(schema.GUIDE_SETTINGS)})")
            if not isinstance(value_node.value, (bool, int, str)):
                raise value_node.error("expected true/false, a number or a text")
            settings[key] = value_node.value
        incoming = outgoing = None
        if node.has("incoming"):
            incoming_node = node.child("incoming")
            server = by_host.get(incoming_node.mapping().get("host"))
            if server is None or server.direction != "incoming":
                raise incoming_node.error("host is not an incoming server of servers.yml", "host")
            incoming = _server_setting(incoming_node, server)
        if node.has("outgoing"):
            outgoing = _server_setting(node.child("outgoing"), servers["smtp"])
        groups = []
        for group in node.items("step_groups"):
            group.check_keys(("title", "steps"))
            groups.append(StepGroup(group.text("title"), group.text_list("steps", required=True)))
        guides.append(Guide(
            **fields,
            client=node.choice("client", schema.ALL_CLIENTS),
            protocol=node.choice("protocol", schema.GUIDE_PROTOCOLS),
            step_groups=groups,
            pitfalls=node.text_list("pitfalls"),
            incoming=incoming,
            outgoing=outgoing,
            settings=settings,
        ))
    return guides


# -- procedures, problems, bounce categories ----------------------------------
def build_procedures(root: Node) -> list[Procedure]:
    result = []
    for node in root.items("procedures"):
        node.check_keys(ARTICLE_REQUIRED + ("steps",), ARTICLE_OPTIONAL + ("activation_hours",))
        activation = node.integer("activation_hours", None)
        result.append(Procedure(**_article_fields(node, "procedure"), steps=_steps(node),
                                activation_hours=activation))
    return result


def build_problems(root: Node) -> list[Problem]:
    result = []
    for node in root.items("problems"):
        node.check_keys(ARTICLE_REQUIRED + ("steps",),
                        ARTICLE_OPTIONAL + ("symptoms", "error_codes", "variants"))
        variants = []
        for item in node.items("variants", required=False):
            item.check_keys(("key", "title", "evidence", "steps"), ("bounce_category", "article_id"))
            category = item.opt_text("bounce_category")
            if category is not None and category not in schema.BOUNCE_CATEGORIES:
                raise item.error(f"unknown bounce category {category!r}", "bounce_category")
            variants.append(ProblemVariant(
                key=item.text("key"), title=item.text("title"),
                evidence=item.text_list("evidence", required=True), steps=_steps(item),
                bounce_category=category, article_id=item.opt_text("article_id"),
            ))
        result.append(Problem(
            **_article_fields(node, "problem"), steps=_steps(node),
            symptoms=node.text_list("symptoms"), error_codes=node.text_list("error_codes"),
            variants=variants,
        ))
    return result


def build_bounce_articles(root: Node) -> list[BounceArticle]:
    result = []
    for node in root.items("bounce_categories"):
        node.check_keys(ARTICLE_REQUIRED + ("category", "explanation", "steps"),
                        ARTICLE_OPTIONAL + ("error_codes", "from_faq"))
        result.append(BounceArticle(
            **_article_fields(node, "bounce"),
            category=node.choice("category", schema.BOUNCE_CATEGORIES),
            explanation=node.text("explanation"), steps=_steps(node),
            error_codes=node.text_list("error_codes"), from_faq=node.flag("from_faq", True),
        ))
    return result


# -- policies, limits, contacts, contradictions --------------------------------
def _facts(node: Node) -> dict[str, object]:
    if not node.has("facts"):
        return {}
    return dict(node.child("facts").mapping())


def build_infos(root: Node, key: str) -> list[Info]:
    result = []
    for node in root.items(key):
        node.check_keys(ARTICLE_REQUIRED + ("points",), ARTICLE_OPTIONAL + ("facts", "limit_keys"))
        limit_keys = node.text_list("limit_keys")
        for index, limit_key in enumerate(limit_keys):
            if limit_key not in schema.LIMIT_KEYS:
                raise node.error(f"unknown limit {limit_key!r}", f"limit_keys[{index}]")
        result.append(Info(**_article_fields(node, "info"), points=node.text_list("points", required=True),
                           facts=_facts(node), limit_keys=limit_keys))
    return result


def build_limits(root: Node) -> Limits:
    node = root.child("limits")
    node.check_keys(schema.LIMIT_KEYS)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in schema.LIMIT_KEYS:
        entry = node.child(key)
        entry.check_keys(("value", "source"), ("note",))
        values[key] = entry.integer("value") if key in schema.INT_LIMIT_KEYS else entry.text("value")
        sources[key] = entry.text("source")
    limits = Limits(**values, sources=sources)
    if limits.address_min_length > limits.address_max_length:
        raise node.error("minimum is larger than maximum", "address_min_length.value")
    if limits.password_min_length > limits.password_max_length:
        raise node.error("minimum is larger than maximum", "password_min_length.value")
    expected = "".join(c for c in limits.password_special_chars_create
                       if c in limits.password_special_chars_change)
    if sorted(set(limits.password_special_chars_safe)) != sorted(set(expected)):
        raise node.error(f"must be the characters allowed in both sets ({expected!r})",
                         "password_special_chars_safe.value")
    return limits


def build_contacts(root: Node) -> list[Contact]:
    result = []
    for node in root.items("contacts"):
        node.check_keys(ARTICLE_REQUIRED,
                        ARTICLE_OPTIONAL + ("email", "url", "subject", "instructions", "do_not", "facts"))
        result.append(Contact(
            **_article_fields(node, "contact"), email=node.opt_text("email"), url=node.opt_text("url"),
            subject=node.opt_text("subject"), instructions=node.text_list("instructions"),
            do_not=node.text_list("do_not"), facts=_facts(node),
        ))
    return result


def build_contradictions(root: Node) -> list[Contradiction]:
    result = []
    for node in root.items("contradictions"):
        node.check_keys(("id", "topic", "versions", "safe_answer"), ("related",))
        versions = []
        for item in node.items("versions"):
            item.check_keys(("text", "source"))
            versions.append(ContradictionVersion(item.text("text"), item.text("source")))
        if len(versions) < 2:
            raise node.error("a contradiction needs at least two versions", "versions")
        result.append(Contradiction(
            id=node.text("id"), topic=node.text("topic"), versions=versions,
            safe_answer=node.text("safe_answer"), related=node.text_list("related"),
        ))
    return result


def all_articles(*groups: list[Article]) -> list[Article]:
    return [article for group in groups for article in group]
