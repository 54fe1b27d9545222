"""The email channel (issue #6 §1): one notification as HTML and plain text with a Chinese subject, over SMTP
(`EMAIL_HOST`, `EMAIL_PORT`, `DEFAULT_FROM_EMAIL`). The SMTP backend is named here, not taken from EMAIL_BACKEND,
so the channel talks to a real server wherever it runs. A refused recipient or a 5xx answer is permanent (trying
again gives the same); a server that cannot be reached or answers 4xx is retried."""
from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils.html import escape, linebreaks

from .robots import Message, Result

SUBJECT_PREFIX = "【政通】"
TIMEOUT = 15  # seconds


def render(message: Message, *, link: str = "") -> tuple[str, str, str]:
    """(subject, plain text, HTML)."""
    subject = f"{SUBJECT_PREFIX}{message.title}".replace("\n", " ")[:120]
    text = message.text + (f"\n\n办理：{link}" if link else "") + "\n\n——政通协同办公平台（系统邮件，请勿回复）"
    button = (f'<p><a href="{escape(link)}" style="display:inline-block;padding:6px 16px;background:#b3261e;'
              f'color:#fff;text-decoration:none;border-radius:4px">去办理</a></p>') if link else ""
    html = (f'<div style="font-family:\'PingFang SC\',\'Microsoft YaHei\',\'Noto Sans CJK SC\',sans-serif;'
            f'font-size:15px;line-height:1.7;color:#1f1f1f;max-width:600px">'
            f'<h2 style="font-size:18px;margin:0 0 12px">{escape(message.title)}</h2>{linebreaks(escape(message.text))}'
            f'{button}<p style="color:#777;font-size:12px">政通协同办公平台（系统邮件，请勿回复）</p></div>')
    return subject, text, html


def send(message: Message, to: list[str], *, link: str = "", timeout: float = TIMEOUT) -> Result:
    subject, text, html = render(message, link=link)
    email = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    email.attach_alternative(html, "text/html")
    connection = get_connection("django.core.mail.backends.smtp.EmailBackend", host=settings.EMAIL_HOST,
                                port=settings.EMAIL_PORT, timeout=timeout, fail_silently=False)
    try:
        connection.send_messages([email])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Result(False, permanent=all(code >= 500 for code in codes), answer=f"收件人被拒绝：{codes}")
    except smtplib.SMTPResponseException as exc:
        return Result(False, permanent=exc.smtp_code >= 500, answer=f"SMTP {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:
        return Result(False, answer=f"无法连接邮件服务器：{type(exc).__name__}")
    return Result(True, answer="已投递到邮件服务器")
