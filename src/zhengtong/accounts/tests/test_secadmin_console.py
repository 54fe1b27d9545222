"""R7.2 the 安全保密管理员 console: only secadmins open it (superuser never bypasses), every change audited."""
from __future__ import annotations

import pytest
from django.test import override_settings

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, SecurityPolicy, User
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DutyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secadmin_client(client):
    secadmin = AdminRoleGrantFactory(role=AdminRole.SECURITY, user=UserFactory(username="sec1", otp_exempt=True)).user
    client.force_login(secadmin)
    client.secadmin = secadmin
    return client


@pytest.mark.parametrize("role", [None, AdminRole.SYSTEM, AdminRole.AUDITOR])
def test_r7_2_others_get_403_and_it_is_audited(client, role):
    user = AdminRoleGrantFactory(role=role).user if role else UserFactory()
    client.force_login(user)
    response = client.get("/console/secadmin/")
    assert response.status_code == 403 and "仅限安全保密管理员" in response.content.decode()
    assert client.post("/console/secadmin/policy/", {"otp_required_for_all": "on"}).status_code == 403
    assert not SecurityPolicy.objects.filter(otp_required_for_all=True).exists()
    assert AuditRecord.objects.filter(action="console.denied", actor_id=user.pk, outcome="denied").count() == 2


def test_r7_2_superuser_never_bypasses(client):
    with override_settings(ALLOW_SUPERUSER=True):
        root = User.objects.create_superuser("root", "r@example.org", "Root#Pass2026")
        client.force_login(root)
        assert client.get("/console/secadmin/").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/console/secadmin/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_console_page_and_policy_form(secadmin_client):
    DutyFactory(code=Duty.PRINCIPAL)
    DutyFactory(code=Duty.DEPUTY)
    page = secadmin_client.get("/console/secadmin/").content.decode()
    for text in ("安全策略", "三员角色", "账号安全设置", "全平台强制双因素认证", "主要负责人"):
        assert text in page
    response = secadmin_client.post("/console/secadmin/policy/", {
        "otp_required_admin_roles": "on", "otp_required_duties": ["principal", "deputy"],
        "password_max_age_days": "60", "idle_timeout_minutes": "20"})
    assert response.status_code == 302
    policy = SecurityPolicy.current()
    assert (policy.otp_required_for_all, policy.otp_required_admin_roles, policy.otp_required_duties,
            policy.password_max_age_days, policy.idle_timeout_minutes) == (False, True, "principal,deputy", 60, 20)
    rec = AuditRecord.objects.get(action="accounts.policy_updated")
    assert rec.actor_id == secadmin_client.secadmin.pk and rec.changes["idle_timeout_minutes"] == [None, 20]
    bad = secadmin_client.post("/console/secadmin/policy/", {"idle_timeout_minutes": "0"})
    assert bad.status_code == 400 and SecurityPolicy.current().idle_timeout_minutes == 20


def test_grant_and_revoke_with_a_clear_message_on_auditor_conflict(secadmin_client):
    target = UserFactory(username="zhangsan")
    response = secadmin_client.post("/console/secadmin/roles/grant/", {"username": "zhangsan", "role": "auditor"})
    assert response.status_code == 302
    assert AdminRoleGrant.objects.filter(user=target, role="auditor").exists()
    refused = secadmin_client.post("/console/secadmin/roles/grant/", {"username": "zhangsan", "role": "sysadmin"})
    assert refused.status_code == 400
    assert "安全审计员角色不能与系统管理员或安全保密管理员角色由同一账号兼任" in refused.content.decode()
    unknown = secadmin_client.post("/console/secadmin/roles/grant/", {"username": "nobody", "role": "sysadmin"})
    assert "账号不存在" in unknown.content.decode()
    grant = AdminRoleGrant.objects.get(user=target)
    assert secadmin_client.post(f"/console/secadmin/roles/{grant.pk}/revoke/").status_code == 302
    assert not AdminRoleGrant.objects.filter(user=target).exists()
    own = AdminRoleGrant.objects.get(user=secadmin_client.secadmin)
    secadmin_client.post(f"/console/secadmin/roles/{own.pk}/revoke/")
    assert AdminRoleGrant.objects.filter(pk=own.pk).exists()  # never one's own


def test_user_search_and_toggles(secadmin_client):
    person = PersonFactory(name="张三", user=UserFactory(username="zhang.san"))
    page = secadmin_client.get("/console/secadmin/", {"q": "zs"}).content.decode()
    assert "zhang.san" in page and "张三" in page
    user = person.user
    response = secadmin_client.post(f"/console/secadmin/users/{user.pk}/security/",
                                    {"field": "otp_required", "value": "on", "q": "zs"})
    assert response.status_code == 302 and response.url == "/console/secadmin/?q=zs#users"
    secadmin_client.post(f"/console/secadmin/users/{user.pk}/security/", {"field": "must_change_password", "value": "on"})
    user.refresh_from_db()
    assert user.otp_required and user.must_change_password
    assert "zhang.san" in secadmin_client.get("/console/secadmin/").content.decode()  # forced accounts listed
    secadmin_client.post(f"/console/secadmin/users/{user.pk}/security/", {"field": "otp_required", "value": "off"})
    user.refresh_from_db()
    assert not user.otp_required
    assert AuditRecord.objects.filter(action="accounts.user_security_updated").count() == 3
    secadmin_client.post(f"/console/secadmin/users/{user.pk}/security/", {"field": "is_superuser", "value": "on"})
    user.refresh_from_db()
    assert not user.is_superuser
