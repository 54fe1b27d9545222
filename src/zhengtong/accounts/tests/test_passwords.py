"""R7.1 passwords: complexity, change, expiry with forced change; superusers disabled (R7.2)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from zhengtong.accounts import services
from zhengtong.accounts.models import SecurityPolicy, SuperuserDisabled, User
from zhengtong.accounts.passwords import ComplexityValidator
from zhengtong.accounts.tests.conftest import post_login
from zhengtong.accounts.tests.factories import PASSWORD, UserFactory
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import ServiceError

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Xin#Mima2027"


@pytest.mark.parametrize("password", ["Ab1!xyz", "abcdefgh", "abcd1234", "ABCDEFG!", "abcdEFGH"])
def test_r7_1_complexity_refuses_short_or_two_class_passwords(password):
    with pytest.raises(ValidationError) as refused:
        ComplexityValidator().validate(password)
    assert "至少 8 位" in refused.value.messages[0]


@pytest.mark.parametrize("password", ["abcd123!", "Abcd1234", "ABCD123!", "Abcdefg!", "政通Abc12345"])
def test_r7_1_complexity_accepts_eight_characters_of_three_classes(password):
    ComplexityValidator().validate(password)


def test_r7_1_complexity_is_among_the_configured_validators():
    with pytest.raises(ValidationError):
        validate_password("abcdefgh1")


def test_r7_1_change_password_records_time_clears_flag_and_audits():
    user = UserFactory(must_change_password=True, password_changed_at=timezone.now() - timedelta(days=200))
    services.change_password(user, old_password=PASSWORD, new_password=NEW_PASSWORD)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.must_change_password
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)
    rec = AuditRecord.objects.get(action="accounts.password_changed")
    assert rec.category == "security" and rec.actor_id == user.pk and rec.detail["was_forced"] is True


@pytest.mark.parametrize(("old", "new", "code"), [
    ("wrong-Old1", NEW_PASSWORD, "accounts.wrong_password"),
    (PASSWORD, PASSWORD, "accounts.password_reused"),
    (PASSWORD, "simplepass", "accounts.password_invalid"),
])
def test_r7_1_change_password_refusals(old, new, code):
    user = UserFactory()
    with pytest.raises(ServiceError) as refused:
        services.change_password(user, old_password=old, new_password=new)
    assert refused.value.code == code
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@override_settings(PASSWORD_MAX_AGE_DAYS=90)
def test_r7_1_password_expiry_uses_policy_then_settings_and_zero_means_never():
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=100))
    assert services.password_expired(user)  # settings: 90 days
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"password_max_age_days": 120})
    assert not services.password_expired(user)  # the policy wins
    SecurityPolicy.objects.filter(pk=1).update(password_max_age_days=0)
    assert not services.password_expired(user)  # 0 = never
    SecurityPolicy.objects.filter(pk=1).update(password_max_age_days=None)
    with override_settings(PASSWORD_MAX_AGE_DAYS=0):
        assert not services.password_expired(user)


@override_settings(PASSWORD_MAX_AGE_DAYS=90)
def test_r7_1_expired_password_forces_the_change_page_before_anything_else(client):
    user = UserFactory(password_changed_at=timezone.now() - timedelta(days=91))
    response = post_login(client, user.username)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.url == "/accounts/password/"
    assert client.get("/accounts/profile/").url == "/accounts/password/"
    page = client.get("/accounts/password/")
    assert "您的密码已超过有效期" in page.content.decode()
    # a simple new password is refused on the page, with the reason
    refused = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": "simple12",
                                                   "new_password2": "simple12"})
    assert "至少 3 类" in refused.content.decode()
    done = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get("/").status_code == 200  # still logged in (session hash updated), no longer forced


def test_r7_1_must_change_password_flag_forces_the_change_page(client):
    user = UserFactory(must_change_password=True)
    post_login(client, user.username)
    assert client.get("/").url == "/accounts/password/"
    assert "管理员要求您修改密码" in client.get("/accounts/password/").content.decode()


def test_r7_2_superuser_cannot_be_saved_or_created_outside_development():
    with pytest.raises(SuperuserDisabled):
        UserFactory(is_superuser=True)
    user = UserFactory()
    user.is_superuser = True
    with pytest.raises(SuperuserDisabled):
        user.save()
    with pytest.raises(CommandError, match="超级用户已停用"):
        call_command("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.org")
    assert not User.objects.filter(username="root").exists()


def test_r7_2_a_superuser_left_in_the_database_cannot_log_in_and_it_is_audited(client):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(is_superuser=True)  # e.g. created under development settings
    response = post_login(client, user.username)
    assert response.status_code == 200
    assert services.INVALID_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditRecord.objects.filter(action="auth.superuser_refused", actor_id=user.pk, outcome="denied").exists()


def test_r7_2_a_superuser_session_is_ended(client):
    user = UserFactory()
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    response = client.get("/")
    assert response.status_code == 302 and "reason=superuser" in response.url
    assert "_auth_user_id" not in client.session


def test_r7_2_superusers_work_where_allowed():
    with override_settings(ALLOW_SUPERUSER=True):
        root = User.objects.create_superuser("root", "root@example.org", NEW_PASSWORD)
    assert root.is_superuser
