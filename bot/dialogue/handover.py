"""The case summary handed to a human agent (stored in slot ``handover_summary``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional

from .bounce import status_code


@dataclass(frozen=True)
class HandoverCase:
    topic: Optional[str] = None
    client: Optional[str] = None
    protocol: Optional[str] = None
    error_code: Optional[str] = None
    bounce_category: Optional[str] = None
    walkthrough: Optional[str] = None
    steps_tried: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any], steps_tried=None) -> "HandoverCase":
        tried = slots.get("steps_tried") if steps_tried is None else steps_tried
        return cls(
            topic=slots.get("topic"),
            client=slots.get("client"),
            protocol=slots.get("protocol"),
            error_code=status_code(_text(slots.get("error_code"))),
            bounce_category=slots.get("bounce_category"),
            walkthrough=slots.get("walkthrough"),
            steps_tried=tuple(str(s) for s in (tried or [])),
        )

    def record(self, text: str) -> dict[str, Any]:
        """What the agent-assist tool reads from the tracker: the fields plus German text."""
        data = asdict(self)
        data["steps_tried"] = list(self.steps_tried)
        data["text"] = text
        return data


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or None
    return str(value)
