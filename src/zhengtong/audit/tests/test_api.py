"""GET /api/v1/audit/records: the 安全审计员 only (R7.2), errors as {"code", "message"}."""
from __future__ import annotations

import pytest

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.tests.factories import PASSWORD, AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord

from .factories import AuditRecordFactory, make_chain

pytestmark = pytest.mark.django_db


def bearer(client, role) -> dict:
    user = UserFactory(otp_exempt=True)
    if role:
        AdminRoleGrantFactory(user=user, role=role)
    response = client.post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['token']}"}


def test_r7_2_auditor_lists_records_newest_first_with_a_cursor(client):
    headers = bearer(client, AdminRole.AUDITOR)
    make_chain(5, action="test.api")
    response = client.get("/api/v1/audit/records", {"action": "test.api", "limit": 3}, **headers)
    assert response.status_code == 200
    body = response.json()
    assert [r["seq"] for r in body["items"]] == [6, 5, 4] and body["next_before"] == 4
    first = body["items"][0]
    assert set(first) >= {"seq", "time", "actor_username", "action", "action_label", "outcome", "changes", "hash",
                          "prev_hash"}
    more = client.get("/api/v1/audit/records", {"action": "test.api", "before": 4}, **headers).json()
    assert [r["seq"] for r in more["items"]] == [3, 2] and more["next_before"] is None


def test_one_record_and_a_missing_one(client):
    headers = bearer(client, AdminRole.AUDITOR)
    rec = AuditRecordFactory(action="auth.login")
    body = client.get(f"/api/v1/audit/records/{rec.seq}", **headers).json()
    assert (body["seq"], body["action_label"], body["hash"]) == (rec.seq, "登录", rec.hash)
    response = client.get("/api/v1/audit/records/9999", **headers)
    assert response.status_code == 404 and response.json()["code"] == "audit.record_not_found"


@pytest.mark.parametrize("role", [None, AdminRole.SYSTEM, AdminRole.SECURITY])
def test_r7_2_everyone_else_gets_403_and_is_audited(client, role):
    headers = bearer(client, role)
    response = client.get("/api/v1/audit/records", **headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission.denied"
    assert AuditRecord.objects.filter(action="api.forbidden", outcome="denied").exists()


def test_unauthenticated_is_401(client):
    response = client.get("/api/v1/audit/records")
    assert response.status_code == 401 and response.json()["code"] == "auth.required"


def test_bad_filter_is_422(client):
    headers = bearer(client, AdminRole.AUDITOR)
    response = client.get("/api/v1/audit/records", {"outcome": "maybe"}, **headers)
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"


def test_openapi_lists_the_audit_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/audit/records" in paths and "/api/v1/audit/records/{seq}" in paths
