"""系统管理员 console (R7.2): platform figures, the working-day calendar (R8.2), account operations.

Only accounts holding the platform sysadmin role open these pages; anyone else gets a 403 page and
a `permission.denied` audit record (accounts.permissions.require_admin_role). No business documents
are shown here. Every change goes through core.services (calendar) or console.services (accounts).
"""
from __future__ import annotations

import calendar as pycalendar
from datetime import date
from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.models import Session
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, User
from zhengtong.accounts.permissions import require_admin_role
from zhengtong.core import calendar as workcal
from zhengtong.core import services as calendar_services
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.core.models import CalendarYear, HolidayDate

from . import services

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]
IMPORT_EXAMPLE = ("2027-01-01~2027-01-03 元旦 holiday\n2027-02-06~2027-02-14 春节 holiday\n"
                  "2027-02-20 春节 workday\n2027-10-01~2027-10-07 国庆节 holiday")


def today() -> date:
    """The local date (a function so tests can set the day)."""
    return timezone.localdate()


def sysadmin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        try:
            require_admin_role(request.user, AdminRole.SYSTEM)
        except Forbidden:
            return render(request, "console/sysadmin_denied.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def _missing_banners(day: date) -> list[dict]:
    banners = []
    for year in workcal.missing_years(day):
        if year <= day.year:
            text = f"{year} 年节假日安排尚未录入，涉及本年日期的期限计算均会报错，请立即录入"
            level = "error"
        else:
            text = f"{year} 年节假日安排尚未录入，期限计算将报错，请于国务院办公厅公布后录入"
            level = "warning"
        banners.append({"year": year, "text": text, "level": level})
    return banners


def _figures() -> list[tuple[str, int, str]]:
    from zhengtong.org.models import Person, Region, Unit

    now = timezone.now()
    accounts_url = reverse("console:sysadmin_accounts")
    return [
        ("行政区划", Region.objects.count(), ""),
        ("单位", Unit.objects.filter(active=True).count(), ""),
        ("人员", Person.objects.filter(active=True).count(), ""),
        ("账号", User.objects.filter(is_active=True).count(), accounts_url),
        ("已锁定账号", len(services.locked_usernames()), f"{accounts_url}?status=locked"),
        ("有效会话", Session.objects.filter(expire_date__gt=now).count(), ""),
    ]


@sysadmin_required
def home(request):
    day = today()
    years = [day.year - 1, day.year, day.year + 1]
    locked = services.locked_usernames()
    return render(request, "console/sysadmin.html", {
        "banners": _missing_banners(day),
        "figures": _figures(),
        "years": [(y, workcal.year_status(y), workcal.YEAR_STATUS_LABELS[workcal.year_status(y)]) for y in years],
        "locked_users": User.objects.select_related("person").filter(username__in=locked).order_by("username")[:10],
        "org_url": _url("org:browser", "/org/"),
        "org_import_url": _url("org:import", "/org/import/"),
    })


# --- calendar ------------------------------------------------------------------------------------

class DayForm(forms.Form):
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label="类型", choices=HolidayDate.Kind.choices)
    name = forms.CharField(label="名称", max_length=50, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "如：春节"}))
    note = forms.CharField(label="备注", max_length=200, required=False)


class ImportForm(forms.Form):
    text = forms.CharField(label="粘贴安排", widget=forms.Textarea(attrs={"rows": 8, "placeholder": IMPORT_EXAMPLE}))


def _months(year: int) -> list[dict]:
    days = workcal.year_days(year)
    by_date = {info.date: info for info in days}
    overrides = dict(HolidayDate.objects.filter(date__year=year).values_list("date", "kind"))
    now = today()
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for d in week:
                if d.month != month:
                    cells.append(None)
                    continue
                info = by_date[d]
                cells.append({"info": info, "today": d == now, "override_kind": overrides.get(d, ""), "title": " ".join(
                    part for part in (d.isoformat(), info.label, info.name,
                                      "（已录入调整）" if info.source == "override" else "") if part)})
            weeks.append(cells)
        months.append({"number": month, "weeks": weeks,
                       "holidays": sum(1 for info in days if info.date.month == month and info.kind == workcal.HOLIDAY),
                       "makeups": sum(1 for info in days if info.date.month == month and info.kind == workcal.MAKEUP)})
    return months


def _calendar_page(request, year: int, *, day_form=None, import_form=None, import_errors=None, status=200):
    if not calendar_services.FIRST_YEAR <= year <= calendar_services.LAST_YEAR:
        return redirect("console:sysadmin_calendar", year=today().year)
    status_code = workcal.year_status(year)
    entries = HolidayDate.objects.filter(date__year=year).select_related("updated_by").order_by("date")
    return render(request, "console/sysadmin_calendar.html", {
        "year": year,
        "prev_year": year - 1,
        "next_year": year + 1,
        "status": status_code,
        "status_label": workcal.YEAR_STATUS_LABELS[status_code],
        "year_row": CalendarYear.objects.filter(year=year).select_related("confirmed_by").first(),
        "banners": [b for b in _missing_banners(today()) if b["year"] != year],
        "months": _months(year),
        "weekdays": WEEKDAYS,
        "entries": entries,
        "holiday_entries": sum(1 for e in entries if e.kind == HolidayDate.Kind.HOLIDAY),
        "day_form": day_form or DayForm(initial={"kind": HolidayDate.Kind.HOLIDAY}),
        "import_form": import_form or ImportForm(),
        "import_errors": import_errors or [],
        "import_example": IMPORT_EXAMPLE.replace("2027", str(year)),
    }, status=status)


