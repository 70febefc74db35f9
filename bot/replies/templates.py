"""German reply templates, read from the ``responses`` of ``domain.yml``.

All German wording of the dialogue lives in ``domain.yml``. This module reads it without
importing Rasa, so the same templates serve the custom actions, the agent-assist tool and
tests. Placeholders use Rasa's syntax (``{name}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
#: placeholders plus Rasa's escapes: "{{" and "}}" stand for literal braces (JSON payloads)
_TOKEN = re.compile(r"{{|}}|{([A-Za-z_][A-Za-z0-9_]*)}")


def default_domain_path() -> Path:
    """``domain.yml`` at the repository root."""
    return Path(__file__).resolve().parents[2] / "domain.yml"


class TemplateError(KeyError):
    """A response is missing from the domain or a placeholder has no value."""


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Message:
    """One bot message: a domain response filled with values (plus optional buttons).

    ``response`` names the domain response, ``values`` fill its placeholders. Actions send
    it with ``dispatcher.utter_message(response=..., buttons=..., **values)``; other
    callers use :meth:`Templates.render` to get the plain text.
    """

    response: str
    values: Mapping[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()

    def button_dicts(self) -> list[dict[str, str]]:
        return [button.to_dict() for button in self.buttons]


class Templates:
    """The first text variant of every domain response, with placeholder filling."""

    def __init__(self, responses: Mapping[str, list[Mapping[str, Any]]]) -> None:
        self._responses = responses

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> "Templates":
        data = yaml.safe_load(Path(path or default_domain_path()).read_text(encoding="utf-8"))
        return cls(data.get("responses") or {})

    def has(self, name: str) -> bool:
        return bool(self._variants(name))

    def raw(self, name: str) -> str:
        variants = self._variants(name)
        if not variants:
            raise TemplateError(f"domain.yml has no response {name!r} with a text")
        return variants[0]["text"]

    def buttons(self, name: str, **values: Any) -> tuple[Button, ...]:
        """The response's buttons, placeholders filled (Rasa fills them in buttons too)."""
        variants = self._variants(name)
        if not variants:
            return ()
        return tuple(Button(fill(b["title"], values, name), fill(b["payload"], values, name))
                     for b in variants[0].get("buttons") or [])

    def text(self, name: str, **values: Any) -> str:
        """The response ``name`` with its placeholders filled from ``values``."""
        return fill(self.raw(name), values, name)

    def render(self, message: Message) -> str:
        return self.text(message.response, **dict(message.values))

    def placeholders(self, name: str) -> set[str]:
        return set(_PLACEHOLDER.findall(self.raw(name)))

    def _variants(self, name: str) -> list[Mapping[str, Any]]:
        return [v for v in self._responses.get(name) or [] if isinstance(v, dict) and "text" in v]


def fill(template: str, values: Mapping[str, Any], name: str = "") -> str:
    """Replace ``{key}`` by ``values[key]`` and ``{{``/``}}`` by braces, as Rasa's NLG does."""

    def replace(match: re.Match) -> str:
        key = match.group(1)
        if key is None:
            return match.group(0)[0]
        if key not in values:
            raise TemplateError(f"response {name!r} needs a value for {{{key}}}")
        return str(values[key])

    return _TOKEN.sub(replace, template)


@lru_cache(maxsize=1)
def get_templates() -> Templates:
    """Templates of the repository's ``domain.yml`` (loaded once)."""
    return Templates.from_file()
