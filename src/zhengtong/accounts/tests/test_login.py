"""R7.1 login on the web: generic failure, lockout after 5 failures for 5 minutes, idle timeout,
logout, client-certificate (USB key) login; each event in the audit trail."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import override_settings

from zhengtong.accounts import services
from zhengtong.accounts.lockout import LOCKED_MESSAGE
from zhengtong.accounts.models import SecurityPolicy
from zhengtong.accounts.tests.conftest import post_login
from zhengtong.accounts.tests.factories import PASSWORD, UserFactory
from zhengtong.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def error_of(response) -> str:
    found = re.search(r'data-testid="login-error">([^<]*)<', response.content.decode())
    return found.group(1) if found else ""


def test_login_page_has_chinese_labels(client):
    body = client.get("/accounts/login/").content.decode()
    assert "用户名" in body and "密码" in body and "登录" in body
    assert "使用 USB Key 证书登录" not in body  # certificate login is off unless configured


def test_login_success_lands_on_the_workspace_and_is_audited(client):
    user = UserFactory()
    response = post_login(client, user.username)
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200
    rec = AuditRecord.objects.get(action="auth.login")
    assert rec.actor_id == user.pk and rec.category == "security" and rec.detail["method"] == "password"


def test_login_follows_a_safe_next_only(client):
    user = UserFactory()
    response = client.post("/accounts/login/?next=/accounts/profile/",
                           {"username": user.username, "password": PASSWORD, "next": "/accounts/profile/"})
    assert response.url == "/accounts/profile/"
    client.logout()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD,
                                                "next": "https://evil.example/"})
    assert response.url == "/"


def test_r7_1_failure_message_does_not_reveal_whether_the_account_exists(client):
    user = UserFactory()
    wrong_password = post_login(client, user.username, "Wrong#Pass1")
    no_account = post_login(client, "nobody-here", "Wrong#Pass1")
    assert error_of(wrong_password) == error_of(no_account) == "用户名或密码错误"
    assert wrong_password.status_code == no_account.status_code == 200
    failures = AuditRecord.objects.filter(action="auth.login_failed", outcome="failure")
    assert sorted(failures.values_list("actor_username", flat=True)) == sorted([user.username, "nobody-here"])


def test_r7_1_lockout_after_5_failures_for_5_minutes_same_message_for_unknown_accounts(client):
    user = UserFactory()
    answers = {}
    for username in (user.username, "ghost.user"):
        responses = [post_login(client, username, "Wrong#Pass1") for _ in range(5)]
        assert [error_of(r) for r in responses[:4]] == ["用户名或密码错误"] * 4
        answers[username] = (responses[4].status_code, error_of(responses[4]))
    assert answers[user.username] == answers["ghost.user"] == (403, LOCKED_MESSAGE)
    # locked: even the right password is refused, with the same words
    locked = post_login(client, user.username)
    assert error_of(locked) == LOCKED_MESSAGE and "_auth_user_id" not in client.session
    assert AuditRecord.objects.filter(action="auth.locked_out", actor_username=user.username).count() == 2
    assert AuditRecord.objects.filter(action="auth.locked_out", actor_username="ghost.user").exists()
    # 4 minutes later: still locked
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=4))
    assert error_of(post_login(client, user.username)) == LOCKED_MESSAGE
    # 5 minutes after the last failure: the lock is gone
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=5, seconds=1))
    response = post_login(client, user.username)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_r7_1_successful_login_resets_the_failure_count(client):
    user = UserFactory()
    for _ in range(4):
        post_login(client, user.username, "Wrong#Pass1")
    post_login(client, user.username)
    client.post("/accounts/logout/")
    for _ in range(4):
        assert error_of(post_login(client, user.username, "Wrong#Pass1")) == "用户名或密码错误"


def test_r7_1_failed_logins_are_throttled_per_address(client):
    with override_settings(LOGIN_FAILURES_PER_IP_PER_MINUTE=3):
        for n in range(3):
            post_login(client, f"spray{n}", "Wrong#Pass1")
        refused = post_login(client, "spray9", "Wrong#Pass1")
        assert refused.status_code == 429 and error_of(refused) == services.RATE_LIMITED_MESSAGE
        other_address = post_login(client, "spray9", "Wrong#Pass1", REMOTE_ADDR="10.1.2.3")
        assert other_address.status_code == 200
    assert AuditRecord.objects.filter(action="auth.rate_limited").exists()


def test_r7_1_idle_session_ends_after_the_timeout(client):
    user = UserFactory()
    post_login(client, user.username)
    session = client.session
    session[services.SESSION_LAST_SEEN] = time.time() - 29 * 60
    session.save()
    assert client.get("/").status_code == 200  # 29 minutes: still in (and the clock restarts)
    session = client.session
    session[services.SESSION_LAST_SEEN] = time.time() - 31 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/accounts/login/?reason=idle"
    assert "_auth_user_id" not in client.session
    page = client.get(response.url).content.decode()
    assert "您已长时间未操作" in page
    assert AuditRecord.objects.filter(action="auth.idle_timeout", actor_id=user.pk).exists()


def test_r7_1_idle_timeout_follows_the_policy_and_htmx_gets_a_client_redirect(client):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"idle_timeout_minutes": 5})
    user = UserFactory()
    post_login(client, user.username)
    session = client.session
    session[services.SESSION_LAST_SEEN] = time.time() - 6 * 60
    session.save()
    response = client.get("/", HTTP_HX_REQUEST="true")
    assert response.headers["HX-Redirect"] == "/accounts/login/?reason=idle"


def test_idle_timeout_does_not_touch_the_api(client):
    user = UserFactory()
    post_login(client, user.username)
    session = client.session
    session[services.SESSION_LAST_SEEN] = time.time() - 31 * 60
    session.save()
    assert client.get("/api/v1/me").status_code == 200


def test_logout_is_audited(client):
    user = UserFactory()
    post_login(client, user.username)
    response = client.post("/accounts/logout/")
    assert response.url == "/accounts/login/?reason=logout"
    assert AuditRecord.objects.filter(action="auth.logout", actor_id=user.pk).exists()
    assert client.get("/").status_code == 302


CERT_SETTINGS = {"CLIENT_CERT_HEADER": "HTTP_X_SSL_CLIENT_S_DN", "CLIENT_CERT_VERIFY_HEADER": "HTTP_X_SSL_CLIENT_VERIFY",
                 "TRUSTED_PROXY_IPS": ["127.0.0.1"]}
SUBJECT = "CN=zhangsan,OU=Shifan Government,O=Shifan,C=CN"


@override_settings(**CERT_SETTINGS)
def test_r7_1_usb_key_certificate_login_from_the_trusted_proxy(client):
    user = UserFactory(cert_subject=SUBJECT)
    assert "使用 USB Key 证书登录" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/login/cert/", HTTP_X_SSL_CLIENT_S_DN=SUBJECT, HTTP_X_SSL_CLIENT_VERIFY="SUCCESS")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    rec = AuditRecord.objects.get(action="auth.login")
    assert rec.detail["method"] == "certificate" and rec.detail["second_factor"] == "certificate"


@override_settings(**CERT_SETTINGS)
@pytest.mark.parametrize(("headers", "remote"), [
    ({"HTTP_X_SSL_CLIENT_S_DN": SUBJECT, "HTTP_X_SSL_CLIENT_VERIFY": "FAILED:unable to verify"}, "127.0.0.1"),
    ({"HTTP_X_SSL_CLIENT_S_DN": SUBJECT, "HTTP_X_SSL_CLIENT_VERIFY": "SUCCESS"}, "10.9.9.9"),  # not the proxy
    ({"HTTP_X_SSL_CLIENT_S_DN": "CN=someone else", "HTTP_X_SSL_CLIENT_VERIFY": "SUCCESS"}, "127.0.0.1"),
])
def test_r7_1_certificate_login_refused_without_a_verified_known_certificate(client, headers, remote):
    UserFactory(cert_subject=SUBJECT)
    response = client.post("/accounts/login/cert/", REMOTE_ADDR=remote, **headers)
    assert response.status_code == 403 and "_auth_user_id" not in client.session
    assert AuditRecord.objects.filter(action="auth.cert_login_failed", outcome="failure").exists()