@sysadmin_required
def calendar_current(request):
    return redirect("console:sysadmin_calendar", year=today().year)


@sysadmin_required
def calendar_year(request, year: int):
    return _calendar_page(request, year)


@sysadmin_required
@require_POST
def calendar_set_day(request, year: int):
    form = DayForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            calendar_services.set_calendar_day(request.user, data["date"], data["kind"], data["name"], data["note"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            kind = HolidayDate.Kind(data["kind"]).label
            messages.success(request, f"已将 {data['date'].isoformat()} 设为{kind}{('：' + data['name']) if data['name'] else ''}")
            return redirect("console:sysadmin_calendar", year=data["date"].year)
    messages.error(request, "未保存：请检查日期调整表单")
    return _calendar_page(request, year, day_form=form, status=400)


@sysadmin_required
@require_POST
def calendar_remove_day(request, year: int, day: str):
    try:
        parsed = date.fromisoformat(day)
        calendar_services.remove_calendar_day(request.user, parsed)
    except ValueError:
        messages.error(request, "日期不正确")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已删除 {parsed.isoformat()} 的调整，恢复默认安排")
    return redirect("console:sysadmin_calendar", year=year)


@sysadmin_required
@require_POST
def calendar_import(request, year: int):
    form = ImportForm(request.POST)
    if not form.is_valid():
        return _calendar_page(request, year, import_form=form, status=400)
    try:
        result = calendar_services.import_calendar_days(request.user, form.cleaned_data["text"])
    except ServiceError as exc:
        errors = exc.details.get("errors") or [exc.message]
        messages.error(request, "导入失败，未作任何修改，请按下列提示修正后重新提交")
        return _calendar_page(request, year, import_form=form, import_errors=errors, status=400)
    messages.success(request, f"已导入：新增 {result.created} 天，修改 {result.updated} 天，未变 {result.unchanged} 天")
    return redirect("console:sysadmin_calendar", year=year)


@sysadmin_required
@require_POST
def calendar_confirm(request, year: int):
    try:
        if request.POST.get("action") == "withdraw":
            calendar_services.unconfirm_calendar_year(request.user, year)
            messages.success(request, f"已撤销 {year} 年的确认，该年期限计算将报错直至重新确认")
        else:
            calendar_services.confirm_calendar_year(request.user, year, request.POST.get("note", ""))
            messages.success(request, f"已确认 {year} 年节假日安排，期限计算即刻生效")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("console:sysadmin_calendar", year=year)


# --- accounts ------------------------------------------------------------------------------------

STATUS_FILTERS = [("", "全部"), ("locked", "已锁定"), ("inactive", "已停用"), ("must_change", "待改密码")]


@sysadmin_required
def accounts(request):
    q = request.GET.get("q", "").strip()[:50]
    status = request.GET.get("status", "")
    locked = services.locked_usernames()
    users = User.objects.select_related("person").order_by("username")
    if q:
        key = q.lower()
        users = users.filter(Q(username__icontains=q) | Q(person__name__contains=q)
                             | Q(person__pinyin__contains=key) | Q(person__initials__contains=key))
    if status == "locked":
        users = users.filter(username__in=locked)
    elif status == "inactive":
        users = users.filter(is_active=False)
    elif status == "must_change":
        users = users.filter(must_change_password=True)
    page = Paginator(users, 30).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    roles: dict[int, list[str]] = {}
    for grant in AdminRoleGrant.objects.filter(user_id__in=[u.pk for u in rows]):
        roles.setdefault(grant.user_id, []).append(grant.get_role_display())
    for user in rows:
        user.is_locked = user.username in locked
        user.role_labels = roles.get(user.pk, [])
    query = urlencode([(k, v) for k, v in (("q", q), ("status", status)) if v])
    return render(request, "console/sysadmin_accounts.html", {
        "q": q, "status": status, "status_filters": STATUS_FILTERS, "page": page, "rows": rows,
        "query": query, "temporary": request.session.pop("zt.sysadmin_temp_password", None),
    })


def _back_to_accounts(request):
    target = request.POST.get("next", "")
    if target.startswith("/console/sysadmin/"):
        return redirect(target)
    return redirect("console:sysadmin_accounts")


@sysadmin_required
@require_POST
def account_unlock(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    try:
        services.unlock_account(request.user, user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已解锁账号 {user.username}")
    return _back_to_accounts(request)


@sysadmin_required
@require_POST
def account_active(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    active = request.POST.get("active") == "1"
    try:
        services.set_account_active(request.user, user, active)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已{'启用' if active else '停用'}账号 {user.username}")
    return _back_to_accounts(request)


@sysadmin_required
@require_POST
def account_reset_password(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    try:
        temporary = services.reset_password(request.user, user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        # shown once on the next page, never put in a message store or a URL
        request.session["zt.sysadmin_temp_password"] = {"username": user.username, "password": temporary}
    return _back_to_accounts(request)
