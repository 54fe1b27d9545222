"""The public API contract for authentication (issue 2 §7): /api/v1/auth/token, /revoke, /me."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from zhengtong.accounts.models import ApiToken
from zhengtong.accounts.tests.conftest import current_code, enrolled_device
from zhengtong.accounts.tests.factories import PASSWORD, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.crypto import token_digest
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DepartmentFactory, DutyFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def token(client, username, password=PASSWORD, **extra):
    return client.post("/api/v1/auth/token", {"username": username, "password": password, **extra},
                       content_type="application/json")


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_200_shape_digest_only_and_bearer_works_on_me(client):
    identity = IdentityFactory(title="科员", department=None)
    dept = DepartmentFactory(unit=identity.unit, name="秘书科")
    second = IdentityFactory(person=identity.person, unit=identity.unit, department=dept, is_main=False,
                             duty=DutyFactory(code=Duty.DOC_CLERK), title="收发员")
    user = identity.person.user
    response = token(client, user.username)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    stored = ApiToken.objects.get(user=user)
    assert stored.digest == token_digest(body["token"]) and body["token"] not in stored.digest
    assert timedelta(hours=11) < stored.expires_at - timezone.now() <= timedelta(hours=12)
    me = client.get("/api/v1/me", **bearer(body["token"]))
    assert me.status_code == 200
    data = me.json()
    assert data["person"] == {"id": identity.person.pk, "name": identity.person.name, "username": user.username}
    by_id = {i["id"]: i for i in data["identities"]}
    assert by_id[identity.pk] == {"id": identity.pk, "unit": {"id": identity.unit.pk, "name": identity.unit.name},
                                  "department": None, "duty": {"code": identity.duty.code, "name": identity.duty.name},
                                  "title": "科员", "main": True}
    assert by_id[second.pk]["department"] == {"id": dept.pk, "name": "秘书科"} and by_id[second.pk]["main"] is False
    assert AuditRecord.objects.filter(action="auth.token_issued", actor_id=user.pk).exists()


def test_token_invalid_credentials_same_for_unknown_accounts(client):
    user = UserFactory()
    wrong = token(client, user.username, "Wrong#Pass1")
    unknown = token(client, "nobody", "Wrong#Pass1")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "auth.invalid_credentials", "message": "用户名或密码错误"}


def test_r7_1_token_locked_after_5_failures(client):
    user = UserFactory()
    answers = [token(client, user.username, "Wrong#Pass1").json()["code"] for _ in range(5)]
    assert answers == ["auth.invalid_credentials"] * 4 + ["auth.locked"]
    locked = token(client, user.username)
    assert locked.status_code == 401 and locked.json()["code"] == "auth.locked"
    assert locked.json()["message"] == "登录失败次数过多，请 5 分钟后再试"
    assert token(client, "ghost", "x").json()["code"] == "auth.invalid_credentials"


def test_token_otp_required_then_accepted_with_the_code(client):
    user = UserFactory()
    device = enrolled_device(user)
    missing = token(client, user.username)
    assert missing.status_code == 401 and missing.json()["code"] == "auth.otp_required"
    bad_code = "000000" if current_code(device) != "000000" else "111111"
    wrong = token(client, user.username, otp=bad_code)
    assert wrong.status_code == 401 and wrong.json()["code"] == "auth.invalid_credentials"
    ok = token(client, user.username, otp=current_code(device))
    assert ok.status_code == 200
    assert AuditRecord.objects.get(action="auth.token_issued").detail["second_factor"] == "totp"


def test_token_otp_required_by_policy_but_not_enrolled(client):
    user = UserFactory(otp_required=True)
    response = token(client, user.username)
    assert response.status_code == 401 and response.json()["code"] == "auth.otp_required"
    assert "网页端" in response.json()["message"]


@override_settings(PASSWORD_MAX_AGE_DAYS=90)
def test_token_refused_for_an_expired_password(client):
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=91))
    response = token(client, user.username)
    assert response.status_code == 401 and response.json()["code"] == "auth.password_expired"
    assert not ApiToken.objects.exists()


def test_revoked_or_expired_token_is_401_auth_required(client):
    user = UserFactory()
    raw = token(client, user.username).json()["token"]
    assert client.post("/api/v1/auth/revoke", **bearer(raw)).json() == {"revoked": True}
    gone = client.get("/api/v1/me", **bearer(raw))
    assert gone.status_code == 401 and gone.json()["code"] == "auth.required"
    assert AuditRecord.objects.filter(action="auth.token_revoked", actor_id=user.pk).exists()
    raw = token(client, user.username).json()["token"]
    ApiToken.objects.filter(digest=token_digest(raw)).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401
    assert client.get("/api/v1/me").json()["code"] == "auth.required"
    assert client.get("/api/v1/me", **bearer("not-a-token")).status_code == 401


def test_r7_1_token_endpoint_rate_limited_per_address(client):
    with override_settings(API_TOKEN_RATE_PER_MINUTE=3):
        for n in range(3):
            assert token(client, f"spray{n}", "x").status_code == 401
        limited = token(client, "spray9", "x")
        assert limited.status_code == 429
        assert limited.json() == {"code": "auth.rate_limited", "message": "请求过于频繁，请稍后再试"}
        # another client behind the trusted proxy has its own allowance
        assert token(client, "spray9", "x", ).status_code == 429
        other = client.post("/api/v1/auth/token", {"username": "spray9", "password": "x"},
                            content_type="application/json", HTTP_X_FORWARDED_FOR="10.0.0.7")
        assert other.status_code == 401
    assert AuditRecord.objects.filter(action="auth.rate_limited").exists()


def test_openapi_lists_the_auth_contract(client):
    schema = client.get("/api/v1/openapi.json").json()
    token_op = schema["paths"]["/api/v1/auth/token"]["post"]
    assert {"200", "401", "429"} <= set(token_op["responses"])
    assert "/api/v1/me" in schema["paths"] and "/api/v1/auth/revoke" in schema["paths"]
    components = schema["components"]["schemas"]
    assert set(components["TokenIn"]["properties"]) == {"username", "password", "otp"}
    assert {"person", "identities"} <= set(components["MeOut"]["properties"])
