"""Typed, path-aware access to parsed YAML so that every error names file and key."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from .errors import KBError

_MISSING = object()


class Node:
    """A parsed YAML value together with the file it came from and its key path."""

    def __init__(self, file: str, path: str, value: Any) -> None:
        self.file = file
        self.path = path
        self.value = value

    # -- errors -------------------------------------------------------------
    def error(self, problem: str, key: Optional[str] = None) -> KBError:
        return KBError(self.file, self._join(key) if key is not None else self.path, problem)

    def _join(self, key: str) -> str:
        if key.startswith("["):
            return f"{self.path}{key}"
        return f"{self.path}.{key}" if self.path else key

    # -- structure ----------------------------------------------------------
    def mapping(self) -> dict[str, Any]:
        if not isinstance(self.value, dict):
            raise self.error(f"expected a mapping, got {_type_name(self.value)}")
        return self.value

    def check_keys(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        data = self.mapping()
        required = list(required)
        for key in required:
            if key not in data or data[key] is None:
                raise self.error("required field is missing", key)
        allowed = set(required) | set(optional)
        for key in data:
            if key not in allowed:
                raise self.error(f"unknown field (allowed: {', '.join(sorted(allowed))})", str(key))

    def has(self, key: str) -> bool:
        return self.mapping().get(key) is not None

    def child(self, key: str, label: Optional[str] = None) -> "Node":
        data = self.mapping()
        if key not in data or data[key] is None:
            raise self.error("required field is missing", key)
        return Node(self.file, self._join(label or key), data[key])

    def items(self, key: str, required: bool = True) -> list["Node"]:
        """Children of the list under ``key``; an item with an ``id`` is labelled by it."""
        data = self.mapping()
        if data.get(key) is None:
            if required:
                raise self.error("required field is missing", key)
            return []
        raw = data[key]
        if not isinstance(raw, list):
            raise self.error(f"expected a list, got {_type_name(raw)}", key)
        nodes = []
        for index, item in enumerate(raw):
            label = f"[{index}]"
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                label = f"[{item['id']}]"
            nodes.append(Node(self.file, self._join(key) + label, item))
        if required and not nodes:
            raise self.error("must not be empty", key)
        return nodes

    def entries(self) -> list[tuple[str, "Node"]]:
        """Key/child pairs of a mapping (for files keyed by id)."""
        return [(str(k), Node(self.file, self._join(str(k)), v)) for k, v in self.mapping().items()]

    # -- scalars ------------------------------------------------------------
    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"expected a text, got {_type_name(value)}", key)
        text = str(value).strip()
        if not text and default is _MISSING:
            raise self.error("must not be empty", key)
        return text

    def opt_text(self, key: str) -> Optional[str]:
        value = self.mapping().get(key)
        return None if value is None else self.text(key)

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer, got {_type_name(value)} {value!r}", key)
        return value

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return default
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_type_name(value)} {value!r}", key)
        return value

    def text_list(self, key: str, required: bool = False) -> list[str]:
        return [item.as_text() for item in self.items(key, required=required)]

    def choice(self, key: str, allowed: Iterable[str], default: Any = _MISSING) -> str:
        allowed = list(allowed)
        value = self.text(key, default)
        if value not in allowed:
            raise self.error(f"unknown value {value!r} (allowed: {', '.join(allowed)})", key)
        return value

    def as_text(self) -> str:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.error(f"expected a text, got {_type_name(value)}")
        text = str(value).strip()
        if not text:
            raise self.error("must not be empty")
        return text

    def _get(self, key: str, default: Any) -> Any:
        data = self.mapping()
        if data.get(key) is None:
            if default is _MISSING:
                raise self.error("required field is missing", key)
            return default
        return data[key]


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a text", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)
