"""Read ``data/kb/*.yml``, validate it and build a :class:`KnowledgeBase`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

import yaml

from . import builders, schema
from .errors import KBError
from .fields import Node
from .knowledge import KnowledgeBase
from .models import Article, Guide


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: faster


class _UniqueKeyLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that rejects duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_KEY_LINE = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*)\s*:")


def _key_near(text: str, line_index: int) -> str:
    """The YAML key on or above ``line_index`` (0-based), to name it in syntax errors."""
    lines = text.splitlines()
    for index in range(min(line_index, len(lines) - 1), -1, -1):
        match = _KEY_LINE.match(lines[index])
        if match:
            return f"{match.group(1)} (line {index + 1})"
    return f"line {line_index + 1}"


def read_yaml(path: Path) -> Node:
    """Parse one file; syntax errors become :class:`KBError` naming file and key."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KBError(name, "", "file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KBError(name, "", f"cannot read file: {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        key = _key_near(text, mark.line) if mark is not None else ""
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise KBError(name, key, f"YAML syntax error{where}: {problem}") from None
    node = Node(name, "", data)
    allowed = schema.FILES[name]
    if not isinstance(data, dict):
        raise KBError(name, "", f"expected a mapping with the top-level key {allowed[0]!r}")
    node.check_keys(allowed[:1], allowed[1:])
    return node


def load_kb(path: Optional[Path | str] = None) -> KnowledgeBase:
    """Load and validate the knowledge base in ``path`` (default: the repo's ``data/kb``)."""
    directory = Path(path) if path is not None else default_kb_dir()
    if not directory.is_dir():
        raise KBError(str(directory), "", "knowledge-base folder does not exist")
    nodes = {name: read_yaml(directory / name) for name in schema.FILES}

    servers = builders.build_servers(nodes["servers.yml"])
    clients = builders.build_clients(nodes["clients.yml"])
    limits = builders.build_limits(nodes["limits.yml"])
    guides = builders.build_guides(nodes["guides.yml"], servers)
    procedures = builders.build_procedures(nodes["procedures.yml"])
    problems = builders.build_problems(nodes["problems.yml"])
    bounces = builders.build_bounce_articles(nodes["bounce_categories.yml"])
    policies = builders.build_infos(nodes["policies.yml"], "policies")
    limit_articles = builders.build_infos(nodes["limits.yml"], "articles") \
        if nodes["limits.yml"].has("articles") else []
    contacts = builders.build_contacts(nodes["contacts.yml"])
    contradictions = builders.build_contradictions(nodes["contradictions.yml"])

    articles = builders.all_articles(guides, procedures, problems, bounces, policies,
                                     limit_articles, contacts)
    by_id = _unique_ids(articles)
    _check_references(articles, by_id, contradictions)
    _check_guides(guides, clients, by_id)
    _check_bounces(bounces)
    _check_required(by_id)
    _check_activation(procedures, limits)
    if "contact_support" in by_id and not getattr(by_id["contact_support"], "email", None):
        raise KBError("contacts.yml", "contacts[contact_support].email", "required field is missing")
    return KnowledgeBase(servers=servers, clients=clients, limits=limits, articles=by_id,
                         contradictions=contradictions)


def default_kb_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "kb"


def _where(article: Article, key: str) -> tuple[str, str]:
    return article.file, f"{article.file.removesuffix('.yml')}[{article.id}].{key}"


def _unique_ids(articles: list[Article]) -> dict[str, Article]:
    by_id: dict[str, Article] = {}
    for article in articles:
        if article.id in by_id:
            first = by_id[article.id]
            raise KBError(*_where(article, "id"),
                          f"duplicate id {article.id!r} (already used in {first.file})")
        by_id[article.id] = article
    return by_id


def _check_references(articles, by_id, contradictions) -> None:
    for article in articles:
        for index, ref in enumerate(article.related):
            if ref not in by_id:
                raise KBError(*_where(article, f"related[{index}]"), f"unknown article id {ref!r}")
            if ref == article.id:
                raise KBError(*_where(article, f"related[{index}]"), "an article cannot relate to itself")
        for variant in getattr(article, "variants", []):
            if variant.article_id is not None and variant.article_id not in by_id:
                raise KBError(*_where(article, f"variants[{variant.key}].article_id"),
                              f"unknown article id {variant.article_id!r}")
    seen = set()
    for item in contradictions:
        if item.id in seen or item.id in by_id:
            raise KBError("contradictions.yml", f"contradictions[{item.id}].id", f"duplicate id {item.id!r}")
        seen.add(item.id)
        for index, ref in enumerate(item.related):
            if ref not in by_id:
                raise KBError("contradictions.yml", f"contradictions[{item.id}].related[{index}]",
                              f"unknown article id {ref!r}")


def _check_guides(guides: list[Guide], clients, by_id) -> None:
    for guide in guides:
        client = clients[guide.client]
        if not guide.id.startswith(f"guide_{guide.client}"):
            raise KBError(*_where(guide, "id"), f"a guide for {guide.client!r} must start with "
                          f"'guide_{guide.client}'")
        if guide.protocol not in client.protocols:
            raise KBError(*_where(guide, "protocol"),
                          f"{client.name} does not support {guide.protocol!r} (clients.yml)")
    for client in clients.values():
        for protocol in client.protocols:
            guide_id = guide_id_for(client.id, protocol)
            guide = by_id.get(guide_id)
            if not isinstance(guide, Guide):
                raise KBError("guides.yml", "guides", f"guide {guide_id!r} is missing "
                              f"({client.id} supports {protocol})")
            if guide.client != client.id or guide.protocol != protocol:
                raise KBError(*_where(guide, "client"),
                              f"must be client {client.id!r} with protocol {protocol!r}")


def guide_id_for(client: str, protocol: str) -> str:
    return f"guide_{client}" if protocol == "web" else f"guide_{client}_{protocol}"


def _check_bounces(bounces) -> None:
    found = {}
    for article in bounces:
        if article.id != f"bounce_{article.category}":
            raise KBError(*_where(article, "id"), f"must be 'bounce_{article.category}'")
        if article.category in found:
            raise KBError(*_where(article, "category"), f"duplicate category {article.category!r}")
        found[article.category] = article
    for category in schema.BOUNCE_CATEGORIES:
        if category not in found:
            raise KBError("bounce_categories.yml", "bounce_categories",
                          f"category {category!r} has no article")


def _check_required(by_id) -> None:
    for article_id in schema.REQUIRED_IDS:
        if article_id not in by_id:
            raise KBError("data/kb", article_id, "required article is missing")


def _check_activation(procedures, limits) -> None:
    for proc in procedures:
        if proc.activation_hours is not None and proc.activation_hours != limits.activation_hours:
            raise KBError(*_where(proc, "activation_hours"),
                          f"differs from limits.yml ({limits.activation_hours})")
