"""安全保密管理员 console (R7.2): security policy, the three administrators' roles, per-account security.

Only accounts holding the secadmin role open it; anyone else gets a 403 page and an audit record.
Django's superuser flag grants nothing here. Every change goes through accounts.services.
"""
from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from zhengtong.accounts import services
from zhengtong.accounts.models import AdminRole, AdminRoleGrant, SecurityPolicy, User
from zhengtong.accounts.permissions import has_admin_role
from zhengtong.audit.services import security_event
from zhengtong.core.errors import ServiceError


def secadmin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not has_admin_role(request.user, AdminRole.SECURITY):
            security_event("console.denied", user=request.user, outcome="denied",
                           detail={"console": "secadmin", "path": request.path})
            return render(request, "console/secadmin_denied.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


class PolicyForm(forms.Form):
    otp_required_for_all = forms.BooleanField(label="全平台强制双因素认证", required=False)
    otp_required_admin_roles = forms.BooleanField(label="三员账号强制双因素认证", required=False)
    otp_required_duties = forms.MultipleChoiceField(label="按职责强制双因素认证", required=False,
                                                    widget=forms.CheckboxSelectMultiple)
    password_max_age_days = forms.IntegerField(
        label="密码有效期（天）", required=False, min_value=services.PASSWORD_AGE_RANGE[0],
        max_value=services.PASSWORD_AGE_RANGE[1], help_text="0 为永不过期；留空则使用部署配置")
    idle_timeout_minutes = forms.IntegerField(
        label="空闲超时（分钟）", required=False, min_value=services.IDLE_RANGE[0], max_value=services.IDLE_RANGE[1],
        help_text="留空则使用部署配置")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from zhengtong.org.models import Duty

        self.fields["otp_required_duties"].choices = list(Duty.objects.values_list("code", "name"))

    @classmethod
    def for_policy(cls, policy: SecurityPolicy, data=None):
        return cls(data, initial={
            "otp_required_for_all": policy.otp_required_for_all,
            "otp_required_admin_roles": policy.otp_required_admin_roles,
            "otp_required_duties": services.duty_codes(policy),
            "password_max_age_days": policy.password_max_age_days,
            "idle_timeout_minutes": policy.idle_timeout_minutes,
        })


class GrantForm(forms.Form):
    username = forms.CharField(label="账号", max_length=150)
    role = forms.ChoiceField(label="角色", choices=AdminRole.choices)


def _search_users(q: str):
    users = User.objects.select_related("person").annotate(
        otp_devices=Count("totpdevice", filter=Q(totpdevice__confirmed=True)))
    if q:
        key = q.lower()
        users = users.filter(Q(username__icontains=q) | Q(person__name__contains=q) | Q(last_name__contains=q)
                             | Q(person__pinyin__contains=key) | Q(person__initials__contains=key))
    else:
        users = users.filter(Q(otp_required=True) | Q(must_change_password=True))
    return list(users.order_by("username")[:30])


def _page(request, *, policy_form=None, grant_form=None, status=200):
    policy = SecurityPolicy.current()
    q = request.GET.get("q", "").strip()[:50]
    grants = AdminRoleGrant.objects.select_related("user", "user__person", "granted_by").order_by("role", "user__username")
    return render(request, "console/secadmin.html", {
        "policy": policy,
        "policy_form": policy_form or PolicyForm.for_policy(policy),
        "grant_form": grant_form or GrantForm(),
        "grants": grants,
        "q": q,
        "users": _search_users(q),
        "effective_idle": services.idle_timeout_minutes(policy),
        "effective_max_age": services.password_max_age_days(policy),
    }, status=status)


@secadmin_required
def home(request):
    return _page(request)


@secadmin_required
@require_POST
def update_policy(request):
    form = PolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "安全策略未保存：请检查标红的项目")
        return _page(request, policy_form=form, status=400)
    data = dict(form.cleaned_data)
    data["otp_required_duties"] = ",".join(data["otp_required_duties"])
    try:
        services.update_security_policy(request.user, **data)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _page(request, policy_form=form, status=400)
    messages.success(request, "安全策略已保存")
    return redirect("console:secadmin")


@secadmin_required
@require_POST
def grant_role(request):
    form = GrantForm(request.POST)
    if form.is_valid():
        user = User.objects.filter(username=form.cleaned_data["username"].strip()).first()
        if user is None:
            form.add_error("username", "账号不存在")
        else:
            try:
                services.grant_admin_role(request.user, user, form.cleaned_data["role"])
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"已授予 {user.username}“{AdminRole(form.cleaned_data['role']).label}”角色")
                return redirect("console:secadmin")
    return _page(request, grant_form=form, status=400)


@secadmin_required
@require_POST
def revoke_role(request, grant_id: int):
    grant = get_object_or_404(AdminRoleGrant.objects.select_related("user"), pk=grant_id)
    try:
        services.revoke_admin_role(request.user, grant.user, grant.role)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤销 {grant.user.username} 的“{grant.get_role_display()}”角色")
    return redirect("console:secadmin")


@secadmin_required
@require_POST
def user_security(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    field = request.POST.get("field")
    value = request.POST.get("value") == "on"
    if field not in ("otp_required", "must_change_password"):
        messages.error(request, "无效的操作")
    else:
        services.set_user_security(request.user, user, **{field: value})
        label = {"otp_required": "强制双因素认证", "must_change_password": "强制修改密码"}[field]
        messages.success(request, f"{user.username}：已{'开启' if value else '关闭'}{label}")
    return _back(request)


@secadmin_required
@require_POST
def reset_otp(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    removed = services.reset_user_totp(request.user, user)
    messages.success(request, f"{user.username}：已重置动态口令（{removed} 个）" if removed
                     else f"{user.username} 未绑定动态口令")
    return _back(request)


def _back(request):
    q = request.POST.get("q", "").strip()
    url = redirect("console:secadmin").url
    if q:
        from urllib.parse import urlencode

        url += "?" + urlencode({"q": q})
    return redirect(url + "#users")
