"""Latency benchmark of the agent-assist API (`make bench-assist`).

Starts the stack (`ops.stack.Stack`, free loopback ports) unless --url is given, sends
200 varied texts one after another to POST /api/assist (short questions, every client ×
protocol, e-mails with quoted history and signatures, real bounces, pasted passwords,
long texts, markup and noise), prints p50/p95 and writes reports/assist/bench.json.
Exit code 1 when an answer was not 200 or p95 misses the target (300 ms).

    .venv/bin/python scripts/bench_assist.py [--url URL --token TOKEN] [--count 200]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "reports" / "assist" / "bench.json"
BOUNCE_DIR = ROOT.parent / "shared" / "corpora" / "bounces-sisimai" / "eml"
TARGET_P95_MS = 300.0
STACK_START_SECONDS = 600.0

QUESTIONS = [
    "Wie richte ich mein E-Mail-Konto ein?",
    "Welcher Port für IMAP mit SSL?",
    "Welcher Postausgangsserver ist richtig?",
    "Fehler 554 beim Senden",
    "Outlook verschickt nichts mehr",
    "Ich bekomme keine Mails mehr",
    "Mein Passwort wird nicht akzeptiert",
    "Kontoeinstellungen veraltet, was nun?",
    "Postfach voll, was tun?",
    "Wie groß darf ein Anhang sein?",
    "Ich möchte eine neue E-Mail-Adresse anlegen",
    "Wie lösche ich eine Adresse?",
    "Welche Zeichen darf meine Adresse haben?",
    "Wie ändere ich mein Kennwort?",
    "Wie lang muss das Passwort sein?",
    "Ich will meine Mails an eine andere Adresse weiterleiten",
    "Die Weiterleitung soll wieder ein normales Postfach werden",
    "Meine neue Adresse funktioniert noch nicht",
    "Wo landen gesendete Mails bei IMAP?",
    "Kann ich bei POP3 eine Kopie auf dem Server lassen?",
    "Ich bekomme so viel Spam",
    "Ist diese Mail von DOKOM21 echt? Sieht nach Phishing aus",
    "Gibt es einen Virenfilter?",
    "Was ist SMTP-Authentifizierung?",
    "Wie richte ich SPF für meine Domain ein?",
    "Thunderbird zeigt das Fax-PDF nicht an",
    "Hallo", "Danke!", "Sind Sie ein Bot?", "Ich möchte mit einem Menschen sprechen",
    "Wie wird das Wetter morgen?", "🙂🙂🙂", "<script>alert(1)</script>", "SELECT * FROM users;",
]
CLIENTS = ["Outlook", "Thunderbird", "Apple Mail", "Windows Mail", "meinem iPhone"]
PROTOCOLS = ["IMAP", "POP3"]
EMAIL_BODIES = [
    ("Mein {client} verschickt seit gestern keine E-Mails mehr. Was kann ich tun?",
     "Und wie groß darf ein Anhang eigentlich sein?"),
    ("Ich möchte {client} mit {protocol} einrichten. Welche Einstellungen brauche ich?",
     "Außerdem: Wie ändere ich mein Kennwort?"),
    ("Mein Postfach ist voll, ich nutze {protocol} in {client}.",
     "Kann ich meine Mails auch an eine andere Adresse weiterleiten?"),
]
SIGNATURES = ["Mit freundlichen Grüßen\nMax Mustermann\nMusterweg 1\n44135 Dortmund",
              "Viele Grüße\nErika", "Gesendet von meinem iPhone", "-- \nKlaus Beispiel\nTel. 0231 000000"]
HISTORIES = [
    "Am 01.03.2024 um 09:00 schrieb DOKOM21 Support <support@dokom21.de>:\n> Guten Tag,\n> wie können wir helfen?",
    "-----Ursprüngliche Nachricht-----\nVon: DOKOM21 Support\nGesendet: Montag, 4. März 2024 10:12\n"
    "An: Kunde\nBetreff: AW: Ihre Anfrage\n\nGuten Tag, bitte nennen Sie uns Ihr Mailprogramm.",
    "",
]
FAQ_BOUNCES = [
    "SMTP error from remote mail server after initial connection:\nhost mailer.y.com [192.0.2.1]: 554 DNSBL record found",
    "SMTP error from remote mail server after RCPT TO:<xy@z.de>:\nhost z.de [192.0.2.2]: 554 <xy@z.de>:\nRelay access denied",
    "554 5.6.0 Message contains NUL characters.",
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM.",
    "Betreff: Unzustellbar\nIhre Nachricht hat einige oder alle Empfänger nicht erreicht.\n'xxxxxx@x.net' am 02.12.2004 23:55\n554 <xxxxxx@x.net>: Relay access denied",
    "452 4.2.2 The email account that you tried to reach is over quota.",
    "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
    "552 5.3.4 Message size exceeds fixed maximum message size",
    "421 4.7.0 Try again later, closing connection.",
]


# share of each kind of text: mostly what agents paste every day, some long pastes
MIX = {"question": 25, "setup": 15, "email": 25, "bounce": 20, "password": 10, "long": 5}


def build_texts(count: int) -> list[tuple[str, str]]:
    """`count` (kind, text) pairs, deterministic, cycling through every kind."""
    pools: dict[str, list[str]] = {"question": list(QUESTIONS)}
    pools["setup"] = [f"Wie richte ich {c} mit {p} ein?" for c in CLIENTS for p in PROTOCOLS]
    pools["setup"] += [f"{c} {p} Port und Server?" for c in CLIENTS for p in PROTOCOLS]
    emails = []
    for index, (first, second) in enumerate(EMAIL_BODIES * 4):
        client, protocol = CLIENTS[index % len(CLIENTS)], PROTOCOLS[index % 2]
        body = f"Hallo,\n\n{first.format(client=client, protocol=protocol)}\n\n{second}\n\n"
        body += SIGNATURES[index % len(SIGNATURES)] + "\n\n" + HISTORIES[index % len(HISTORIES)]
        emails.append(body)
    pools["email"] = emails
    bounces = [f"Hallo, ich bekomme diese Meldung:\n\n{b}" for b in FAQ_BOUNCES]
    if BOUNCE_DIR.is_dir():
        for path in sorted(BOUNCE_DIR.glob("*.eml"))[::6]:
            bounces.append(path.read_text(encoding="utf-8", errors="replace"))
    pools["bounce"] = bounces
    pools["password"] = [
        f"Outlook nimmt mein Passwort nicht an. Mein Passwort ist Sommer{n}!x" for n in range(5)
    ] + [f"Benutzername: kunde{n}@dokom.net\nKennwort: Ab{n}#geheim\nIch komme nicht rein." for n in range(5)]
    long_text = "\n\n".join(f"Absatz {n}: Mein Outlook verschickt keine Mails und das Postfach ist voll. "
                            "Ich habe schon alles versucht." for n in range(60))
    pools["long"] = [long_text, long_text * 3, ("Postfach voll? " * 2000)]
    texts: list[tuple[str, str]] = []
    position = {kind: 0 for kind in pools}
    credit = {kind: 0.0 for kind in pools}
    total = sum(MIX.values())
    while len(texts) < count:  # interleave the kinds in the proportions of MIX
        for kind in pools:
            credit[kind] += MIX[kind] / total
        kind = max(pools, key=lambda k: credit[k])
        credit[kind] -= 1.0
        pool = pools[kind]
        texts.append((kind, pool[position[kind] % len(pool)]))
        position[kind] += 1
    return texts


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), int(round(share * len(ordered) + 0.4999))))
    return ordered[rank - 1]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "count": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
    }


def wait_for_nlu(session: requests.Session, url: str, headers: dict, timeout: float = 120.0) -> bool:
    """Wait until answers come with the NLU (Rasa's first parse after a start is slow)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = session.post(f"{url}/api/assist", json={"text": "Outlook einrichten"},
                                    headers=headers, timeout=30)
            if response.status_code == 200 and response.json().get("nlu_available"):
                return True
            if response.status_code == 401:
                raise SystemExit("the assist token was refused (401)")
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def run(url: str, token: str, count: int, warmup: int) -> dict:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    texts = build_texts(count)
    if not wait_for_nlu(session, url, headers):
        print("warning: the NLU did not answer within 120 s; measuring anyway", file=sys.stderr)
    for _kind, text in texts[:warmup]:
        session.post(f"{url}/api/assist", json={"text": text}, headers=headers, timeout=30)
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    nlu_missing = 0
    for kind, text in texts:
        started = time.perf_counter()
        try:
            response = session.post(f"{url}/api/assist", json={"text": text}, headers=headers, timeout=30)
            status = response.status_code
            ok = status == 200
            if ok and not response.json().get("nlu_available", True):
                nlu_missing += 1
        except requests.RequestException as exc:
            status, ok = type(exc).__name__, False
        elapsed = (time.perf_counter() - started) * 1000
        if not ok:
            errors[str(status)] = errors.get(str(status), 0) + 1
        latencies.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
    result = {"overall": summary(latencies), "by_kind": {k: summary(v) for k, v in by_kind.items()},
              "errors": errors, "answers_without_nlu": nlu_missing,
              "text_chars": {"min": min(len(t) for _, t in texts), "max": max(len(t) for _, t in texts)}}
    return result


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="web app of a running stack (default: start one)")
    parser.add_argument("--token", default=os.environ.get("ASSIST_TOKEN", ""), help="ASSIST_TOKEN for --url")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--target-ms", type=float, default=TARGET_P95_MS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    if args.url:
        result = run(args.url.rstrip("/"), args.token, args.count, args.warmup)
    else:
        from ops.stack import Stack

        print("Starting the stack ...", flush=True)
        stack = Stack(web=True)
        stack.start(timeout=STACK_START_SECONDS)  # generous: Rasa loads slowly on a busy machine
        try:
            result = run(stack.web_url, stack.assist_token, args.count, args.warmup)
        finally:
            stack.stop()

    overall = result["overall"]
    passed = overall["p95_ms"] < args.target_ms and not result["errors"]
    report = {
        "benchmark": "POST /api/assist",
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "requests": args.count, "sequential": True,
        "target_p95_ms": args.target_ms, "passed": passed, **result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    print(f"POST /api/assist, {overall['count']} texts: p50 {overall['p50_ms']} ms, "
          f"p95 {overall['p95_ms']} ms, p99 {overall['p99_ms']} ms, max {overall['max_ms']} ms")
    for kind, stats in result["by_kind"].items():
        print(f"  {kind:<9} n={stats['count']:<3} p50 {stats['p50_ms']:>7} ms  p95 {stats['p95_ms']:>7} ms")
    if result["errors"]:
        print(f"errors: {result['errors']}")
    if result["answers_without_nlu"]:
        print(f"answers without NLU (Rasa failed): {result['answers_without_nlu']}")
    print(f"target p95 < {args.target_ms:.0f} ms: {'met' if passed else 'MISSED'}; report: {args.out}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
