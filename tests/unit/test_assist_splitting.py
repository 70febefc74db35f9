"""Agent assist: a customer e-mail is split into its separate questions."""
from bot.assist.cleaning import clean_message
from bot.assist.splitting import split_questions


def test_two_paragraph_questions_with_context_attached():
    body = ("Ich nutze Outlook 2016 auf meinem Laptop.\n\n"
            "Seit gestern kann ich keine Mails mehr verschicken. Woran liegt das?\n\n"
            "Außerdem: Wie groß darf ein Anhang sein?\n\nVielen Dank im Voraus!")
    questions = split_questions(body)
    assert questions == [
        "Ich nutze Outlook 2016 auf meinem Laptop. Seit gestern kann ich keine Mails mehr verschicken. Woran liegt das?",
        "Außerdem: Wie groß darf ein Anhang sein?",
    ]


def test_several_questions_in_one_paragraph():
    assert split_questions("Wie richte ich Thunderbird mit POP3 ein? Und was mache ich, wenn das Postfach voll ist?") == [
        "Wie richte ich Thunderbird mit POP3 ein?",
        "Und was mache ich, wenn das Postfach voll ist?",
    ]


def test_list_items_are_separate_questions():
    body = "Ich habe zwei Fragen:\n1. Wie ändere ich mein Kennwort?\n2. Wie lege ich eine neue Adresse an?"
    assert split_questions(body) == [
        "Ich habe zwei Fragen: 1. Wie ändere ich mein Kennwort?",
        "2. Wie lege ich eine neue Adresse an?",
    ]


def test_single_statement_is_one_question():
    assert split_questions("Postfach voll") == ["Postfach voll"]


def test_trailing_context_joins_the_last_question():
    assert split_questions("Wie groß darf ein Anhang sein?\n\nIch nutze Thunderbird.") == [
        "Wie groß darf ein Anhang sein? Ich nutze Thunderbird."]


def test_empty_and_thanks_only():
    assert split_questions("") == []
    assert split_questions("Vielen Dank!") == ["Vielen Dank!"]


def test_at_most_max_questions_rest_merged():
    body = "\n\n".join(f"Frage {n}: wie geht das?" for n in range(1, 9))
    questions = split_questions(body, max_questions=3)
    assert len(questions) == 3
    assert questions[2].startswith("Frage 3") and questions[2].endswith("Frage 8: wie geht das?")


def test_full_email_with_quote_and_signature_gives_two_questions():
    email = (
        "Hallo zusammen,\n\n"
        "mein Outlook verschickt seit heute keine E-Mails mehr. Was kann ich tun?\n\n"
        "Und wie viel Speicherplatz hat mein Postfach?\n\n"
        "Viele Grüße\nMax Mustermann\n\n"
        "Am 01.03.2024 um 09:00 schrieb Support <support@dokom21.de>:\n"
        "> Wie können wir helfen? Was ist mit Thunderbird?\n"
    )
    questions = split_questions(clean_message(email).body)
    assert len(questions) == 2
    assert "Outlook" in questions[0]
    assert "Speicherplatz" in questions[1]
    assert not any("Thunderbird" in q for q in questions)


def test_long_texts_are_clipped_for_the_nlu_keeping_start_and_end():
    from bot.assist.pipeline import clip

    text = "Ich nutze Outlook. " + "Bla bla. " * 500 + "Wie groß darf ein Anhang sein?"
    clipped = clip(text, 1000)
    assert len(clipped) <= 1000
    assert clipped.startswith("Ich nutze Outlook.") and clipped.endswith("Wie groß darf ein Anhang sein?")
    assert clip("kurz", 1000) == "kurz"
