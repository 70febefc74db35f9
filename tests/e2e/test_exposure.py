"""What the running stack exposes, checked on the live processes.

- Rasa server and action server listen on 127.0.0.1 only (the listening sockets of
  their process groups, read from /proc/net/tcp and /proc/net/tcp6).
- Rasa's HTTP API refuses every request without the right token (401/403), including
  loading a model (`PUT /model`) and writing to a conversation; it sends no CORS header
  for a foreign origin.
- The web app sends its security headers on every kind of response and its session
  cookie is HttpOnly and SameSite.
"""
from __future__ import annotations

import os
import socket
import struct
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import requests

pytestmark = pytest.mark.stack

LOOPBACK_V4 = {"127.0.0.1"}
LOOPBACK_V6 = {"::1", "::ffff:127.0.0.1"}


# ------------------------------------------------------------ sockets
def _decode_address(hex_address: str) -> Tuple[str, int]:
    host_hex, port_hex = hex_address.split(":")
    port = int(port_hex, 16)
    raw = bytes.fromhex(host_hex)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, struct.pack("<I", struct.unpack(">I", raw)[0])), port
    # IPv6: four 32-bit words, each in host (little-endian) order
    words = struct.unpack(">4I", raw)
    packed = struct.pack("<4I", *words)
    return socket.inet_ntop(socket.AF_INET6, packed), port


