"""German texts of the web app and the widget, from data/web/messages.yml."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

MESSAGES_FILE = Path(__file__).resolve().parents[2] / "data" / "web" / "messages.yml"


@lru_cache(maxsize=1)
def load_messages(path: str = str(MESSAGES_FILE)) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    for section in ("errors", "notices", "widget"):
        if not isinstance(data.get(section), dict):
            raise ValueError(f"{path}: missing section {section!r}")
    return data


def error_text(code: str, **values: Any) -> str:
    errors = load_messages()["errors"]
    template = errors.get(code) or errors["internal"]
    return template.format(**values) if values else template


def notice_text(code: str, **values: Any) -> str:
    return load_messages()["notices"][code].format(**values)


def widget_texts() -> Dict[str, Any]:
    return dict(load_messages()["widget"])
