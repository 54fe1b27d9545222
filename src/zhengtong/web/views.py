from datetime import date

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from zhengtong.accounts.permissions import admin_roles
from zhengtong.core import calendar

from . import selectors, workspace


def local_today() -> date:
    return timezone.localdate()


def today_on_calendar() -> dict:
    """Today's kind of day and the date 5 working days on: the deadline arithmetic every office does."""
    day = local_today()
    try:
        info = calendar.day_info(day)
        label = f"{info.label}（{info.name}）" if info.name else info.label
        return {"label": label, "working": info.working,
                "in_five": calendar.add_working_days(day, 5)}
    except calendar.CalendarDataMissing:
        return {"label": "工作日历数据缺失", "working": None, "in_five": None}


@login_required
def home(request):
    person = getattr(request.user, "person", None)
    identities = list(person.identities.filter(active=True).select_related("unit", "department", "duty")) \
        if person else []
    return render(request, "web/home.html", {
        "identities": identities,
        "counters": workspace.counts_for(request.user),
        "notices": selectors.notices_for(request.user)[:8],
        "admin_roles": admin_roles(request.user),
        "today": today_on_calendar(),
    })


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
