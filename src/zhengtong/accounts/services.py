"""Accounts and the security baseline (R7.1, R7.2): every change of an account's security state.

Login (web and API), the second factor, password changes, the three administrators' roles and the
security policy all pass through here, and every one of them leaves a security audit record
(`audit.services.security_event`), successful or not.

Action names written to the audit trail (docs/security.md lists them with their meaning):
auth.login, auth.login_failed, auth.locked_out, auth.superuser_refused, auth.otp_verified,
auth.otp_failed, auth.logout, auth.idle_timeout, auth.cert_login_failed, auth.token_issued,
auth.token_refused, auth.token_revoked, auth.rate_limited, accounts.password_changed,
accounts.password_change_failed, accounts.otp_enrollment_started, accounts.otp_enrollment_failed,
accounts.otp_enrolled, accounts.otp_removed, accounts.otp_reset, accounts.role_granted,
accounts.role_revoked, accounts.role_grant_refused, accounts.admin_bootstrapped,
accounts.policy_updated, accounts.user_security_updated.
"""
from __future__ import annotations

import base64
import io
import re
import secrets
import string
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.contrib.auth import authenticate, login, user_login_failed
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengtong.audit.services import diff, security_event, snapshot
from zhengtong.core.context import client_ip
from zhengtong.core.crypto import token_digest
from zhengtong.core.errors import Conflict, Forbidden, NotAuthenticated, NotFound, ServiceError

from . import throttle
from .lockout import LOCKED_MESSAGE
from .models import (
    ROLE_CONFLICT_MESSAGE,
    AdminRole,
    AdminRoleGrant,
    ApiToken,
    SecurityPolicy,
    User,
    roles_conflict,
)
from .permissions import admin_roles, require_admin_role, require_authenticated

INVALID_MESSAGE = "用户名或密码错误"  # the same words whether or not the account exists (R7.1)
OTP_INVALID_MESSAGE = "动态口令不正确，请核对手机上显示的 6 位数字后重试"
RATE_LIMITED_MESSAGE = "请求过于频繁，请稍后再试"
DEFAULT_IDLE_MINUTES = 30

# session keys used by the login views and SessionPolicyMiddleware
SESSION_LAST_SEEN = "zt.last_seen"
SESSION_ENROLL_REQUIRED = "zt.otp_enroll_required"
SESSION_PREAUTH = "zt.preauth"
PREAUTH_SECONDS = 300
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- policy reads ------------------------------------------------------------------------------

def password_max_age_days(policy: SecurityPolicy | None = None) -> int:
    """Days a password stays valid; 0 = never expires. The policy wins over settings."""
    policy = policy or SecurityPolicy.current()
    if policy.password_max_age_days is not None:
        return policy.password_max_age_days
    return int(settings.PASSWORD_MAX_AGE_DAYS or 0)


def password_expired(user: User, policy: SecurityPolicy | None = None) -> bool:
    days = password_max_age_days(policy)
    if not days:
        return False
    changed = user.password_changed_at or user.date_joined
    return changed is None or timezone.now() - changed >= timedelta(days=days)


def password_change_due(user: User, policy: SecurityPolicy | None = None) -> bool:
    return bool(user.must_change_password) or password_expired(user, policy)


def idle_timeout_minutes(policy: SecurityPolicy | None = None) -> int:
    policy = policy or SecurityPolicy.current()
    return policy.idle_timeout_minutes or int(getattr(settings, "IDLE_TIMEOUT_MINUTES", 0) or DEFAULT_IDLE_MINUTES)


def duty_codes(policy: SecurityPolicy) -> list[str]:
    return [c for c in re.split(r"[\s,，;；、]+", policy.otp_required_duties or "") if c]


