"""Login (password → second factor → forced enrollment / password change), logout, profile.

The views stay thin: every check and every audit record is in accounts.services.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from zhengtong.audit.services import security_event
from zhengtong.core.errors import ServiceError

from . import services, throttle
from .forms import LoginForm, OtpForm, PasswordChangeForm
from .lockout import LOCKED_MESSAGE

IDLE_MESSAGE = "您已长时间未操作，为保证安全已自动退出，请重新登录"
REASONS = {"idle": IDLE_MESSAGE, "logout": "您已安全退出", "superuser": "超级用户已停用，请使用管理员账号登录"}


def _safe_next(request, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return ""


def _after_login(request, next_url: str = ""):
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


def login_context(request, form, *, error: str = "") -> dict:
    reason = REASONS.get(request.GET.get("reason", ""), "")
    return {
        "form": form,
        "error": error,
        "notice": "" if error else reason,
        "cert_login": bool(settings.CLIENT_CERT_HEADER),
        "next": _safe_next(request, request.POST.get("next") or request.GET.get("next", "")),
    }


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    if request.method == "GET":
        return render(request, "accounts/login.html", login_context(request, form))
    if throttle.over_limit(request, "web_failures"):
        security_event("auth.rate_limited", username=request.POST.get("username", "")[:150], outcome="denied",
                       detail={"channel": "web"})
        return render(request, "accounts/login.html",
                      login_context(request, form, error=services.RATE_LIMITED_MESSAGE), status=429)
    if not form.is_valid():
        return render(request, "accounts/login.html", login_context(request, form, error="请输入用户名和密码"))
    check = services.check_credentials(request, form.cleaned_data["username"], form.cleaned_data["password"])
    if check.outcome == "locked":
        return render(request, "accounts/login.html", login_context(request, LoginForm(), error=LOCKED_MESSAGE),
                      status=403)
    if not check.ok:
        throttle.hit(request, "web_failures")
        return render(request, "accounts/login.html",
                      login_context(request, LoginForm(initial={"username": form.cleaned_data["username"]}),
                                    error=services.INVALID_MESSAGE))
    next_url = login_context(request, form)["next"]
    if services.confirmed_totp(check.user) is not None:
        services.start_preauth(request, check.user, next_url)
        return redirect("accounts:login_otp")
    services.complete_login(request, check.user, method="password")
    return _after_login(request, next_url)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_otp_view(request):
    """Second step: the 6-digit code from the authenticator app."""
    user, next_url = services.preauth_user(request)
    if user is None:
        messages.warning(request, "登录已超时，请重新输入用户名和密码")
        return redirect("accounts:login")
    form = OtpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = services.verify_login_otp(request, user, form.cleaned_data["token"])
        if check.ok:
            services.complete_login(request, user, method="password", device=check.device)
            return _after_login(request, next_url)
        if check.outcome == "locked":
            request.session.pop(services.SESSION_PREAUTH, None)
            return render(request, "accounts/login.html",
                          login_context(request, LoginForm(), error=LOCKED_MESSAGE), status=403)
        error = services.OTP_INVALID_MESSAGE
        form = OtpForm()
    return render(request, "accounts/login_otp.html", {"form": form, "error": error, "pending_user": user})


@never_cache
@require_POST
def cert_login_view(request):
    """使用 USB Key 证书登录: the reverse proxy verified the certificate (docs/security.md)."""
    if not settings.CLIENT_CERT_HEADER:
        return redirect("accounts:login")
    check = services.check_certificate(request)
    if check.outcome == "locked":
        return render(request, "accounts/login.html", login_context(request, LoginForm(), error=LOCKED_MESSAGE),
                      status=403)
    if not check.ok:
        return render(request, "accounts/login.html", login_context(
            request, LoginForm(), error="未能识别有效的 USB Key 证书，或该证书未绑定账号"), status=403)
    services.complete_login(request, check.user, method="certificate")
    return _after_login(request, _safe_next(request, request.POST.get("next", "")))


@require_POST
def logout_view(request):
    services.record_logout(request)
    logout(request)
    return redirect(reverse("accounts:login") + "?reason=logout")


@never_cache
@login_required
@sensitive_post_parameters("old_password", "new_password", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    forced = services.password_change_due(request.user)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(request.user, old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password"])
        except ServiceError as exc:
            field = "old_password" if exc.code == "accounts.wrong_password" else "new_password"
            form.add_error(field, exc.message)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改")
            return redirect("accounts:profile" if not forced else settings.LOGIN_REDIRECT_URL)
    reason = ""
    if forced:
        reason = ("管理员要求您修改密码" if request.user.must_change_password
                  else "您的密码已超过有效期，请修改后继续使用")
    return render(request, "accounts/password_change.html", {"form": form, "forced": forced, "reason": reason})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_enroll_view(request):
    """绑定动态口令: scan the QR code, then confirm with a code from the app."""
    forced = bool(request.session.get(services.SESSION_ENROLL_REQUIRED))
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.confirm_totp_enrollment(request.user, form.cleaned_data["token"])
        except ServiceError as exc:
            form = OtpForm()
            messages.error(request, exc.message)
        else:
            from django_otp import login as otp_login

            otp_login(request, device)
            request.session.pop(services.SESSION_ENROLL_REQUIRED, None)
            messages.success(request, "动态口令已绑定，今后登录时须输入手机上显示的 6 位数字")
            return redirect(settings.LOGIN_REDIRECT_URL if forced else "accounts:profile")
    enrollment = services.start_totp_enrollment(request.user)
    return render(request, "accounts/otp_enroll.html", {
        "form": form, "enrollment": enrollment, "forced": forced,
        "replacing": services.confirmed_totp(request.user) is not None})


@login_required
@require_POST
def otp_remove_view(request):
    try:
        services.remove_totp(request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已解除动态口令绑定")
    return redirect("accounts:profile")


def _delegations_url() -> str:
    try:
        return reverse("org:delegations")
    except NoReverseMatch:
        return "/org/delegations/"


@never_cache
@login_required
def profile_view(request):
    user = request.user
    person = getattr(user, "person", None)
    identities = list(person.identities.filter(active=True).select_related("unit", "department", "duty")) \
        if person else []
    policy = services.SecurityPolicy.current()
    device = services.confirmed_totp(user)
    max_age = services.password_max_age_days(policy)
    expires = None
    if max_age:
        from datetime import timedelta

        changed = user.password_changed_at or user.date_joined
        expires = changed + timedelta(days=max_age) if changed else None
    return render(request, "accounts/profile.html", {
        "person": person,
        "identities": identities,
        "device": device,
        "otp_required": services.otp_required_for(user, policy),
        "password_form": PasswordChangeForm(),
        "password_expires": expires,
        "delegations_url": _delegations_url(),
        "is_admin": bool(services.admin_roles(user)),
    })
