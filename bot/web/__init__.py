"""The public web app: demo page with the chat widget, chat API, agent assist.

`create_app(settings)` builds the Sanic app; `python -m bot.web` runs it.
"""
from .app import create_app
from .settings import Settings

__all__ = ["Settings", "create_app"]
