"""Seal pages: the verification page (any signed-in user uploads a PDF), the 安全保密管理员's seal register (make and
revoke seals, in the secadmin console) and the 单位系统管理员's page naming who may use the unit's seals."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from zhengtong.accounts.models import AdminRole
from zhengtong.accounts.permissions import has_admin_role
from zhengtong.audit.services import security_event
from zhengtong.console.security_views import secadmin_required
from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Identity, Unit

from . import selectors, services
from .api import read_upload
from .models import UnitSeal


@login_required
def verify(request):
    result, error, name = None, "", ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        name = upload.name if upload else ""
        try:
            data = read_upload(upload)
        except ServiceError as exc:
            error = exc.message
        else:
            result = services.verify_pdf(data, actor=request.user, reference=f"upload:{name[:60]}")
    status = 400 if error else 200
    unit_admin = (selectors.manageable_seals(request.user) is not None
                  and not has_admin_role(request.user, AdminRole.SECURITY))
    return render(request, "seals/verify.html", {"result": result, "error": error, "filename": name,
                                                 "manages": unit_admin}, status=status)


@login_required
def image(request, pk: int):
    """The seal's PNG, for those who manage or hold it."""
    seals = selectors.manageable_seals(request.user)
    seal = (seals.filter(pk=pk).first() if seals is not None else None) or UnitSeal.objects.filter(
        pk=pk, holders__person__user=request.user).first()
    if seal is None:
        raise Http404
    response = HttpResponse(bytes(seal.image), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- 安全保密管理员: the seal register --------------------------------------------------------------------------

@secadmin_required
def register(request):
    seals = list(selectors.manageable_seals(request.user))
    units = Unit.objects.filter(active=True).order_by("name")
    by_unit: dict = {}
    for seal in seals:
        by_unit.setdefault(seal.unit, []).append(seal)
    return render(request, "seals/register.html", {"by_unit": by_unit, "units": units,
                                                   "ca": services.active_ca()})


@secadmin_required
@require_POST
def create(request):
    unit = Unit.objects.filter(pk=request.POST.get("unit") or 0, active=True).first()
    if unit is None:
        messages.error(request, "请选择单位")
        return redirect("console:secadmin_seals")
    try:
        seal = services.create_seal(request.user, unit, request.POST.get("name", "").strip() or None)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已制发“{seal.name}”（证书序列号 {seal.serial[:16]}…）")
    return redirect("console:secadmin_seals")


@secadmin_required
@require_POST
def revoke(request, pk: int):
    try:
        seal = services.get_seal(pk)
        services.revoke_seal(request.user, seal, request.POST.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已吊销“{seal.name}”")
    return redirect("console:secadmin_seals")


# --- 单位系统管理员: who may use the unit's seals ------------------------------------------------------------------

def _unit_admin_seals(request):
    seals = selectors.manageable_seals(request.user)
    if seals is None or has_admin_role(request.user, AdminRole.SECURITY) or not getattr(request.user, "person", None):
        security_event("permission.denied", user=request.user, outcome="denied", object_type="seals.unitseal",
                       detail={"code": "seals.not_unit_admin", "path": request.path})
        return None
    return seals.filter(status=UnitSeal.Status.ACTIVE)


@login_required
def holders(request):
    seals = _unit_admin_seals(request)
    if seals is None:
        return render(request, "seals/denied.html", status=403)
    rows = []
    for seal in seals:
        chosen = {h.pk for h in seal.holders.all()}
        people = Identity.objects.filter(unit_id=seal.unit_id, active=True).select_related(
            "person", "duty", "department").order_by("department__name", "person__name")
        rows.append((seal, [(i, i.pk in chosen) for i in people]))
    return render(request, "seals/holders.html", {"rows": rows})


@login_required
@require_POST
def set_holders(request, pk: int):
    seals = _unit_admin_seals(request)
    seal = seals.filter(pk=pk).first() if seals is not None else None
    if seal is None:
        return render(request, "seals/denied.html", status=403)
    try:
        services.set_seal_holders(request.user, seal, request.POST.getlist("holders"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已保存“{seal.name}”的用印人")
    return redirect("seals:holders")
