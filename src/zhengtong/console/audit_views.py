"""安全审计员 console (R7.2, R7.3): read, filter and export the audit of everyone; verify the chain.

Only accounts holding the auditor role open these pages; the 系统管理员 and the 安全保密管理员 get
the 403 page and a `permission.denied` record like anyone else (三员分立: the two administrators the
auditor watches cannot read their own trail). The auditor can do nothing else here: no page changes
a record. Reads go through audit.selectors, the export through audit.export, the verification
request through audit.services.
"""
from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from zhengtong.audit import export, labels, selectors, services
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden, NotFound, ServiceError


def auditor_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        try:
            selectors.require_auditor(request.user)
        except Forbidden:
            return render(request, "console/auditor_denied.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


class FilterForm(forms.Form):
    actor = forms.CharField(label="操作人", max_length=150, required=False,
                            widget=forms.TextInput(attrs={"placeholder": "账号或姓名，如 bgs.keyuan、张三"}))
    unit = forms.CharField(label="单位", max_length=100, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "单位名称中的字，如 教育局"}))
    action = forms.CharField(label="操作", max_length=80, required=False,
                             widget=forms.TextInput(attrs={"placeholder": "如 auth.（全部登录事件）", "list": "action-prefixes"}))
    category = forms.ChoiceField(label="类别", required=False,
                                 choices=[("", "全部"), *labels.CATEGORY_LABELS.items()])
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *AuditRecord.Outcome.choices])
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "截止日期不能早于起始日期")
        return data

    def record_filter(self) -> selectors.RecordFilter:
        data = self.cleaned_data
        return selectors.RecordFilter(
            actor=data.get("actor", "").strip(), unit=data.get("unit", "").strip(),
            action=data.get("action", "").strip(), category=data.get("category", ""),
            outcome=data.get("outcome", ""), since=data.get("since"), until=data.get("until"))


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _verification_context() -> dict:
    latest = selectors.latest_verification()
    result = latest["result"]
    return {"verification": result, "verification_pending": latest["pending"],
            "verification_detail": (result.detail if result else {})}


@auditor_required
@require_GET
def home(request):
    form = FilterForm(request.GET or None)
    context = {"form": form, "prefixes": labels.ACTION_PREFIXES, **_verification_context()}
    if form.is_bound and not form.is_valid():
        return render(request, "console/auditor.html", context, status=400)
    flt = form.record_filter() if form.is_bound else selectors.RecordFilter()
    result = selectors.page(request.user, flt, before=_cursor(request, "before"), after=_cursor(request, "after"))
    count, more = selectors.capped_count(selectors.filtered(request.user, flt))
    context.update({
        "page": result,
        "rows": [{"record": rec, "action_label": labels.action_label(rec.action)} for rec in result.rows],
        "count_text": f"{count:,}", "count_more": more, "count_cap_text": f"{selectors.COUNT_CAP:,}",
        "query": flt.querystring(), "filter": flt, "filtered": bool(flt.as_query()),
        "export_cap_text": f"{export.EXPORT_CAP:,}",
    })
    return render(request, "console/auditor.html", context)


@auditor_required
@require_GET
def record(request, seq: int):
    try:
        data = selectors.record_detail(request.user, seq)
    except NotFound as exc:
        messages.error(request, exc.message)
        return redirect("console:auditor")
    rec = data["record"]
    query = request.GET.urlencode()
    return render(request, "console/auditor_record.html", {
        **data,
        "action_label": labels.action_label(rec.action),
        "object_type_label": labels.object_type_label(rec.object_type) if rec.object_type else "",
        "channel_label": labels.CHANNEL_LABELS.get(rec.channel, rec.channel),
        "category_label": labels.CATEGORY_LABELS.get(rec.category, rec.category),
        "query": query,
        "back_url": reverse("console:auditor") + (f"?{query}" if query else ""),
    })


@auditor_required
@require_POST
def export_xlsx(request):
    form = FilterForm(request.POST)
    back = reverse("console:auditor")
    if not form.is_valid():
        messages.error(request, "筛选条件有误，未导出")
        return redirect(back)
    flt = form.record_filter()
    if flt.as_query():
        back += f"?{flt.querystring()}"
    try:
        result = export.export_records(request.user, flt)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    return FileResponse(result.file, as_attachment=True, filename=result.filename,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@auditor_required
@require_POST
def verify(request):
    """Ask for a chain walk now (a background task). The page's verification panel shows the result."""
    services.request_verification(request.user)
    if selectors.latest_verification()["pending"]:  # a worker runs it; under tests it has already run
        messages.info(request, "已开始校验审计链，完成后结果显示在本页")
    return redirect("console:auditor")


@auditor_required
@require_GET
def verify_status(request):
    """The verification panel alone; the page polls it (HTMX) while a verification runs."""
    return render(request, "console/_auditor_verify.html", _verification_context())

