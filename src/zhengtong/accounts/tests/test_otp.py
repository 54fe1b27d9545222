"""R7.1 second factor: TOTP enrollment, login with a code, enforcement by policy, lockout on codes."""
from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengtong.accounts import services
from zhengtong.accounts.lockout import LOCKED_MESSAGE
from zhengtong.accounts.models import AdminRole, SecurityPolicy
from zhengtong.accounts.tests.conftest import current_code, enrolled_device, post_login
from zhengtong.accounts.tests.factories import AdminRoleGrantFactory, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DutyFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def policy(**fields) -> SecurityPolicy:
    obj, _ = SecurityPolicy.objects.update_or_create(pk=1, defaults=fields)
    return obj


def test_r7_1_totp_enrollment_gives_a_local_qr_and_confirms_with_a_code():
    user = UserFactory()
    enrollment = services.start_totp_enrollment(user)
    assert enrollment.uri.startswith("otpauth://totp/") and "secret=" in enrollment.uri
    assert enrollment.qr_svg.startswith("<svg") and enrollment.qr_data_uri.startswith("data:image/svg+xml;base64,")
    assert services.start_totp_enrollment(user).device == enrollment.device  # reloading keeps the secret
    assert services.confirmed_totp(user) is None
    with pytest.raises(ServiceError) as refused:
        services.confirm_totp_enrollment(user, "000000" if current_code(enrollment.device) != "000000" else "111111")
    assert refused.value.code == "accounts.otp_invalid"
    device = services.confirm_totp_enrollment(user, current_code(enrollment.device))
    assert device.confirmed and services.confirmed_totp(user) == device
    actions = list(AuditRecord.objects.filter(category="security").order_by("seq").values_list("action", flat=True))
    assert actions == ["accounts.otp_enrollment_started", "accounts.otp_enrollment_failed", "accounts.otp_enrolled"]


def test_r7_1_re_enrollment_replaces_the_old_device_and_removal_is_audited():
    user = UserFactory()
    first = enrolled_device(user)
    second = enrolled_device(user)
    assert list(TOTPDevice.objects.filter(user=user)) == [second] and first.pk != second.pk
    services.remove_totp(user)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditRecord.objects.filter(action="accounts.otp_removed", actor_id=user.pk).exists()
    with pytest.raises(ServiceError):
        services.remove_totp(user)


def test_r7_1_removal_is_refused_while_required():
    user = UserFactory(otp_required=True)
    enrolled_device(user)
    with pytest.raises(ServiceError) as refused:
        services.remove_totp(user)
    assert refused.value.code == "accounts.otp_required"


def test_r7_1_otp_required_for_each_policy_rule_and_demo_exemption():
    user = UserFactory()
    assert not services.otp_required_for(user)
    user.otp_required = True
    assert services.otp_required_for(user)
    user.otp_required = False
    policy(otp_required_for_all=True)
    assert services.otp_required_for(user)
    policy(otp_required_for_all=False, otp_required_admin_roles=True)
    admin = AdminRoleGrantFactory(role=AdminRole.AUDITOR).user
    assert services.otp_required_for(admin) and not services.otp_required_for(user)
    policy(otp_required_admin_roles=False)
    assert not services.otp_required_for(admin)
    leader = IdentityFactory(duty=DutyFactory(code=Duty.PRINCIPAL)).person.user
    clerk = IdentityFactory(duty=DutyFactory(code=Duty.CLERK)).person.user
    policy(otp_required_duties="principal,deputy")
    assert services.otp_required_for(leader) and not services.otp_required_for(clerk)
    leader.otp_exempt = True  # demo accounts: exemption wins over every rule
    policy(otp_required_for_all=True)
    assert not services.otp_required_for(leader)


def test_r7_1_login_with_totp_needs_the_code_before_any_session(client):
    user = UserFactory()
    device = enrolled_device(user)
    response = post_login(client, user.username)
    assert response.url == "/accounts/login/otp/"
    assert "_auth_user_id" not in client.session  # nothing is logged in after the password alone
    assert client.get("/").status_code == 302
    page = client.get("/accounts/login/otp/").content.decode()
    assert "动态口令" in page and "6 位数字" in page
    wrong = client.post("/accounts/login/otp/", {"token": "12345x"})
    assert "_auth_user_id" not in client.session and wrong.status_code == 200
    bad_code = "000000" if current_code(device) != "000000" else "111111"
    refused = client.post("/accounts/login/otp/", {"token": bad_code})
    assert services.OTP_INVALID_MESSAGE in refused.content.decode()
    done = client.post("/accounts/login/otp/", {"token": current_code(device)})
    assert done.status_code == 302 and done.url == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/").status_code == 200
    assert AuditRecord.objects.filter(action="auth.otp_failed", actor_id=user.pk).count() == 1
    login = AuditRecord.objects.get(action="auth.login")
    assert login.detail["second_factor"] == "totp"
    assert AuditRecord.objects.filter(action="auth.otp_verified").exists()


def test_r7_1_five_wrong_codes_lock_the_account(client):
    user = UserFactory()
    device = enrolled_device(user)
    bad_code = "000000" if current_code(device) != "000000" else "111111"
    post_login(client, user.username)
    responses = [client.post("/accounts/login/otp/", {"token": bad_code}) for _ in range(5)]
    assert responses[-1].status_code == 403 and LOCKED_MESSAGE in responses[-1].content.decode()
    # the password step is now locked as well, and a right code no longer helps
    assert LOCKED_MESSAGE in post_login(client, user.username).content.decode()
    assert AuditRecord.objects.filter(action="auth.locked_out", actor_id=user.pk).exists()


def test_r7_1_required_but_not_enrolled_forces_enrollment_first(client):
    user = UserFactory(otp_required=True, must_change_password=True)
    response = post_login(client, user.username)
    assert response.status_code == 302
    assert client.session[services.SESSION_ENROLL_REQUIRED] is True
    for path in ("/", "/accounts/profile/", "/accounts/password/"):
        assert client.get(path).url == "/accounts/otp/enroll/"  # enrollment before the password change
    page = client.get("/accounts/otp/enroll/")
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/otp/enroll/", {"token": current_code(device)})
    assert done.status_code == 302
    assert services.SESSION_ENROLL_REQUIRED not in client.session
    assert client.get("/").url == "/accounts/password/"  # then the password change


def test_r7_1_admin_roles_require_2fa_by_default_policy(client):
    admin = AdminRoleGrantFactory(role=AdminRole.SYSTEM).user
    post_login(client, admin.username)
    assert client.get("/").url == "/accounts/otp/enroll/"
    demo_admin = AdminRoleGrantFactory(role=AdminRole.AUDITOR, user=UserFactory(otp_exempt=True)).user
    client.post("/accounts/logout/")
    post_login(client, demo_admin.username)
    assert client.get("/").status_code == 200


def test_profile_shows_enrollment_and_removal(client):
    user = IdentityFactory().person.user
    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    assert "绑定动态口令" in page and "AB岗委托设置" in page and "修改密码" in page
    enrolled_device(user)
    page = client.get("/accounts/profile/").content.decode()
    assert "已绑定" in page and "解除绑定" in page
    client.post("/accounts/otp/remove/")
    assert services.confirmed_totp(user) is None
