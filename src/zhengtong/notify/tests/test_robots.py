"""企业微信 / 钉钉 group robots against a real local HTTP server (issue #6 §1): the message each expects, 钉钉's
加签 checked the way the server checks it, and errcode answers sorted into delivered, retry later and broken."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import answer_json
from zhengtong.notify.robots import DingTalkRobot, Message, WeComRobot, truncate_utf8

SECRET = "SEC0123456789abcdef"


class Robot(BaseHTTPRequestHandler):
    """Answers like the providers: HTTP 200 with an errcode from the script; records what it got."""

    script: list = []
    got: list = []

    def do_POST(self):  # noqa: N802 — http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        type(self).got.append({"path": self.path, "query": query, "body": body})
        answer = type(self).script.pop(0) if type(self).script else {"errcode": 0, "errmsg": "ok"}
        if answer == "slow":
            threading.Event().wait(2)
            answer = {"errcode": 0, "errmsg": "ok"}
        answer_json(self, 200, json.dumps(answer).encode() if isinstance(answer, dict) else answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Robot.script, Robot.got = [], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


ARRIVED = Message("交换箱有新公文", "示范市人民政府办公室《关于做好2027年冬季校园安全工作的通知》待签收。")


def test_wecom_gets_markdown_or_text_with_mentions(server):
    robot = WeComRobot(f"{server}/cgi-bin/webhook/send?key=abc")
    assert robot.send(ARRIVED).ok
    urged = Message("催办", "请尽快签收。", mobiles=("13800000001",))
    assert robot.send(urged).ok
    first, second = Robot.got
    assert first["query"] == {"key": "abc"} and first["body"]["msgtype"] == "markdown"
    assert first["body"]["markdown"]["content"].startswith("**交换箱有新公文**\n示范市人民政府办公室")
    assert second["body"] == {"msgtype": "text", "text": {"content": "催办\n请尽快签收。",
                                                           "mentioned_mobile_list": ["13800000001"]}}


def test_dingtalk_signs_each_request_as_dingtalk_checks_it(server):
    robot = DingTalkRobot(f"{server}/robot/send?access_token=tok", SECRET)
    assert robot.send(Message("催办", "请尽快签收。", mobiles=("13800000001",))).ok
    [got] = Robot.got
    query = got["query"]
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{query['timestamp']}\n{SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert query["access_token"] == "tok" and query["sign"] == expected  # decoded once: encoded exactly once
    assert "%25" not in got["path"]  # no double encoding (DingTalk answers 310000 to it)
    assert got["body"]["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert got["body"]["markdown"]["text"].endswith("请尽快签收。 @13800000001")


@pytest.mark.parametrize("robot_kind, answer, ok, permanent", [
    ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}, False, False),
    ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url, from ip: 10.0.0.8"}, False, True),
    ("dingtalk", {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}, False, False),
    ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, False, True),
    ("dingtalk", {"errcode": 300005, "errmsg": "token is not exist"}, False, True),
    ("wecom", b"<html>bad gateway</html>", False, False),
])
def test_answers_are_sorted_into_delivered_retry_and_broken(server, robot_kind, answer, ok, permanent):
    robot = WeComRobot(f"{server}/send?key=k") if robot_kind == "wecom" else DingTalkRobot(f"{server}/send", SECRET)
    Robot.script = [answer]
    result = robot.send(ARRIVED)
    assert (result.ok, result.permanent) == (ok, permanent)
    assert result.answer  # what the administrators' page shows
    assert "key=k" not in result.answer  # the robot's URL is its secret


def test_an_unreachable_or_slow_robot_is_a_retry(server):
    assert not WeComRobot("http://127.0.0.1:9/send?key=k").send(ARRIVED).permanent
    Robot.script = ["slow"]
    result = WeComRobot(f"{server}/send?key=k").send(ARRIVED, timeout=0.5)
    assert (result.ok, result.permanent) == (False, False) and result.answer.startswith("无法连接")


def test_long_chinese_text_is_cut_at_the_providers_byte_limit_on_a_character_boundary():
    text = "关于做好冬季校园安全工作的通知。" * 300  # 14,400 bytes of UTF-8
    cut = truncate_utf8(text, 2048)
    assert len(cut.encode()) <= 2048 and cut.endswith("…") and text.startswith(cut[:-1])
    payload = WeComRobot("http://x/send?key=k").payload(Message("通知", text, mobiles=("13800000001",)))
    assert len(payload["text"]["content"].encode()) <= 2048
    assert len(WeComRobot("http://x/send?key=k").payload(Message("通知", text))["markdown"]["content"].encode()) <= 4096
