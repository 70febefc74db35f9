"""German answers composed from the knowledge base; independent of Rasa.

>>> from bot.kb import get_kb
>>> from bot.replies import Composer
>>> composer = Composer(get_kb())
>>> print(composer.render(composer.server_settings("smtp", "starttls")))  # doctest: +SKIP
"""

from .compose import Composer, PROTOCOL_NAMES, bullets, numbered
from .templates import Button, Message, TemplateError, Templates, get_templates

__all__ = ["Button", "Composer", "Message", "PROTOCOL_NAMES", "TemplateError", "Templates",
           "bullets", "get_templates", "numbered"]
