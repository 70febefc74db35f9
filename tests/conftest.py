"""Shared fixtures: the real stack, started once per test session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ops.stack import DEFAULT_MODEL, Stack  # noqa: E402


@pytest.fixture(scope="session")
def live_stack():
    """Rasa server + action server + web app on free loopback ports."""
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train` first", pytrace=False)
    stack = Stack(web=(ROOT / "bot" / "web" / "__main__.py").exists())
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
