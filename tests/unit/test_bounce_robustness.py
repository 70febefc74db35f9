"""analyse() never raises, always answers with a contract category, and is
fast: arbitrary bytes and text, huge input, deep MIME nesting, broken encodings."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.bounce import CATEGORIES, PHASES, analyse

TIME_LIMIT = 1.0  # seconds per input, the contract of the analyser


def check(data: object) -> dict:
    started = time.perf_counter()
    result = analyse(data)
    elapsed = time.perf_counter() - started
    data_dict = result.to_dict()
    assert elapsed < TIME_LIMIT, f"took {elapsed:.2f}s"
    assert data_dict["category"] in CATEGORIES
    assert data_dict["phase"] in PHASES
    assert 0.0 <= data_dict["confidence"] <= 1.0
    assert isinstance(data_dict["recipients"], list)
    assert data_dict["article_id"] == f"bounce_{data_dict['category']}"
    assert "error" not in data_dict, data_dict.get("error")
    json.dumps(data_dict)
    return data_dict


FAST = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


@FAST
@given(st.text(max_size=3000))
def test_arbitrary_text(text: str) -> None:
    check(text)


BOUNCE_WORDS = st.sampled_from(
    [
        "550", "5.1.1", "554", "4.2.2", "452-", "user unknown", "Relay access denied", "blocked using",
        "Mailbox full", "DNSBL", "Unzustellbar", "Postfach voll", "SPF", "DMARC", "NUL characters",
        "after RCPT TO:", "host mx.example.org [192.0.2.1]:", "<a@example.org>", "\n", "\n\n", "--",
        "Content-Type: multipart/report; boundary=b", "--b", "Diagnostic-Code: smtp; ", "Final-Recipient: rfc822;",
        "=?utf-8?B?", "=C3=A4", "ä", "\x00", "\r", "\t", "(", ")", "[", "]", "..", "@",
    ]
)


@FAST
@given(st.lists(BOUNCE_WORDS, max_size=200).map(" ".join))
def test_bounce_like_word_salad(text: str) -> None:
    check(text)


def _mime_tree(depth: int) -> st.SearchStrategy[str]:
    leaf = st.builds(
        lambda ctype, cte, charset, body: (
            f"Content-Type: {ctype}; charset={charset}\nContent-Transfer-Encoding: {cte}\n\n{body}"
        ),
        st.sampled_from(["text/plain", "text/html", "message/delivery-status", "text/rfc822-headers", "image/png"]),
        st.sampled_from(["7bit", "base64", "quoted-printable", "x-broken"]),
        st.sampled_from(["utf-8", "iso-8859-1", "iso-2022-jp", "bogus", '"unterminated']),
        st.text(max_size=300),
    )
    if depth == 0:
        return leaf

    def multipart(parts: list[str], boundary: str, kind: str) -> str:
        body = "".join(f"--{boundary}\n{part}\n" for part in parts)
        return f'Content-Type: {kind}; boundary="{boundary}"\n\n{body}--{boundary}--\n'

    def attached(inner: str) -> str:
        return f"Content-Type: message/rfc822\n\nFrom: x@example.org\nSubject: s\n{inner}"

    nested = _mime_tree(depth - 1)
    return st.one_of(
        leaf,
        st.builds(
            multipart,
            st.lists(nested, max_size=4),
            st.text(alphabet="abcXYZ0123-_.=", min_size=1, max_size=20),
            st.sampled_from(["multipart/mixed", "multipart/report", "multipart/alternative", "multipart/digest"]),
        ),
        st.builds(attached, nested),
    )


@FAST
@given(_mime_tree(4), st.sampled_from(["\n", "\r\n"]))
def test_random_mime_structures(entity: str, newline: str) -> None:
    raw = "From: MAILER-DAEMON@example.net\nTo: a@example.de\nSubject: failure\nMIME-Version: 1.0\n" + entity
    check(raw.replace("\n", newline).encode("utf-8", "surrogatepass"))


def _nested(depth: int) -> str:
    message = "From: a@example.org\nSubject: x\nContent-Type: text/plain\n\n550 5.1.1 user unknown\n"
    for level in range(depth):
        message = (
            f'From: b@example.org\nSubject: s\nContent-Type: multipart/mixed; boundary="b{level}"\n\n'
            f"--b{level}\nContent-Type: message/rfc822\n\n{message}\n--b{level}--\n"
        )
    return message


MB = 1024 * 1024


@pytest.mark.parametrize(
    "name, make",
    [
        ("random bytes", lambda: bytes(range(256)) * (10 * MB // 256)),
        ("one letter", lambda: b"a" * (10 * MB)),
        ("header lines", lambda: b"X-Header: value\n" * (10 * MB // 16)),
        ("reply codes", lambda: b"550 5.1.1 " * (MB)),
        ("open tags", lambda: b"From: a@b.example\nSubject: x\nContent-Type: text/html\n\n" + b"<" * (10 * MB)),
        ("style blocks", lambda: b"From: a@b.example\nSubject: x\nContent-Type: text/html\n\n" + b"<style>" * MB),
        ("newlines", lambda: b"\n" * (10 * MB)),
        ("dots and at", lambda: b"." * (5 * MB) + b"@" + b"a." * (2 * MB)),
        ("deep nesting", lambda: _nested(2000).encode()),
        (
            "many parts",
            lambda: (
                "From: a@b.example\nSubject: x\nContent-Type: multipart/mixed; boundary=B\n\n"
                + "".join("--B\nContent-Type: text/plain\n\n" + "550 5.7.1 blocked using spam user unknown " * 500 + "\n" for _ in range(400))
                + "--B--\n"
            ).encode(),
        ),
        (
            "base64 body",
            lambda: b"From: a@b.example\nSubject: x\nContent-Transfer-Encoding: base64\n\n" + b"QUJD" * (2 * MB),
        ),
        ("unicode text", lambda: "Empfänger unbekannt ✉ " * (MB // 2)),
    ],
)
def test_huge_and_hostile_inputs(name: str, make) -> None:
    check(make())


def test_deep_nesting_stops_but_answers() -> None:
    result = check(_nested(3).encode())
    assert result["category"] == "recipient_unknown"  # a bounce attached a few levels deep
    assert check(_nested(500).encode())["category"] == "unknown"  # beyond the depth limit


@pytest.mark.parametrize("value", [None, 42, 3.5, ["550 user unknown"], {"text": 1}, bytearray(b"550 5.1.1 x"), memoryview(b"550")])
def test_any_python_value(value: object) -> None:
    check(value)
