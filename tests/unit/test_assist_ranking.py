"""Agent assist: article ranking from intent mapping, bounce and search."""
from bot.assist.config import get_config
from bot.assist.ranking import rank_articles, resolve_ids, search_score

from assist_fakes import make_kb

KB = make_kb()
CONFIG = get_config()


def ids(articles):
    return [a["id"] for a in articles]


def test_placeholders_are_filled_and_unknown_ones_skipped():
    patterns = ["guide_{client}_{protocol}", "guide_other_{protocol}", "info_encryption_ports"]
    assert resolve_ids(patterns, {"client": "outlook", "protocol": "imap"}, KB) == [
        "guide_outlook_imap", "guide_other_imap", "info_encryption_ports"]
    assert resolve_ids(patterns, {"client": "outlook"}, KB) == ["info_encryption_ports"]
    # no such guide in the KB: skipped, not an error
    assert resolve_ids(["guide_apple_mail_imap"], {}, KB) == []


def test_setup_with_client_and_protocol_ranks_that_guide_first():
    articles = rank_articles(KB, CONFIG, "Outlook einrichten", [("setup_client", 0.95)],
                             {"client": "outlook", "protocol": "imap"})
    assert ids(articles)[0] == "guide_outlook_imap"
    assert len(articles) == 3
    assert all(set(a) >= {"id", "title", "score"} for a in articles)
    assert all(0.0 <= a["score"] <= 1.0 for a in articles)
    assert [a["score"] for a in articles] == sorted((a["score"] for a in articles), reverse=True)


def test_diagnosed_bounce_article_beats_the_generic_bounce_articles():
    bounce = {"category": "relay_denied", "article_id": "bounce_relay_denied", "confidence": 0.9}
    articles = rank_articles(KB, CONFIG, "Fehler 554 Relay access denied", [("report_bounce", 0.9999)], {}, bounce)
    assert ids(articles)[:2] == ["bounce_relay_denied", "problem_bounce_554"]
    assert articles[0]["score"] >= 0.95


def test_undiagnosed_bounce_keeps_the_generic_article_first():
    bounce = {"category": "unknown", "article_id": "bounce_unknown", "confidence": 0.3}
    articles = rank_articles(KB, CONFIG, "Fehler 554", [("report_bounce", 0.95)], {}, bounce)
    assert ids(articles)[0] == "problem_bounce_554"
    assert "bounce_unknown" in ids(articles)


def test_two_intents_give_articles_for_both():
    articles = rank_articles(KB, CONFIG, "Senden geht nicht. Wie groß darf ein Anhang sein?",
                             [("send_problem", 0.9), ("max_message_size", 0.9)], {})
    assert {"problem_send_fails", "info_message_size"} <= set(ids(articles))


def test_search_alone_finds_articles_without_intent():
    articles = rank_articles(KB, CONFIG, "Postfach voll Speicher", [], {})
    assert ids(articles)[0] == "problem_mailbox_full"


def test_low_confidence_intent_weighs_less_than_confident_one():
    low = rank_articles(KB, CONFIG, "", [("mailbox_full", 0.2)], {})
    high = rank_articles(KB, CONFIG, "", [("mailbox_full", 0.9)], {})
    assert low[0]["id"] == high[0]["id"] == "problem_mailbox_full"
    assert low[0]["score"] < high[0]["score"]


def test_search_score_is_bounded():
    assert search_score(0) == 0
    assert 0 < search_score(5) < search_score(50) < 1
