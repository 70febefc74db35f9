"""Agent assist: understand a pasted customer text and draft a German reply.

Pure Python (no Rasa, no Sanic). The web layer calls::

    prepared = prepare(text)                       # mask, bounce, strip, split
    parses = [rasa_parse(t) for t in prepared.nlu_texts()]   # None when Rasa failed
    answer = assemble(prepared, parses)            # JSON-ready dict of POST /api/assist
"""
from .cleaning import Cleaned, clean_message
from .config import AssistConfig, AssistConfigError, get_config, load_config
from .kbview import article_view
from .masking import Masked, mask
from .pipeline import Prepared, add_bounce, assemble, prepare
from .splitting import split_questions

__all__ = [
    "AssistConfig", "AssistConfigError", "Cleaned", "Masked", "Prepared", "add_bounce", "article_view",
    "assemble", "clean_message", "get_config", "load_config", "mask", "prepare", "split_questions",
]
