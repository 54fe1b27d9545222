"""企业微信 and 钉钉 group robots: the message each expects, 钉钉's 加签, and what their answers mean (issue #6 §1;
facts and sources in docs/notifications.md).

Both answer HTTP 200 with an `errcode`, so success is errcode 0, not the status. An answer that will not change
however often we try (a wrong key, a failed signature) is `permanent`: the channel is broken until an administrator
fixes it; a rate limit, a timeout or a server error is retried later. The webhook URL of a 企业微信 robot is its only
secret, so it never appears in a result or a log.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    mobiles: tuple[str, ...] = field(default=())  # people to @ (their phone numbers)


@dataclass(frozen=True)
class Result:
    ok: bool
    permanent: bool = False
    answer: str = ""  # the provider's answer or the error, for the administrators' delivery page


def truncate_utf8(text: str, limit: int, marker: str = "…") -> str:
    """At most `limit` bytes of UTF-8, cut at a character boundary, with `marker` when cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode())
    return data[:room].decode(errors="ignore") + marker


def _post(url: str, payload: dict, *, timeout: float) -> tuple[int, dict | None, str]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return post_bytes(url, body, {"Content-Type": "application/json; charset=utf-8"}, timeout=timeout)


# Keep-alive: each sending thread keeps one connection per provider and reuses it — a TLS handshake per message would
# cost more than the message. A connection idle longer than REUSE_IDLE is dropped first: providers close idle ones,
# and a POST on a connection the other side already closed cannot safely be repeated.
REUSE_IDLE = 4.0  # seconds
_pool = threading.local()


def _connection(parts: urllib.parse.SplitResult, timeout: float) -> http.client.HTTPConnection:
    conns = _pool.__dict__.setdefault("conns", {})
    key = (parts.scheme, parts.hostname, parts.port)
    held = conns.pop(key, None)
    if held is not None:
        conn, last = held
        if time.monotonic() - last <= REUSE_IDLE and conn.sock is not None:
            conn.sock.settimeout(timeout)
            conn.timeout = timeout
            return conn
        conn.close()
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl.create_default_context())
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def post_bytes(url: str, body: bytes, headers: dict, *, timeout: float) -> tuple[int, dict | None, str]:
    """POST and read a JSON answer: (HTTP status or 0, the answer or None, what went wrong)."""
    if not url.startswith(("http://", "https://")):
        return 0, None, "地址不是 http(s)"
    parts = urllib.parse.urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    conn = _connection(parts, timeout)
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        raw = response.read(65536)
        status = response.status
        if response.will_close or len(raw) == 65536:
            conn.close()
        else:
            _pool.conns[(parts.scheme, parts.hostname, parts.port)] = (conn, time.monotonic())
    except (http.client.HTTPException, TimeoutError, OSError) as exc:
        conn.close()
        return 0, None, f"无法连接：{type(exc).__name__}"
    if status >= 400:
        return status, None, f"HTTP {status}"
    try:
        return status, json.loads(raw), ""
    except ValueError:
        return status, None, f"HTTP {status}，应答不是 JSON"


def _result(status: int, answer: dict | None, error: str, permanent_codes: set[int]) -> Result:
    if answer is None:
        # no JSON: a 4xx other than 429 will not get better by itself, anything else may
        return Result(False, permanent=400 <= status < 500 and status != 429, answer=error)
    code = answer.get("errcode")
    text = f"errcode {code}：{str(answer.get('errmsg', ''))[:200]}"
    if code == 0:
        return Result(True, answer=text)
    return Result(False, permanent=code in permanent_codes, answer=text)


class WeComRobot:
    """企业微信 群机器人: markdown (≤ 4096 bytes), or text (≤ 2048 bytes) when someone is to be @-ed — mentions by
    phone number work in text messages only."""

    PERMANENT = {93000}  # invalid key or removed robot (45009, the rate limit, and anything unknown: retried)
    TEXT_LIMIT, MARKDOWN_LIMIT = 2048, 4096

    def __init__(self, webhook_url: str):
        self.url = webhook_url

    def payload(self, message: Message) -> dict:
        if message.mobiles:
            content = truncate_utf8(f"{message.title}\n{message.text}", self.TEXT_LIMIT)
            return {"msgtype": "text", "text": {"content": content, "mentioned_mobile_list": list(message.mobiles)}}
        return {"msgtype": "markdown",
                "markdown": {"content": truncate_utf8(f"**{message.title}**\n{message.text}", self.MARKDOWN_LIMIT)}}

    def send(self, message: Message, *, timeout: float = TIMEOUT) -> Result:
        return _result(*_post(self.url, self.payload(message), timeout=timeout), self.PERMANENT)


class DingTalkRobot:
    """钉钉 自定义机器人 with 加签: markdown, the people to @ listed in `at` and written in the text (so it shows)."""

    PERMANENT = {310000, 300005}  # signature, keyword or IP check failed; no such token (130101, too fast: retried)
    MARKDOWN_LIMIT = 20000

    def __init__(self, webhook_url: str, secret: str):
        self.url, self.secret = webhook_url, secret

    def sign(self, timestamp_ms: int) -> str:
        """base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), not yet URL-encoded."""
        digest = hmac.new(self.secret.encode(), f"{timestamp_ms}\n{self.secret}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        """The webhook URL with timestamp and sign; the sign URL-encoded exactly once (twice is refused, 310000)."""
        timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        query = urllib.parse.urlencode({"timestamp": timestamp_ms, "sign": self.sign(timestamp_ms)})
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def payload(self, message: Message) -> dict:
        mentions = "".join(f" @{m}" for m in message.mobiles)
        text = truncate_utf8(f"#### {message.title}\n{message.text}", self.MARKDOWN_LIMIT - len(mentions.encode()))
        return {"msgtype": "markdown", "markdown": {"title": truncate_utf8(message.title, 100), "text": text + mentions},
                "at": {"atMobiles": list(message.mobiles), "isAtAll": False}}

    def send(self, message: Message, *, timeout: float = TIMEOUT) -> Result:
        return _result(*_post(self.signed_url(), self.payload(message), timeout=timeout), self.PERMANENT)
