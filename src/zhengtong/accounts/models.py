"""Accounts: login identity, password age, API tokens, the three administrators (三员, R7.2), policy."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models

from zhengtong.core.errors import Conflict, Forbidden

SUPERUSER_DISABLED_MESSAGE = ("超级用户已停用（三员分立，R7.2）：请用 `manage.py create_admin --role "
                              "sysadmin|secadmin|auditor` 创建管理员账号")
ROLE_CONFLICT_MESSAGE = "安全审计员角色不能与系统管理员或安全保密管理员角色由同一账号兼任（三员分立）"


class SuperuserDisabled(Forbidden):
    """Django's superuser bypasses every permission check, so it exists only in development (R7.2)."""

    def __init__(self):
        super().__init__("accounts.superuser_disabled", SUPERUSER_DISABLED_MESSAGE)


class AccountManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        if not settings.ALLOW_SUPERUSER:
            from django.core.management.base import CommandError

            # `createsuperuser` shows a CommandError as a plain message instead of a traceback
            raise CommandError(SUPERUSER_DISABLED_MESSAGE)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A login account. The person behind it (name, posts) lives in org.Person.

    Outside development (settings.ALLOW_SUPERUSER false) no account can be saved as superuser.
    """

    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    otp_required = models.BooleanField("强制双因素认证", default=False,
                                       help_text="本账号登录必须使用动态口令（另可按角色或全平台强制）")
    otp_exempt = models.BooleanField("免双因素认证", default=False,
                                     help_text="仅用于演示账号")
    cert_subject = models.CharField("证书主题", max_length=400, blank=True, db_index=True,
                                    help_text="USB Key 证书主题（DN），由反向代理校验后传入")

    objects = AccountManager()

    class Meta:
        verbose_name = verbose_name_plural = "账号"

    def __str__(self) -> str:
        person = getattr(self, "person", None)
        return f"{person.name}（{self.username}）" if person else self.username

    def save(self, *args, **kwargs):
        if self.is_superuser and not settings.ALLOW_SUPERUSER:
            raise SuperuserDisabled()
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        person = getattr(self, "person", None)
        if person is not None:
            return person.name
        return self.get_full_name() or self.username


class AdminRole(models.TextChoices):
    """三员分立: three platform administrator roles (R7.2)."""

    SYSTEM = "sysadmin", "系统管理员"
    SECURITY = "secadmin", "安全保密管理员"
    AUDITOR = "auditor", "安全审计员"


def roles_conflict(a: str, b: str) -> bool:
    """The auditor role can never be held together with either other role (R7.2)."""
    return (a == AdminRole.AUDITOR) != (b == AdminRole.AUDITOR)


class AdminRoleGrant(models.Model):
    """A platform administrator role held by an account. The auditor role excludes the other two.

    Enforced three times: in accounts.services (a clear message), in `clean`/`save` here, and by a
    database trigger (accounts.db_triggers) that also stops bulk inserts and raw SQL.
    """

    user = models.ForeignKey(User, verbose_name="账号", on_delete=models.CASCADE, related_name="admin_roles")
    role = models.CharField("角色", max_length=20, choices=AdminRole.choices)
    granted_by = models.ForeignKey(User, verbose_name="授权人", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "三员角色"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="admin_role_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.get_role_display()}"

    def save(self, *args, **kwargs):
        if self.conflicting_roles():
            raise Conflict("accounts.role_conflict", ROLE_CONFLICT_MESSAGE)
        super().save(*args, **kwargs)

    def clean(self):
        if self.user_id and self.conflicting_roles():
            raise ValidationError({"role": ROLE_CONFLICT_MESSAGE}, code="role_conflict")

    def conflicting_roles(self) -> list[str]:
        others = AdminRoleGrant.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        return [r for r in others.values_list("role", flat=True) if roles_conflict(r, self.role)]


class SecurityPolicy(models.Model):
    """The platform's security policy, kept by the 安全保密管理员. One row (pk=1)."""

    otp_required_for_all = models.BooleanField("全平台强制双因素认证", default=False)
    otp_required_admin_roles = models.BooleanField("三员账号强制双因素认证", default=True)
    otp_required_duties = models.CharField("按职责强制双因素认证", max_length=300, blank=True,
                                           help_text="职责代码，逗号分隔，如 principal,deputy")
    password_max_age_days = models.PositiveIntegerField("密码有效期（天）", null=True, blank=True,
                                                        help_text="留空则用配置 PASSWORD_MAX_AGE_DAYS；0 为不过期")
    idle_timeout_minutes = models.PositiveIntegerField("空闲超时（分钟）", null=True, blank=True,
                                                       help_text="留空则用配置 IDLE_TIMEOUT_MINUTES")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "安全策略"

    def __str__(self) -> str:
        return "安全策略"

    @classmethod
    def current(cls) -> SecurityPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 digest is stored."""

    user = models.ForeignKey(User, verbose_name="账号", on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip = models.CharField(max_length=45, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "接口令牌"

    def __str__(self) -> str:
        return f"令牌#{self.pk}（{self.user_id}）"