def confirmed_totp(user: User) -> TOTPDevice | None:
    if user is None or not user.pk:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def otp_required_for(user: User, policy: SecurityPolicy | None = None) -> bool:
    """Whether `user` must log in with a second factor. Demo accounts (otp_exempt) never must."""
    if user.otp_exempt:
        return False
    if user.otp_required:
        return True
    policy = policy or SecurityPolicy.current()
    if policy.otp_required_for_all:
        return True
    if policy.otp_required_admin_roles and admin_roles(user):
        return True
    codes = duty_codes(policy)
    if codes:
        from zhengtong.org.models import Identity

        return Identity.objects.filter(person__user=user, active=True, duty__code__in=codes).exists()
    return False


# --- passwords ---------------------------------------------------------------------------------

def _validation_message(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def change_password(user: User, *, old_password: str, new_password: str) -> None:
    """修改密码: the account holder changes their own password (complexity per R7.1)."""
    require_authenticated(user)
    if not user.check_password(old_password):
        security_event("accounts.password_change_failed", user=user, obj=user, outcome="failure",
                       detail={"reason": "wrong_old_password"})
        raise ServiceError("accounts.wrong_password", "原密码不正确")
    if old_password == new_password:
        raise ServiceError("accounts.password_reused", "新密码不能与原密码相同")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ServiceError("accounts.password_invalid", _validation_message(exc)) from exc
    with transaction.atomic():
        detail = {"was_forced": user.must_change_password, "was_expired": password_expired(user)}
        user.set_password(new_password)
        user.password_changed_at = timezone.now()
        user.must_change_password = False
        user.save(update_fields=["password", "password_changed_at", "must_change_password"])
        security_event("accounts.password_changed", user=user, obj=user, detail=detail)


def generate_password(length: int = 16) -> str:
    """A random password that passes the complexity rule (all four classes)."""
    rng = secrets.SystemRandom()
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!@#$%^&*-_=+?"]
    chars = [rng.choice(pool) for pool in pools]
    chars += [rng.choice("".join(pools)) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


# --- second factor (TOTP) ------------------------------------------------------------------------

@dataclass
class Enrollment:
    device: TOTPDevice
    uri: str
    qr_svg: str

    @property
    def qr_data_uri(self) -> str:
        """For <img src>: CSP allows data: images, never inline script or style."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.qr_svg.encode()).decode()

    @property
    def secret(self) -> str:
        """The key in base32, for typing into an app by hand, grouped by four."""
        raw = base64.b32encode(self.device.bin_key).decode().rstrip("=")
        return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _qr_svg(data: str) -> str:
    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                                  svgns=True, title="动态口令二维码")
    return buffer.getvalue().decode()


def start_totp_enrollment(user: User) -> Enrollment:
    """绑定动态口令, step 1: a new secret (kept unconfirmed until the user proves the app has it)."""
    require_authenticated(user)
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)
            security_event("accounts.otp_enrollment_started", user=user, obj=user)
    return Enrollment(device=device, uri=device.config_url, qr_svg=_qr_svg(device.config_url))


def _token_ok(device: TOTPDevice, token: str) -> bool:
    token = re.sub(r"\s+", "", token or "")
    return len(token) == 6 and token.isdigit() and device.verify_token(token)


def confirm_totp_enrollment(user: User, token: str) -> TOTPDevice:
    """绑定动态口令, step 2: the code from the app confirms the device; it replaces any older one."""
    require_authenticated(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        raise ServiceError("accounts.otp_no_enrollment", "请先开始绑定动态口令")
    if not _token_ok(device, token):
        security_event("accounts.otp_enrollment_failed", user=user, obj=user, outcome="failure")
        raise ServiceError("accounts.otp_invalid", OTP_INVALID_MESSAGE)
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()[0]
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        security_event("accounts.otp_enrolled", user=user, obj=user, detail={"replaced_devices": replaced})
    return device


def remove_totp(user: User) -> None:
    """解除绑定: refused while the policy requires a second factor for this account."""
    require_authenticated(user)
    if confirmed_totp(user) is None:
        raise ServiceError("accounts.otp_not_enrolled", "尚未绑定动态口令")
    if otp_required_for(user):
        security_event("accounts.otp_remove_refused", user=user, obj=user, outcome="denied")
        raise ServiceError("accounts.otp_required",
                           "按安全策略，您的账号必须使用双因素认证，不能解除绑定；更换手机请重新绑定")
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        security_event("accounts.otp_removed", user=user, obj=user, detail={"devices": removed})


# --- the three administrators (三员分立, R7.2) -----------------------------------------------------

def _role(role: str) -> AdminRole:
    try:
        return AdminRole(role)
    except ValueError:
        raise ServiceError("accounts.role_unknown", "未知的管理员角色") from None


def _forget_roles(user: User) -> None:
    if hasattr(user, "_admin_roles_cache"):
        del user._admin_roles_cache


def grant_admin_role(actor: User, user: User, role: str) -> AdminRoleGrant:
    """授予三员角色: only the 安全保密管理员 grants; the auditor role is never combined (R7.2)."""
    require_admin_role(actor, AdminRole.SECURITY)
    role = _role(role)
    if actor.pk == user.pk:
        security_event("accounts.role_grant_refused", user=actor, obj=user, outcome="denied",
                       detail={"role": role.value, "reason": "self"})
        raise Forbidden("accounts.self_grant", "不能为自己授予或撤销三员角色，请由另一名安全保密管理员办理")
    held = set(AdminRoleGrant.objects.filter(user=user).values_list("role", flat=True))
    if role in held:
        raise Conflict("accounts.role_exists", f"该账号已是{role.label}")
    if any(roles_conflict(r, role) for r in held):
        security_event("accounts.role_grant_refused", user=actor, obj=user, outcome="denied",
                       detail={"role": role.value, "held": sorted(held), "reason": "role_conflict"})
        raise Conflict("accounts.role_conflict", ROLE_CONFLICT_MESSAGE)
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()  # one grant per account at a time
            grant = AdminRoleGrant.objects.create(user=user, role=role, granted_by=actor)
            security_event("accounts.role_granted", user=actor, obj=user, detail={"role": role.value},
                           changes={"admin_roles": [sorted(held), sorted(held | {role.value})]})
    except IntegrityError as exc:  # the database trigger: a grant raced this one
        security_event("accounts.role_grant_refused", user=actor, obj=user, outcome="denied",
                       detail={"role": role.value, "reason": "database"})
        raise Conflict("accounts.role_conflict", ROLE_CONFLICT_MESSAGE) from exc
    _forget_roles(user)
    return grant


def revoke_admin_role(actor: User, user: User, role: str) -> None:
    """撤销三员角色. Nobody revokes their own role, so one 安全保密管理员 always remains."""
    require_admin_role(actor, AdminRole.SECURITY)
    role = _role(role)
    if actor.pk == user.pk:
        security_event("accounts.role_grant_refused", user=actor, obj=user, outcome="denied",
                       detail={"role": role.value, "reason": "self", "revoke": True})
        raise Forbidden("accounts.self_grant", "不能为自己授予或撤销三员角色，请由另一名安全保密管理员办理")
    grant = AdminRoleGrant.objects.filter(user=user, role=role).first()
    if grant is None:
        raise NotFound("accounts.role_not_held", f"该账号不是{role.label}")
    held = set(AdminRoleGrant.objects.filter(user=user).values_list("role", flat=True))
    with transaction.atomic():
        grant.delete()
        security_event("accounts.role_revoked", user=actor, obj=user, detail={"role": role.value},
                       changes={"admin_roles": [sorted(held), sorted(held - {role.value})]})
    _forget_roles(user)


def bootstrap_admin(*, username: str, role: str, password: str | None = None,
                    name: str = "") -> tuple[User, str | None]:
    """First setup (`manage.py create_admin`): a new account holding one administrator role.

    Only while no active account holds that role: afterwards the 安全保密管理员 grants roles in the
    console. Returns the account and the generated password (None when one was given); an account
    with a generated password must change it at first login.
    """
    role = _role(role)
    if AdminRoleGrant.objects.filter(role=role, user__is_active=True).exists():
        raise Conflict("accounts.bootstrap_done",
                       f"已有{role.label}账号；此后的授权由安全保密管理员在控制台办理（三员分立）")
    if User.objects.filter(username=username).exists():
        raise Conflict("accounts.username_taken", f"账号 {username} 已存在")
    generated = None
    if not password:
        password = generated = generate_password()
    candidate = User(username=username, last_name=name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise ServiceError("accounts.password_invalid", _validation_message(exc)) from exc
    with transaction.atomic():
        candidate.set_password(password)
        candidate.password_changed_at = timezone.now()
        candidate.must_change_password = generated is not None
        candidate.save()
        AdminRoleGrant.objects.create(user=candidate, role=role)
        security_event("accounts.admin_bootstrapped", obj=candidate, detail={"role": role.value})
    return candidate, generated


# --- security policy and per-account settings (安全保密管理员) --------------------------------------

POLICY_FIELDS = ("otp_required_for_all", "otp_required_admin_roles", "otp_required_duties",
                 "password_max_age_days", "idle_timeout_minutes")
IDLE_RANGE = (1, 240)
PASSWORD_AGE_RANGE = (0, 3650)


def _check_range(value, bounds, message):
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise ServiceError("accounts.policy_invalid", message)


def update_security_policy(actor: User, **changes) -> SecurityPolicy:
    """修改安全策略 (2FA, password age, idle timeout): 安全保密管理员 only, with a diff in the audit."""
    require_admin_role(actor, AdminRole.SECURITY)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"not policy fields: {sorted(unknown)}")
    _check_range(changes.get("idle_timeout_minutes"), IDLE_RANGE, "空闲超时应在 1 到 240 分钟之间")
    _check_range(changes.get("password_max_age_days"), PASSWORD_AGE_RANGE, "密码有效期应在 0 到 3650 天之间")
    if "otp_required_duties" in changes:
        from zhengtong.org.models import Duty

        codes = list(dict.fromkeys(duty_codes(SecurityPolicy(otp_required_duties=changes["otp_required_duties"]))))
        missing = sorted(set(codes) - set(Duty.objects.filter(code__in=codes).values_list("code", flat=True)))
        if missing:
            raise ServiceError("accounts.policy_invalid", f"职责代码不存在：{'、'.join(missing)}")
        changes["otp_required_duties"] = ",".join(codes)
    with transaction.atomic():
        SecurityPolicy.current()
        policy = SecurityPolicy.objects.select_for_update().get(pk=1)
        before = snapshot(policy, list(POLICY_FIELDS))
        for field, value in changes.items():
            setattr(policy, field, value)
        policy.save()
        changed = diff(before, snapshot(policy, list(POLICY_FIELDS)))
        if changed:
            security_event("accounts.policy_updated", user=actor, obj=policy, object_repr="安全策略",
                           changes=changed)
    return policy


def set_user_security(actor: User, user: User, *, otp_required: bool | None = None,
                      must_change_password: bool | None = None) -> User:
    """强制双因素认证 / 强制修改密码 for one account: 安全保密管理员 only."""
    require_admin_role(actor, AdminRole.SECURITY)
    fields = {k: v for k, v in {"otp_required": otp_required, "must_change_password": must_change_password}.items()
              if v is not None}
    if not fields:
        return user
    with transaction.atomic():
        before = snapshot(user, list(fields))
        for field, value in fields.items():
            setattr(user, field, value)
        user.save(update_fields=list(fields))
        changed = diff(before, snapshot(user, list(fields)))
        if changed:
            security_event("accounts.user_security_updated", user=actor, obj=user, changes=changed)
    return user


def reset_user_totp(actor: User, user: User) -> int:
    """重置动态口令 (a lost phone): 安全保密管理员 only; the account enrolls again at next login."""
    require_admin_role(actor, AdminRole.SECURITY)
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        security_event("accounts.otp_reset", user=actor, obj=user, detail={"devices": removed})
    return removed


# --- authentication: web login, second factor, API tokens ------------------------------------------

@dataclass
class LoginCheck:
    outcome: str  # ok | invalid | locked
    user: User | None = None
    device: TOTPDevice | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def check_credentials(request, username: str, password: str, *, channel: str = "web") -> LoginCheck:
    """Username + password through Django's backends, so axes counts failures and locks (R7.1)."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            security_event("auth.locked_out", username=username, outcome="denied", detail={"channel": channel})
            return LoginCheck("locked")
        security_event("auth.login_failed", username=username, outcome="failure", detail={"channel": channel})
        return LoginCheck("invalid")
    if user.is_superuser and not settings.ALLOW_SUPERUSER:
        security_event("auth.superuser_refused", user=user, obj=user, outcome="denied", detail={"channel": channel})
        return LoginCheck("invalid")
    return LoginCheck("ok", user)


def _axes_allows(request, username: str) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_allowed(request, {"username": username})


def verify_login_otp(request, user: User, token: str, *, channel: str = "web") -> LoginCheck:
    """The second step of login. A wrong code counts as a failed login for axes' lockout."""
    username = user.get_username()
    if not _axes_allows(request, username):
        request.axes_locked_out = True
        security_event("auth.locked_out", user=user, obj=user, outcome="denied",
                       detail={"channel": channel, "step": "otp"})
        return LoginCheck("locked", user)
    device = confirmed_totp(user)
    if device is not None and _token_ok(device, token):
        security_event("auth.otp_verified", user=user, obj=user, detail={"channel": channel})
        return LoginCheck("ok", user, device)
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    if getattr(request, "axes_locked_out", False):
        security_event("auth.locked_out", user=user, obj=user, outcome="denied",
                       detail={"channel": channel, "step": "otp"})
        return LoginCheck("locked", user)
    security_event("auth.otp_failed", user=user, obj=user, outcome="failure", detail={"channel": channel})
    return LoginCheck("invalid", user)


def certificate_subject(request) -> str:
    """The client certificate's subject, believed only from a trusted proxy that verified it."""
    header = meta_key(settings.CLIENT_CERT_HEADER)
    if not header or request.META.get("REMOTE_ADDR", "") not in settings.TRUSTED_PROXY_IPS:
        return ""
    if request.META.get(meta_key(settings.CLIENT_CERT_VERIFY_HEADER), "") != "SUCCESS":
        return ""
    return request.META.get(header, "").strip()


def meta_key(header: str) -> str:
    """`X-SSL-Client-S-DN` or `HTTP_X_SSL_CLIENT_S_DN` → the request.META key."""
    if not header:
        return ""
    key = header.upper().replace("-", "_")
    return key if key.startswith("HTTP_") else f"HTTP_{key}"


def check_certificate(request) -> LoginCheck:
    """USB Key login: the account whose registered certificate subject the proxy presents."""
    subject = certificate_subject(request)
    if not subject:
        security_event("auth.cert_login_failed", outcome="failure", detail={"reason": "no_verified_certificate"})
        return LoginCheck("invalid")
    users = list(User.objects.filter(cert_subject=subject, is_active=True)[:2])
    if len(users) != 1:
        security_event("auth.cert_login_failed", outcome="failure",
                       detail={"reason": "no_account" if not users else "ambiguous", "subject": subject[:300]})
        return LoginCheck("invalid")
    user = users[0]
    if user.is_superuser and not settings.ALLOW_SUPERUSER:
        security_event("auth.superuser_refused", user=user, obj=user, outcome="denied", detail={"channel": "cert"})
        return LoginCheck("invalid")
    if not _axes_allows(request, user.get_username()):
        security_event("auth.locked_out", user=user, obj=user, outcome="denied", detail={"channel": "cert"})
        return LoginCheck("locked", user)
    return LoginCheck("ok", user)


def complete_login(request, user: User, *, method: str, device: TOTPDevice | None = None) -> None:
    """Start the session once every required factor is in. Enrollment and password change, when due,
    are then forced by SessionPolicyMiddleware before anything else."""
    request.session.pop(SESSION_PREAUTH, None)
    login(request, user, backend=MODEL_BACKEND)
    if device is not None:
        otp_login(request, device)
    policy = SecurityPolicy.current()
    enroll = method == "password" and device is None and otp_required_for(user, policy)
    if enroll:
        request.session[SESSION_ENROLL_REQUIRED] = True
    request.session[SESSION_LAST_SEEN] = time.time()
    security_event("auth.login", user=user, obj=user, detail={
        "method": method, "second_factor": "totp" if device else ("certificate" if method == "certificate" else ""),
        "otp_enrollment_required": enroll, "password_change_due": password_change_due(user, policy)})


def start_preauth(request, user: User, next_url: str = "") -> None:
    """Password accepted, second factor pending: nothing is logged in yet."""
    request.session.cycle_key()
    request.session[SESSION_PREAUTH] = {"user_id": user.pk, "at": time.time(), "next": next_url}


def preauth_user(request) -> tuple[User | None, str]:
    data = request.session.get(SESSION_PREAUTH)
    if not data or time.time() - data.get("at", 0) > PREAUTH_SECONDS:
        request.session.pop(SESSION_PREAUTH, None)
        return None, ""
    user = User.objects.filter(pk=data["user_id"], is_active=True).first()
    return user, data.get("next", "")


def record_logout(request) -> None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        security_event("auth.logout", user=user, obj=user)


# --- API tokens ----------------------------------------------------------------------------------

def issue_api_token(request, *, username: str, password: str, otp: str | None = None) -> tuple[str, datetime]:
    """POST /api/v1/auth/token: the same checks as the web login, then a bearer token (digest stored)."""
    if not throttle.hit(request, "token"):
        security_event("auth.rate_limited", username=username, outcome="denied", detail={"channel": "api"})
        raise ServiceError("auth.rate_limited", RATE_LIMITED_MESSAGE, status=429)
    check = check_credentials(request, username, password, channel="api")
    if check.outcome == "locked":
        raise NotAuthenticated("auth.locked", LOCKED_MESSAGE)
    if not check.ok:
        raise NotAuthenticated("auth.invalid_credentials", INVALID_MESSAGE)
    user = check.user
    policy = SecurityPolicy.current()
    device = confirmed_totp(user)
    second_factor = ""
    if device is not None or otp_required_for(user, policy):
        if device is None:
            security_event("auth.token_refused", user=user, obj=user, outcome="denied",
                           detail={"reason": "otp_not_enrolled"})
            raise NotAuthenticated("auth.otp_required", "账号须使用动态口令，请先在网页端“个人设置”中绑定动态口令")
        if not otp:
            security_event("auth.token_refused", user=user, obj=user, outcome="denied",
                           detail={"reason": "otp_missing"})
            raise NotAuthenticated("auth.otp_required", "请同时提供动态口令（otp）")
        otp_check = verify_login_otp(request, user, otp, channel="api")
        if otp_check.outcome == "locked":
            raise NotAuthenticated("auth.locked", LOCKED_MESSAGE)
        if not otp_check.ok:
            raise NotAuthenticated("auth.invalid_credentials", OTP_INVALID_MESSAGE)
        second_factor = "totp"
    if password_change_due(user, policy):
        security_event("auth.token_refused", user=user, obj=user, outcome="denied",
                       detail={"reason": "password_expired"})
        raise NotAuthenticated("auth.password_expired", "密码已过期或须修改，请先登录网页端修改密码后再申请令牌")
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, digest=token_digest(raw), expires_at=expires_at,
                                        ip=client_ip(request))
        security_event("auth.token_issued", user=user, obj=user,
                       detail={"token_id": token.pk, "expires_at": expires_at.isoformat(),
                               "second_factor": second_factor})
    from axes.utils import reset

    reset(username=username)  # like a web login's success: AXES_RESET_ON_SUCCESS
    return raw, expires_at


def revoke_api_token(user: User, token: ApiToken) -> None:
    """Revoke the caller's own token (logout for API clients)."""
    if token.user_id != user.pk:
        raise Forbidden("permission.denied", "只能撤销自己的令牌")
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        security_event("auth.token_revoked", user=user, obj=user, detail={"token_id": token.pk})
