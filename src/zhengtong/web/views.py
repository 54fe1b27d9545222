from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zhengtong.accounts.permissions import admin_roles

from . import selectors, workspace


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
    })


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
