"""Load the agent-assist data files (``data/assist/intents.yml``, ``reply.yml``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "assist"


class AssistConfigError(Exception):
    """A data file of the agent assist is missing or malformed (message names the file)."""


@dataclass(frozen=True)
class IntentConfig:
    name: str
    label: str
    needs: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    reply: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class AssistConfig:
    intents: dict[str, IntentConfig]
    texts: dict[str, Any]
    low_confidence_threshold: float = 0.55
    max_questions: int = 5
    nlu_max_chars: int = 1500
    extra: dict[str, Any] = field(default_factory=dict)

    def intent(self, name: Optional[str]) -> IntentConfig:
        if name and name in self.intents:
            return self.intents[name]
        return IntentConfig(name=name or "", label=name or "")

    def label(self, name: Optional[str]) -> str:
        return self.intent(name).label or (name or "")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AssistConfigError(f"{path.name}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise AssistConfigError(f"{path.name}: expected a mapping at the top level")
    return data


def _intent(name: str, raw: Any, file: str) -> IntentConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise AssistConfigError(f"{file}: intents.{name}: expected a mapping")
    reply = raw.get("reply") or []
    if not isinstance(reply, list) or not all(isinstance(b, dict) for b in reply):
        raise AssistConfigError(f"{file}: intents.{name}.reply: expected a list of blocks")
    for index, block in enumerate(reply):
        kinds = {"text", "article", "servers", "bounce"} & set(block)
        if len(kinds) != 1:
            raise AssistConfigError(
                f"{file}: intents.{name}.reply[{index}]: needs exactly one of text/article/servers/bounce")
    return IntentConfig(
        name=name,
        label=str(raw.get("label") or name),
        needs=tuple(raw.get("needs") or ()),
        articles=tuple(str(a) for a in raw.get("articles") or ()),
        reply=tuple(reply),
    )


def load_config(data_dir: Path = DATA_DIR) -> AssistConfig:
    intents_raw = _read(data_dir / "intents.yml")
    texts = _read(data_dir / "reply.yml")
    intents_map = intents_raw.get("intents")
    if not isinstance(intents_map, dict):
        raise AssistConfigError("intents.yml: intents: expected a mapping")
    for key in ("gaps", "greeting", "intro", "closing", "texts", "bounce", "servers", "warnings"):
        if key not in texts:
            raise AssistConfigError(f"reply.yml: {key}: required field is missing")
    return AssistConfig(
        intents={name: _intent(name, raw, "intents.yml") for name, raw in intents_map.items()},
        texts=texts,
        low_confidence_threshold=float(intents_raw.get("low_confidence_threshold", 0.55)),
        max_questions=int(intents_raw.get("max_questions", 5)),
        nlu_max_chars=int(intents_raw.get("nlu_max_chars", 1500)),
    )


@lru_cache(maxsize=1)
def get_config() -> AssistConfig:
    return load_config()
