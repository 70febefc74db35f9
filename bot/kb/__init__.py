"""The structured knowledge base of Mailhilfe (``data/kb/*.yml``) and its typed API.

Pure Python (PyYAML only); never imports Rasa.

    from bot.kb import get_kb
    kb = get_kb()                                  # cached, validated (data/kb)
    kb.server("imap").host                         # 'imap.dokom.net'
    kb.ports("smtp", "starttls")                   # [PortOption(587, ...), PortOption(25, ...)]
    kb.recommended_port("pop3")                    # PortOption(995, 'ssl_tls', True, ...)
    kb.guide("outlook", "imap")                    # Guide guide_outlook_imap (webagent: guide_webagent)
    kb.guides_for("outlook")                       # every Outlook guide incl. variants
    kb.article(id) / kb.problem(id) / kb.procedure(id) / kb.info(id) / kb.bounce_article(category)
    kb.articles() / kb.has_article(id) / kb.articles_for_intent(intent)
    kb.limits / kb.contact / kb.portal / kb.contradictions / kb.contradiction(id)
    kb.search("Postfach voll", limit=3)            # [SearchHit(article_id, title, score), ...]
    kb.clients() / kb.client(id) / kb.resolve_client("Outlook 2016")  # -> 'outlook'

``load_kb(path)`` loads another folder (tests). Every problem in a KB file raises
:class:`KBError` whose message names the file and the key path.
``python -m bot.kb validate [DIR]`` checks a folder; ``python -m bot.kb search QUERY`` searches.
"""

from __future__ import annotations

from functools import lru_cache

from .errors import KBError
from .knowledge import KnowledgeBase
from .loader import default_kb_dir, load_kb
from .models import (
    Article, BounceArticle, Client, Contact, Contradiction, ContradictionVersion, Guide, Info,
    Limits, PortOption, Problem, ProblemVariant, Procedure, SearchHit, Server, ServerSetting,
    Step, StepGroup,
)


@lru_cache(maxsize=1)
def get_kb() -> KnowledgeBase:
    """The validated knowledge base from the repository's ``data/kb`` (loaded once)."""
    return load_kb(default_kb_dir())


__all__ = [
    "Article", "BounceArticle", "Client", "Contact", "Contradiction", "ContradictionVersion",
    "Guide", "Info", "KBError", "KnowledgeBase", "Limits", "PortOption", "Problem",
    "ProblemVariant", "Procedure", "SearchHit", "Server", "ServerSetting", "Step", "StepGroup",
    "default_kb_dir", "get_kb", "load_kb",
]
