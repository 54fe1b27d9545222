"""Accounts: login identity, password age, API tokens, the three administrators (三员, R7.2), policy."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A login account. The person behind it (name, posts) lives in org.Person."""

    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    otp_required = models.BooleanField("强制双因素认证", default=False,
                                       help_text="本账号登录必须使用动态口令（另可按角色或全平台强制）")
    otp_exempt = models.BooleanField("免双因素认证", default=False,
                                     help_text="仅用于演示账号")
    cert_subject = models.CharField("证书主题", max_length=400, blank=True, db_index=True,
                                    help_text="USB Key 证书主题（DN），由反向代理校验后传入")

    class Meta:
        verbose_name = verbose_name_plural = "账号"

    def __str__(self) -> str:
        person = getattr(self, "person", None)
        return f"{person.name}（{self.username}）" if person else self.username


class AdminRole(models.TextChoices):
    """三员分立: three platform administrator roles (R7.2)."""

    SYSTEM = "sysadmin", "系统管理员"
    SECURITY = "secadmin", "安全保密管理员"
    AUDITOR = "auditor", "安全审计员"


class AdminRoleGrant(models.Model):
    """A platform administrator role held by an account. The auditor role excludes the other two."""

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
