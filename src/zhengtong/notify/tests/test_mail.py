"""The email channel against a real local SMTP server (aiosmtpd, issue #6 §3): the message arrives with its Chinese
subject, a plain-text and an HTML part; a refused recipient is permanent, a server that is down is retried."""
from __future__ import annotations

from email import message_from_bytes, policy

from zhengtong.notify import mail
from zhengtong.notify.robots import Message

from .endpoints import free_port

MESSAGE = Message("交换箱有新公文", "示范市人民政府办公室《关于做好2027年冬季校园安全工作的通知》待签收。\n请于4个工作小时内签收。")


def test_a_notification_arrives_with_a_chinese_subject_text_and_html(smtp):
    result = mail.send(MESSAGE, ["jyj.sfy@shifan.gov.example"], link="https://oa.shifan.gov.example/exchange/inbox/")
    assert result.ok, result.answer
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["jyj.sfy@shifan.gov.example"]
    received = message_from_bytes(envelope.original_content, policy=policy.default)
    assert received["Subject"] == "【政通】交换箱有新公文"
    assert received["From"] == "zhengtong@shifan.gov.example"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "待签收" in text and "办理：https://oa.shifan.gov.example/exchange/inbox/" in text
    assert "<h2" in html and "《关于做好2027年冬季校园安全工作的通知》" in html and "去办理" in html


def test_html_in_the_notification_text_is_shown_not_run(smtp):
    assert mail.send(Message("退文", "理由：<script>alert(1)</script>"), ["a@shifan.gov.example"]).ok
    html = message_from_bytes(smtp.envelopes[0].original_content, policy=policy.default).get_body(("html",))
    assert "<script>" not in html.get_content() and "&lt;script&gt;" in html.get_content()


def test_a_refused_recipient_is_permanent_and_a_server_that_is_down_is_retried(smtp, settings):
    refused = mail.send(MESSAGE, ["nobody@shifan.gov.example"])
    assert (refused.ok, refused.permanent) == (False, True) and "550" in refused.answer
    settings.EMAIL_PORT = free_port()  # nothing listens there
    down = mail.send(MESSAGE, ["a@shifan.gov.example"], timeout=2)
    assert (down.ok, down.permanent) == (False, False) and down.answer.startswith("无法连接邮件服务器")
