"""R7.2 三员分立: who grants roles, the auditor's exclusivity (service, model and database), bootstrap."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from zhengtong.accounts import db_triggers, services
from zhengtong.accounts.models import AdminRole, AdminRoleGrant, SecurityPolicy, User
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DutyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secadmin():
    return AdminRoleGrantFactory(role=AdminRole.SECURITY).user


def test_r7_2_only_the_secadmin_grants_roles_and_a_refusal_is_audited(secadmin):
    sysadmin = AdminRoleGrantFactory(role=AdminRole.SYSTEM).user
    target = UserFactory()
    with pytest.raises(Forbidden):
        services.grant_admin_role(sysadmin, target, AdminRole.AUDITOR)
    assert AuditRecord.objects.filter(action="permission.denied", actor_id=sysadmin.pk).exists()
    grant = services.grant_admin_role(secadmin, target, AdminRole.AUDITOR)
    assert grant.granted_by == secadmin
    rec = AuditRecord.objects.get(action="accounts.role_granted")
    assert rec.category == "security" and rec.actor_id == secadmin.pk and rec.object_id == str(target.pk)
    assert rec.changes == {"admin_roles": [[], ["auditor"]]}


@pytest.mark.parametrize(("held", "wanted"), [
    (AdminRole.AUDITOR, AdminRole.SYSTEM), (AdminRole.AUDITOR, AdminRole.SECURITY),
    (AdminRole.SYSTEM, AdminRole.AUDITOR), (AdminRole.SECURITY, AdminRole.AUDITOR),
])
def test_r7_2_auditor_never_combined_service_level(secadmin, held, wanted):
    target = AdminRoleGrantFactory(role=held).user
    with pytest.raises(Conflict) as refused:
        services.grant_admin_role(secadmin, target, wanted)
    assert refused.value.code == "accounts.role_conflict"
    assert "安全审计员" in refused.value.message
    assert list(AdminRoleGrant.objects.filter(user=target).values_list("role", flat=True)) == [held]
    assert AuditRecord.objects.filter(action="accounts.role_grant_refused", outcome="denied").exists()


def test_r7_2_sysadmin_and_secadmin_may_be_combined(secadmin):
    target = AdminRoleGrantFactory(role=AdminRole.SYSTEM).user
    services.grant_admin_role(secadmin, target, AdminRole.SECURITY)
    assert set(AdminRoleGrant.objects.filter(user=target).values_list("role", flat=True)) == {"sysadmin", "secadmin"}


def test_r7_2_auditor_never_combined_model_level():
    auditor = AdminRoleGrantFactory(role=AdminRole.AUDITOR).user
    with pytest.raises(ServiceError) as refused:
        AdminRoleGrant(user=auditor, role=AdminRole.SYSTEM).save()
    assert refused.value.code == "accounts.role_conflict"


def test_r7_2_auditor_never_combined_database_level_insert_and_update():
    assert db_triggers.installed(connection)
    auditor = AdminRoleGrantFactory(role=AdminRole.AUDITOR).user
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminRoleGrant.objects.bulk_create([AdminRoleGrant(user=auditor, role=AdminRole.SECURITY)])
    other = AdminRoleGrantFactory(role=AdminRole.SYSTEM)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminRoleGrant.objects.filter(pk=other.pk).update(user=auditor)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminRoleGrant.objects.filter(user=auditor).update(role=AdminRole.SYSTEM, user=other.user)
    # the same user holding sysadmin + secadmin is fine for the trigger too
    AdminRoleGrant.objects.bulk_create([AdminRoleGrant(user=other.user, role=AdminRole.SECURITY)])
    assert AdminRoleGrant.objects.filter(user=auditor).count() == 1


def test_r7_2_service_turns_a_database_refusal_into_role_conflict(secadmin, monkeypatch):
    """A grant that races another one is stopped by the trigger; the caller still gets role_conflict."""
    target = UserFactory()
    monkeypatch.setattr(AdminRoleGrant, "conflicting_roles", lambda self: [])
    real_filter = AdminRoleGrant.objects.filter

    def stale_filter(*args, **kwargs):  # the service's own read sees no role yet: the other grant is in flight
        if kwargs == {"user": target}:
            AdminRoleGrant.objects.bulk_create([AdminRoleGrant(user=target, role=AdminRole.AUDITOR)])
            kwargs = {"user": target, "role": "none"}
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(AdminRoleGrant.objects, "filter", stale_filter)
    with pytest.raises(Conflict) as refused:
        services.grant_admin_role(secadmin, target, AdminRole.SYSTEM)
    assert refused.value.code == "accounts.role_conflict"
    assert list(real_filter(user=target).values_list("role", flat=True)) == ["auditor"]


def test_r7_2_no_self_grant_so_one_secadmin_always_remains(secadmin):
    with pytest.raises(Forbidden) as refused:
        services.grant_admin_role(secadmin, secadmin, AdminRole.SYSTEM)
    assert refused.value.code == "accounts.self_grant"
    other = AdminRoleGrantFactory(role=AdminRole.SECURITY).user
    services.revoke_admin_role(other, secadmin, AdminRole.SECURITY)
    rec = AuditRecord.objects.get(action="accounts.role_revoked")
    assert rec.actor_id == other.pk and rec.changes == {"admin_roles": [["secadmin"], []]}
    with pytest.raises(Forbidden) as refused:  # the last one cannot remove themselves
        services.revoke_admin_role(other, other, AdminRole.SECURITY)
    assert refused.value.code == "accounts.self_grant"
    assert AdminRoleGrant.objects.filter(role=AdminRole.SECURITY).count() == 1
    with pytest.raises(NotFound):
        services.revoke_admin_role(other, secadmin, AdminRole.SECURITY)


def test_r7_2_create_admin_bootstraps_each_role_once(capsys):
    call_command("create_admin", "--role", "secadmin", "--name", "何文涛")
    out = capsys.readouterr().out
    user = User.objects.get(username="secadmin")
    assert "初始密码" in out and user.must_change_password and user.last_name == "何文涛"
    generated = out.split("：")[-1].strip()
    assert user.check_password(generated)
    assert AuditRecord.objects.get(action="accounts.admin_bootstrapped").channel == "command"
    with pytest.raises(CommandError, match="已有安全保密管理员"):
        call_command("create_admin", "--role", "secadmin", "--username", "secadmin2")


def test_r7_2_create_admin_takes_a_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("ZT_FIRST_PASSWORD", "Qiuyue#2026")
    call_command("create_admin", "--role", "auditor", "--username", "shenji", "--password-env", "ZT_FIRST_PASSWORD")
    user = User.objects.get(username="shenji")
    assert user.check_password("Qiuyue#2026") and not user.must_change_password
    assert list(user.admin_roles.values_list("role", flat=True)) == ["auditor"]
    monkeypatch.setenv("ZT_FIRST_PASSWORD", "weak")
    with pytest.raises(CommandError, match="至少 8 位"):
        call_command("create_admin", "--role", "sysadmin", "--password-env", "ZT_FIRST_PASSWORD")


def test_r7_1_update_security_policy_is_secadmin_only_and_audited_with_a_diff(secadmin):
    DutyFactory(code=Duty.PRINCIPAL)
    with pytest.raises(Forbidden):
        services.update_security_policy(UserFactory(), otp_required_for_all=True)
    policy = services.update_security_policy(secadmin, otp_required_duties="principal， principal",
                                             idle_timeout_minutes=15, password_max_age_days=60)
    assert policy.otp_required_duties == "principal" and policy.idle_timeout_minutes == 15
    rec = AuditRecord.objects.get(action="accounts.policy_updated")
    assert rec.changes["idle_timeout_minutes"] == [None, 15]
    assert rec.changes["password_max_age_days"] == [None, 60]
    with pytest.raises(ServiceError) as refused:
        services.update_security_policy(secadmin, otp_required_duties="nosuchduty")
    assert refused.value.code == "accounts.policy_invalid"
    with pytest.raises(ServiceError):
        services.update_security_policy(secadmin, idle_timeout_minutes=0)
    assert SecurityPolicy.current().idle_timeout_minutes == 15


def test_set_user_security_toggles_are_audited(secadmin):
    target = UserFactory()
    services.set_user_security(secadmin, target, otp_required=True, must_change_password=True)
    target.refresh_from_db()
    assert target.otp_required and target.must_change_password
    rec = AuditRecord.objects.get(action="accounts.user_security_updated")
    assert rec.changes == {"must_change_password": [False, True], "otp_required": [False, True]}
    with pytest.raises(Forbidden):
        services.set_user_security(target, secadmin, otp_required=True)
