"""The channel registry (issue #6 §1): each external channel is a class with `send(outgoing) -> Result`, looked up
by name. The built-in ones are email, a generic SMS gateway and the 企业微信 / 钉钉 group robots; a province adds its
own by naming a class in `NOTIFY_CHANNEL_PLUGINS` (`name=dotted.path.Class`).

A channel class says how the worker groups its messages (`group_by`): a robot posts one message for everything due
for its group chat (a burst of 50 arrivals is one digest that @-mentions the people concerned, not 50 posts that trip
its 20-per-minute limit); email and SMS send one message per address, listing several notifications when several
are due together.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from . import mail, robots
from .robots import Result


@dataclass
class Outgoing:
    """What one send carries: one or several notifications for one address (or one robot's group)."""

    title: str
    text: str
    link: str = ""
    target: str = ""  # email address or phone number; empty for a robot
    mobiles: tuple[str, ...] = field(default=())  # people a robot @-mentions
    url: str = ""  # the robot's webhook or the gateway's address (decrypted; never logged)
    secret: str = ""
    options: dict = field(default_factory=dict)
    timeout: float = robots.TIMEOUT  # seconds per send

    def message(self) -> robots.Message:
        return robots.Message(self.title, self.text, self.mobiles)


class Email:
    label = "电子邮件"
    group_by = "target"
    needs_config = False

    def send(self, out: Outgoing) -> Result:
        return mail.send(out.message(), [out.target], link=out.link, timeout=out.timeout)


class WeCom:
    label = "企业微信群机器人"
    group_by = "config"
    needs_config = True
    default_per_minute = 20

    def send(self, out: Outgoing) -> Result:
        return robots.WeComRobot(out.url).send(out.message(), timeout=out.timeout)


class DingTalk:
    label = "钉钉群机器人"
    group_by = "config"
    needs_config = True
    default_per_minute = 20

    def send(self, out: Outgoing) -> Result:
        return robots.DingTalkRobot(out.url, out.secret).send(out.message(), timeout=out.timeout)


class SmsGateway:
    """A generic HTTP SMS gateway: POST of a JSON template filled with the phone number and the text; success when
    the answer's `success_field` equals `success_value`. With a secret, the body is signed (HMAC-SHA256, hex) in
    `X-Signature` with `X-Timestamp`, the way most provincial gateways check callers."""

    label = "短信网关"
    group_by = "target"
    needs_config = True
    default_per_minute = 600
    MAX_CHARS = 300  # a long SMS of five segments

    DEFAULT_TEMPLATE = {"mobile": "{mobile}", "content": "{content}"}

    @staticmethod
    def fill(template, mobile: str, content: str):
        if isinstance(template, dict):
            return {k: SmsGateway.fill(v, mobile, content) for k, v in template.items()}
        if isinstance(template, list):
            return [SmsGateway.fill(v, mobile, content) for v in template]
        if isinstance(template, str):
            return template.replace("{mobile}", mobile).replace("{content}", content)
        return template

    def content(self, out: Outgoing) -> str:
        text = f"【政通】{out.title}：{out.text}"
        return text if len(text) <= self.MAX_CHARS else text[:self.MAX_CHARS - 1] + "…"

    def send(self, out: Outgoing) -> Result:
        payload = self.fill(out.options.get("template") or self.DEFAULT_TEMPLATE, out.target, self.content(out))
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if out.secret:
            stamp = str(int(time.time()))
            headers["X-Timestamp"] = stamp
            headers["X-Signature"] = hmac.new(out.secret.encode(), stamp.encode() + b"\n" + body,
                                              hashlib.sha256).hexdigest()
        status, answer, error = robots.post_bytes(out.url, body, headers, timeout=out.timeout)
        if answer is None:
            return Result(False, permanent=400 <= status < 500 and status != 429, answer=error)
        success_field = out.options.get("success_field") or "code"
        got = answer.get(success_field) if isinstance(answer, dict) else None
        text = f"{success_field}={got}：{str(answer.get('message', answer.get('msg', '')))[:200]}" \
            if isinstance(answer, dict) else str(answer)[:200]
        if 200 <= status < 300 and str(got) == str(out.options.get("success_value", "0")):
            return Result(True, answer=text)
        return Result(False, permanent=400 <= status < 500 and status != 429, answer=f"HTTP {status} {text}")


BUILTIN = {"email": Email, "wecom": WeCom, "dingtalk": DingTalk, "sms": SmsGateway}


@cache
def registry() -> dict[str, object]:
    """{name: channel instance}: the built-in channels and the plugins named in NOTIFY_CHANNEL_PLUGINS."""
    found = {name: cls() for name, cls in BUILTIN.items()}
    for entry in getattr(settings, "NOTIFY_CHANNEL_PLUGINS", []):
        name, _, path = entry.partition("=")
        if not name.strip() or not path.strip():
            raise ImproperlyConfigured(f"NOTIFY_CHANNEL_PLUGINS: “{entry}” is not name=dotted.path.Class")
        channel = import_string(path.strip())()
        for attribute in ("label", "group_by", "needs_config", "send"):
            if not hasattr(channel, attribute):
                raise ImproperlyConfigured(f"NOTIFY_CHANNEL_PLUGINS: {path} has no “{attribute}”")
        found[name.strip()] = channel
    return found


def get(name: str):
    return registry().get(name)


def labels() -> dict[str, str]:
    return {name: channel.label for name, channel in registry().items()}


def configurable() -> dict[str, str]:
    """Channels an administrator sets up (robots and gateways), by name."""
    return {name: channel.label for name, channel in registry().items() if channel.needs_config}
