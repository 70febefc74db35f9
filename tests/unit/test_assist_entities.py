"""Agent assist: entities get the contract's canonical values."""
import pytest

from bot.assist import entities
from assist_fakes import make_kb

KB = make_kb()


def values(text):
    return [(e["entity"], e["value"]) for e in entities.detect(text, KB)]


def test_keywords_detect_client_protocol_encryption_and_codes():
    found = values("Outlook 2016 mit IMAP und SSL: Fehler 554 5.7.1 Relay access denied")
    assert found == [("client", "outlook"), ("protocol", "imap"), ("encryption", "ssl_tls"),
                     ("error_code", "554"), ("error_code", "5.7.1")]


def test_ports_are_not_error_codes():
    assert ("error_code", "465") not in values("Port 465 mit SSL")
    assert not [v for v in values("Port: 550") if v[0] == "error_code"]


def test_starttls_is_not_ssl():
    assert values("STARTTLS auf Port 587") == [("encryption", "starttls")]


@pytest.mark.parametrize("raw, expected", [
    ({"entity": "client", "value": "Outlook 2016"}, "outlook"),
    ({"entity": "client", "value": "outlook"}, "outlook"),
    ({"entity": "client", "value": "Eudora"}, "other"),
    ({"entity": "protocol", "value": "POP"}, "pop3"),
    ({"entity": "encryption", "value": "SSL/TLS"}, "ssl_tls"),
    ({"entity": "encryption", "value": "keine Verschlüsselung"}, "none"),
])
def test_nlu_values_are_normalised(raw, expected):
    assert entities.normalise(raw, KB)["value"] == expected


def test_unmappable_protocol_is_dropped():
    assert entities.normalise({"entity": "protocol", "value": "FTP"}, KB) is None


def test_merge_keeps_nlu_and_adds_missing_types():
    nlu = [{"entity": "client", "value": "outlook", "text": "Outlook", "source": "nlu"}]
    extra = [{"entity": "client", "value": "thunderbird", "text": "TB", "source": "keywords"},
             {"entity": "protocol", "value": "imap", "text": "IMAP", "source": "keywords"}]
    merged = entities.merge(nlu, extra)
    assert [(e["entity"], e["value"]) for e in merged] == [("client", "outlook"), ("protocol", "imap")]
    assert entities.first_values(merged) == {"client": "outlook", "protocol": "imap"}


@pytest.mark.parametrize("value, expected", [
    ("554", "554"), ("5.7.26", "5.7.26"), (" 550 ", "550"),
    ("192.0.2.10", None), ("Fehler", None), ("5541", None), ("993", None),
])
def test_error_codes_must_look_like_smtp_codes(value, expected):
    result = entities.normalise({"entity": "error_code", "value": value}, KB)
    assert (result["value"] if result else None) == expected