def listening_sockets() -> Dict[int, Tuple[str, int]]:
    """inode -> (address, port) of every TCP socket in LISTEN state on this machine."""
    found: Dict[int, Tuple[str, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
                found[int(fields[9])] = _decode_address(fields[1])
    return found


def process_group(pgid: int) -> List[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # fields after the command name in parentheses: state ppid pgrp ...
        after = stat.rsplit(")", 1)[1].split()
        if int(after[2]) == pgid:
            pids.append(int(entry))
    return pids


def socket_inodes(pid: int) -> Set[int]:
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listening_addresses(pgid: int) -> Set[Tuple[str, int]]:
    table = listening_sockets()
    inodes = set().union(*(socket_inodes(pid) for pid in process_group(pgid)))
    return {table[inode] for inode in inodes if inode in table}


def test_socket_decoding():
    assert _decode_address("0100007F:1F90") == ("127.0.0.1", 8080)
    assert _decode_address("00000000:0050") == ("0.0.0.0", 80)
    assert _decode_address("00000000000000000000000001000000:1F90") == ("::1", 8080)
    assert _decode_address("00000000000000000000000000000000:0016") == ("::", 22)


@pytest.mark.parametrize("kind", ["rasa", "actions", "web"])
def test_every_process_listens_on_loopback_only(live_stack, kind):
    pids = live_stack.pids()
    if kind not in pids:
        pytest.skip(f"no {kind} process in this stack")
    addresses = listening_addresses(pids[kind])
    port = {"rasa": live_stack.rasa_port, "actions": live_stack.actions_port,
            "web": live_stack.web_port}[kind]
    assert ("127.0.0.1", port) in addresses, f"{kind} not listening on 127.0.0.1:{port}: {addresses}"
    exposed = {a for a in addresses if a[0] not in LOOPBACK_V4 | LOOPBACK_V6}
    assert not exposed, f"{kind} listens beyond loopback: {exposed}"


def local_ipv4_addresses() -> Set[str]:
    """The IPv4 addresses of this machine's interfaces (connections to them stay local)."""
    import fcntl

    found = set()
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915,  # SIOCGIFADDR
                                     struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            found.add(socket.inet_ntoa(packed[20:24]))
    return found


def test_rasa_and_actions_refuse_connections_on_other_addresses(live_stack):
    """Connecting to this machine's other addresses on the private ports fails."""
    others = {a for a in local_ipv4_addresses() if not a.startswith("127.")}
    if not others:
        pytest.skip("this machine has no non-loopback IPv4 address")
    for address in others:
        for port in (live_stack.rasa_port, live_stack.actions_port):
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=3).close()


# ------------------------------------------------------------ Rasa's HTTP API
PROTECTED = [
    ("GET", "/status"),
    ("GET", "/domain"),
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/tracker/events"),
    ("PUT", "/conversations/someone/tracker/events"),
    ("POST", "/conversations/someone/messages"),
    ("POST", "/conversations/someone/trigger_intent"),
    ("POST", "/conversations/someone/predict"),
    ("POST", "/conversations/someone/execute"),
    ("GET", "/conversations/someone/story"),
    ("POST", "/model/parse"),
    ("POST", "/model/predict"),
    ("PUT", "/model"),        # loading a model: the way to run code inside Rasa
    ("DELETE", "/model"),
    ("POST", "/model/train"),
    ("POST", "/model/test/stories"),
    ("POST", "/model/test/intents"),
]


@pytest.mark.parametrize("method,path", PROTECTED)
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_rasa_http_api_needs_the_token(live_stack, method, path, token):
    params = {} if token is None else {"token": token}
    response = requests.request(method, live_stack.rasa_url + path, params=params,
                                json={"model_file": "/tmp/evil.tar.gz", "text": "x"}, timeout=30)
    assert response.status_code in (401, 403), (method, path, response.status_code, response.text[:200])


def test_rasa_http_api_works_with_the_token(live_stack):
    response = requests.get(f"{live_stack.rasa_url}/status", params={"token": live_stack.rasa_token},
                            timeout=30)
    assert response.status_code == 200
    assert "model_file" in response.json()


def test_rasa_sends_no_cors_header_for_a_foreign_origin(live_stack):
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    for method in ("OPTIONS", "POST"):
        response = requests.request(method, f"{live_stack.rasa_url}/webhooks/rest/webhook",
                                    headers=headers, json={"sender": "cors", "message": "hallo"},
                                    timeout=60)
        allowed = response.headers.get("Access-Control-Allow-Origin")
        assert allowed in (None, ""), f"{method}: Access-Control-Allow-Origin {allowed!r}"


def test_action_server_sends_no_cors_header(live_stack):
    response = requests.options(f"{live_stack.actions_url}/webhook",
                                headers={"Origin": "https://evil.example",
                                         "Access-Control-Request-Method": "POST"}, timeout=30)
    assert response.headers.get("Access-Control-Allow-Origin") in (None, "")


# ------------------------------------------------------------ the web app
def expect_security_headers(response: requests.Response, what: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "default-src" in directives, f"{what}: no CSP: {csp!r}"
    script = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, f"{what}: {csp}"
    assert "*" not in script.split(), f"{what}: {csp}"
    assert "frame-ancestors" in directives and "*" not in directives["frame-ancestors"].split(), csp
    assert directives.get("object-src") == "object-src 'none'", f"{what}: {csp}"
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer",
                                              "same-origin", "strict-origin"), what


def web_requests(stack) -> List[Tuple[str, requests.Response]]:
    base = stack.web_url
    origin = {"Origin": base}
    http = requests.Session()
    out = [
        ("GET /", http.get(base + "/", timeout=30)),
        ("GET /static/widget.js", http.get(base + "/static/widget.js", timeout=30)),
        ("GET /static/widget.css", http.get(base + "/static/widget.css", timeout=30)),
        ("GET /api/widget/config", http.get(base + "/api/widget/config", timeout=30)),
        ("GET /assist", http.get(base + "/assist", timeout=30)),
        ("POST /api/chat", http.post(base + "/api/chat", json={"message": "Hallo"}, headers=origin,
                                     timeout=60)),
        ("POST /api/chat 400", http.post(base + "/api/chat", data=b"\xff\xfe", headers=origin,
                                         timeout=30)),
        ("POST /api/chat 403", http.post(base + "/api/chat", json={"message": "x"},
                                         headers={"Origin": "https://evil.example"}, timeout=30)),
        ("POST /api/chat 413", http.post(base + "/api/chat", data=b"{" + b" " * (1024 * 1024 + 10),
                                         headers={**origin, "Content-Type": "application/json"},
                                         timeout=60)),
        ("GET 404", http.get(base + "/no/such/page", timeout=30)),
        ("GET /api/chat 405", http.get(base + "/api/chat", timeout=30)),
        ("POST /api/assist 401", http.post(base + "/api/assist", json={"text": "x"}, headers=origin,
                                           timeout=30)),
    ]
    return out


def test_web_app_sends_security_headers_everywhere(live_stack):
    if not live_stack.web_url:
        pytest.skip("no web app in this stack")
    seen = {}
    for what, response in web_requests(live_stack):
        seen[what] = response.status_code
        expect_security_headers(response, what)
    # the list covers success, client errors and refusals
    assert seen["GET /"] == 200 and seen["POST /api/chat"] == 200
    assert seen["GET /static/widget.js"] == 200 and seen["GET /assist"] == 200
    assert seen["POST /api/chat 400"] == 400 and seen["POST /api/chat 403"] == 403
    assert seen["POST /api/chat 413"] == 413 and seen["GET 404"] == 404
    assert seen["GET /api/chat 405"] == 405 and seen["POST /api/assist 401"] == 401


def test_api_answers_are_not_cached(live_stack):
    response = requests.post(live_stack.web_url + "/api/chat", json={"message": "Hallo"},
                             headers={"Origin": live_stack.web_url}, timeout=60)
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_session_cookie_is_httponly_and_samesite(live_stack):
    response = requests.post(live_stack.web_url + "/api/chat", json={"message": "Hallo"},
                             headers={"Origin": live_stack.web_url}, timeout=60)
    raw = response.raw.headers.getlist("Set-Cookie")
    cookie = next((c for c in raw if c.startswith("mailhilfe_session=")), None)
    assert cookie, raw
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes, cookie
    assert attributes.get("samesite", "").lower() in ("samesite=strict", "samesite=lax"), cookie
    assert "expires" not in attributes and "max-age" not in attributes, cookie  # browser session


def test_foreign_origin_cannot_use_the_chat(live_stack):
    response = requests.post(live_stack.web_url + "/api/chat", json={"message": "Hallo"},
                             headers={"Origin": "https://evil.example"}, timeout=30)
    assert response.status_code == 403
    assert response.headers.get("Access-Control-Allow-Origin") in (None, "")
    assert "set-cookie" not in {k.lower() for k in response.headers}
