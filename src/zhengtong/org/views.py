"""组织机构 pages: the organisation browser, unit administrators' management pages, AB岗 delegations.

Views stay thin: every write goes through org.services, which checks permissions again and audits.
The management pages first check that the viewer administers the unit (the unit's 单位系统管理员 or the
platform 系统管理员) so that an ordinary user gets a 403 page, not a form that fails on submit.

Who sees a person's mobile number in the browser (docs/org-picker.md): the person, colleagues with an
active post in the same unit, and the administrators of that unit. Everyone else sees office phones only.
"""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhengtong.accounts.permissions import administered_unit_ids, require_unit_admin
from zhengtong.core.errors import Forbidden, ServiceError

from . import services
from .forms import (
    DelegationForm,
    DepartmentForm,
    IdentityAddForm,
    PersonCreateForm,
    PersonFieldsForm,
    scope_label,
)
from .models import Delegation, Department, Identity, Person, Unit

PEOPLE_PAGE = 300  # people shown for one unit before asking to pick a department


# --- helpers ------------------------------------------------------------------------------------

class Viewer:
    """What the signed-in user may see and do in the organisation pages (computed once per request)."""

    def __init__(self, user):
        self.user = user
        self.administered = administered_unit_ids(user)  # None = every unit
        person = getattr(user, "person", None)
        self.person = person
        self.unit_ids = set(person.identities.filter(active=True).values_list("unit_id", flat=True)) \
            if person else set()

    @property
    def platform_admin(self) -> bool:
        return self.administered is None

    def manages(self, unit_id: int | None) -> bool:
        return unit_id is not None and (self.administered is None or unit_id in self.administered)

    def manages_any(self) -> bool:
        return self.administered is None or bool(self.administered)

    def sees_mobile(self, unit_id: int, person_id: int) -> bool:
        return (unit_id in self.unit_ids or self.manages(unit_id)
                or (self.person is not None and self.person.pk == person_id))


def _denied(request, message: str = "", status: int = 403):
    return render(request, "org/denied.html", {"message": message}, status=status)


def unit_admin_view(view):
    """The view's `unit` keyword is resolved from `unit_id`; only its administrators may open the page."""

    @wraps(view)
    @login_required
    def wrapped(request, unit_id: int, *args, **kwargs):
        unit = get_object_or_404(Unit, pk=unit_id)
        try:
            require_unit_admin(request.user, unit.pk)  # audits the refusal
        except Forbidden as exc:
            return _denied(request, exc.message)
        return view(request, unit, *args, **kwargs)

    return wrapped


def _browser_url(unit_id: int | None = None, **params) -> str:
    url = reverse("org:browser")
    query = "&".join(f"{k}={v}" for k, v in (("unit", unit_id), *params.items()) if v)
    return f"{url}?{query}" if query else url


def _safe_next(request, fallback: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return fallback


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _with_child_flags(units):
    return units.annotate(active_children=Count("children", filter=Q(children__active=True)))


def _tree(path: list[Unit]) -> list[dict]:
    """Top-level units, with the branch leading to the selected unit opened (the rest loads on demand)."""
    open_ids = [u.pk for u in path]

    def level(parent_id):
        units = _with_child_flags(Unit.objects.filter(parent_id=parent_id, active=True)).order_by("order", "id")
        nodes = []
        for unit in units:
            node = {"unit": unit, "has_children": unit.active_children > 0, "children": None,
                    "current": bool(open_ids) and unit.pk == open_ids[-1]}
            if unit.pk in open_ids and node["has_children"]:
                node["children"] = level(unit.pk)
            nodes.append(node)
        return nodes

    return level(None)


def _ancestors(unit: Unit) -> list[Unit]:
    chain, seen = [], set()
    current = unit
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return list(reversed(chain))


# --- the organisation browser ----------------------------------------------------------------------

@login_required
def browser(request):
    """组织机构: the tree on the left, the chosen unit's details, departments and people on the right."""
    viewer = Viewer(request.user)
    unit_id = _int(request.GET.get("unit"))
    unit = get_object_or_404(Unit.objects.select_related("region", "parent"), pk=unit_id) if unit_id else None
    if unit is None and request.GET.get("person"):
        # a person picked in the search box: open their main unit
        person = Person.objects.filter(pk=_int(request.GET.get("person"))).first()
        main = services.main_unit_id(person) if person else None
        if main:
            return redirect(_browser_url(main, person=person.pk) + f"#person-{person.pk}")
    if unit is None and not request.GET:
        # most visits look up colleagues: open on the viewer's own unit (the tree still offers every unit)
        person = getattr(request.user, "person", None)
        own = services.main_unit_id(person) if person else None
        unit = Unit.objects.select_related("region", "parent").filter(pk=own).first() if own else None
    path = _ancestors(unit) if unit else []
    context = {
        "viewer": viewer,
        "tree": _tree(path),
        "unit": unit,
        "path": path,
    }
    if unit is not None:
        context.update(_unit_details(request, viewer, unit))
    return render(request, "org/browser.html", context)


def _unit_details(request, viewer: Viewer, unit: Unit) -> dict:
    manages = viewer.manages(unit.pk)
    departments = Department.objects.filter(unit=unit)
    if not manages:  # administrators also see stopped departments
        departments = departments.filter(active=True)
    departments = list(
        departments.annotate(people=Count("identities", filter=Q(identities__active=True,
                                                                  identities__person__active=True)))
        .order_by("-active", "order", "id"))
    dept_id = _int(request.GET.get("dept"))
    current_dept = next((d for d in departments if d.pk == dept_id), None)
    identities = (Identity.objects.filter(unit=unit, active=True, person__active=True)
                  .select_related("person", "department", "duty")
                  .order_by(F("department__order").asc(nulls_first=True), F("department_id").asc(nulls_first=True),
                            "duty__rank", "order", "id"))
    total_all = identities.count()
    if current_dept is not None:
        identities = identities.filter(department=current_dept)
    total = identities.count() if current_dept is not None else total_all
    rows = []
    for identity in identities[:PEOPLE_PAGE]:
        rows.append({"identity": identity, "person": identity.person,
                     "mobile_visible": viewer.sees_mobile(unit.pk, identity.person_id),
                     "manage": manages})
    return {
        "manages": manages,
        "departments": departments,
        "current_dept": current_dept,
        "people": rows,
        "people_total": total,
        "people_total_all": total_all,
        "people_truncated": total > PEOPLE_PAGE,
        "highlight": _int(request.GET.get("person")),
        "subunits": _with_child_flags(unit.children.filter(active=True)).order_by("order", "id"),
        "mobile_note": not (viewer.manages(unit.pk) or unit.pk in viewer.unit_ids),
    }


# --- departments ------------------------------------------------------------------------------------

def _form_error(form, exc: ServiceError, fields: dict[str, tuple[str, ...]]) -> None:
    """Show a service refusal next to the field it concerns, else above the form."""
    for field, codes in fields.items():
        if exc.code in codes and field in form.fields:
            form.add_error(field, exc.message)
            return
    form.add_error(None, exc.message)


DEPARTMENT_ERRORS = {"name": ("org.duplicate_department", "org.invalid"), "parent": ("org.invalid_parent",)}


@never_cache
@unit_admin_view
@require_http_methods(["GET", "POST"])
def department_create(request, unit: Unit):
    form = DepartmentForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dept = services.create_department(request.user, unit, name=data["name"], parent=data["parent"],
                                              order=data["order"] or 0)
        except Forbidden as exc:
            return _denied(request, exc.message)
        except ServiceError as exc:
            _form_error(form, exc, DEPARTMENT_ERRORS)
        else:
            messages.success(request, f"已新增内设机构“{dept.name}”")
            return redirect(_browser_url(unit.pk))
    return render(request, "org/department_form.html", {"form": form, "unit": unit, "department": None},
                  status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def department_edit(request, department_id: int):
    dept = get_object_or_404(Department.objects.select_related("unit"), pk=department_id)
    try:
        require_unit_admin(request.user, dept.unit_id)
    except Forbidden as exc:
        return _denied(request, exc.message)
    form = DepartmentForm(request.POST or None, unit=dept.unit, department=dept,
                          initial={"name": dept.name, "parent": dept.parent_id, "order": dept.order})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_department(request.user, dept, name=data["name"], parent=data["parent"],
                                       order=data["order"] or 0)
        except Forbidden as exc:
            return _denied(request, exc.message)
        except ServiceError as exc:
            _form_error(form, exc, DEPARTMENT_ERRORS)
        else:
            messages.success(request, f"已保存内设机构“{data['name']}”")
            return redirect(_browser_url(dept.unit_id, dept=dept.pk))
    people = dept.identities.filter(active=True).count()
    return render(request, "org/department_form.html", {"form": form, "unit": dept.unit, "department": dept,
                                                        "people": people},
                  status=400 if form.errors else 200)


@login_required
@require_POST
def department_deactivate(request, department_id: int):
    dept = get_object_or_404(Department.objects.select_related("unit"), pk=department_id)
    try:
        services.deactivate_department(request.user, dept)
    except Forbidden as exc:
        return _denied(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("org:department_edit", department_id=dept.pk)
    messages.success(request, f"已停用内设机构“{dept.name}”")
    return redirect(_browser_url(dept.unit_id))


# --- people -----------------------------------------------------------------------------------------

PERSON_ERRORS = {
    "username": ("org.invalid_username", "org.username_taken"),
    "mobile": ("org.invalid_mobile",),
    "office_phone": ("org.invalid_phone",),
    "email": ("org.invalid_email",),
    "gender": ("org.invalid_gender",),
    "duty": ("org.unit_admin_reserved", "org.duty_not_found"),
    "department": ("org.department_other_unit", "org.department_inactive"),
}


@never_cache
@unit_admin_view
@require_http_methods(["GET", "POST"])
def person_create(request, unit: Unit):
    """新增人员: on success the one-time temporary password is shown on this response only."""
    viewer = Viewer(request.user)
    form = PersonCreateForm(request.POST or None, unit=unit, platform_admin=viewer.platform_admin)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person, password = services.create_person(
                request.user, unit, name=data["name"], username=data["username"], department=data["department"],
                duty=data["duty"], title=data["title"], mobile=data["mobile"], office_phone=data["office_phone"],
                email=data["email"], gender=data["gender"])
        except Forbidden as exc:
            return _denied(request, exc.message)
        except ServiceError as exc:
            _form_error(form, exc, {**PERSON_ERRORS, "name": ("org.invalid",)})
        else:
            identity = person.identities.select_related("department", "duty").first()
            return render(request, "org/person_created.html", {
                "unit": unit, "person": person, "identity": identity, "username": person.user.username,
                "password": password})
    return render(request, "org/person_form.html", {"form": form, "unit": unit, "creating": True},
                  status=400 if form.errors else 200)


def _person_page(request, person: Person, viewer: Viewer, form=None, status=200):
    identities = list(person.identities.select_related("unit", "department", "duty").order_by("-active", "-is_main", "id"))
    main_unit = services.main_unit_id(person)
    return render(request, "org/person_edit.html", {
        "person": person,
        "form": form,
        "can_edit": viewer.manages(main_unit),
        "main_unit": Unit.objects.filter(pk=main_unit).first() if main_unit else None,
        "identities": [{"identity": i, "manage": viewer.manages(i.unit_id)} for i in identities],
        "active_count": sum(1 for i in identities if i.active),
        "add_units": [u for u in {i.unit for i in identities if i.active} if viewer.manages(u.pk)],
        "back": _safe_next(request, _browser_url(main_unit)),
        "is_self": person.user_id == request.user.pk,
    }, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request, person_id: int):
    """编辑人员 and their identities (posts). Open to the administrators of any unit the person works in;
    the person's own fields only to the administrators of the main identity's unit (services)."""
    person = get_object_or_404(Person.objects.select_related("user"), pk=person_id)
    viewer = Viewer(request.user)
    unit_ids = set(person.identities.filter(active=True).values_list("unit_id", flat=True))
    unit_ids.add(services.main_unit_id(person))
    if not any(viewer.manages(uid) for uid in unit_ids):
        try:
            require_unit_admin(request.user, services.main_unit_id(person) or -1)
        except Forbidden as exc:
            return _denied(request, exc.message)
    initial = {f: getattr(person, f) for f in ("name", "gender", "mobile", "office_phone", "email")}
    form = PersonFieldsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(request.user, person, **form.cleaned_data)
        except Forbidden as exc:
            return _denied(request, exc.message)
        except ServiceError as exc:
            _form_error(form, exc, {**PERSON_ERRORS, "name": ("org.invalid",)})
        else:
            messages.success(request, f"已保存{form.cleaned_data['name']}的信息")
            return redirect("org:person_edit", person_id=person.pk)
    return _person_page(request, person, viewer, form, status=400 if form.errors else 200)


@login_required
@require_POST
def person_deactivate(request, person_id: int):
    person = get_object_or_404(Person, pk=person_id)
    main_unit = services.main_unit_id(person)
    try:
        services.deactivate_person(request.user, person)
    except Forbidden as exc:
        return _denied(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("org:person_edit", person_id=person.pk)
    messages.success(request, f"已停用{person.name}：账号不能再登录，其身份和AB岗委托均已结束")
    return redirect(_browser_url(main_unit))


# --- identities -------------------------------------------------------------------------------------

@never_cache
@unit_admin_view
@require_http_methods(["GET", "POST"])
def identity_add(request, unit: Unit):
    viewer = Viewer(request.user)
    initial = {"person": request.GET.get("person", "")}
    form = IdentityAddForm(request.POST or None, unit=unit, platform_admin=viewer.platform_admin, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            identity = services.add_identity(request.user, data["person"], unit=unit, department=data["department"],
                                             duty=data["duty"], title=data["title"], is_main=data["is_main"])
        except Forbidden as exc:
            return _denied(request, exc.message)
        except ServiceError as exc:
            _form_error(form, exc, {**PERSON_ERRORS, "person": ("org.person_inactive",)})
        else:
            messages.success(request, f"已为{identity.person.name}新增身份：{unit.name}"
                                      f"{(' · ' + identity.department.name) if identity.department else ''}"
                                      f" · {identity.title or identity.duty.name}")
            return redirect(_browser_url(unit.pk, person=identity.person_id) + f"#person-{identity.person_id}")
    return render(request, "org/identity_form.html", {"form": form, "unit": unit},
                  status=400 if form.errors else 200)


def _identity_action(request, identity_id: int, action, done: str):
    identity = get_object_or_404(Identity.objects.select_related("person", "unit", "department", "duty"),
                                 pk=identity_id)
    try:
        action(request.user, identity)
    except Forbidden as exc:
        return _denied(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        where = identity.unit.name + (f" · {identity.department.name}" if identity.department else "")
        messages.success(request, f"{done}：{identity.person.name}（{where} · {identity.title or identity.duty.name}）")
    return redirect(_safe_next(request, reverse("org:person_edit", args=[identity.person_id])))


@login_required
@require_POST
def identity_end(request, identity_id: int):
    return _identity_action(request, identity_id, services.end_identity, "已结束身份")


@login_required
@require_POST
def identity_set_main(request, identity_id: int):
    return _identity_action(request, identity_id, services.set_main_identity, "已设为主身份")


# --- AB岗 delegations -------------------------------------------------------------------------------

def _delegation_rows(queryset, now):
    current, future, past = [], [], []
    for d in queryset:
        d.scope_label = scope_label(d.scope)
        if d.revoked_at is not None or d.ends_at <= now:
            d.state = "revoked" if d.revoked_at is not None else "ended"
            past.append(d)
        elif d.starts_at > now:
            d.state = "future"
            future.append(d)
        else:
            d.state = "current"
            current.append(d)
    return current, future, past


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def delegations(request):
    """AB岗委托: my posts hand their work to a colleague's post for a scope and a time window."""
    person = getattr(request.user, "person", None)
    identities = person.identities.filter(active=True).select_related("unit", "department", "duty") \
        .order_by("-is_main", "id") if person else Identity.objects.none()
    form = DelegationForm(request.POST or None, identities=identities)
    if request.method == "POST":
        if person is None:
            return _denied(request, "管理员账号不承担业务身份（三员分立），不能设置AB岗")
        if form.is_valid():
            data = form.cleaned_data
            try:
                delegation = services.create_delegation(
                    request.user, principal=data["principal"], delegate=data["delegate"], scope=data["scope"],
                    starts_at=data["starts_at"], ends_at=data["ends_at"], reason=data["reason"])
            except ServiceError as exc:
                _form_error(form, exc, {"delegate": ("org.delegate_inactive", "org.delegate_self"),
                                        "ends_at": ("org.delegation_window",),
                                        "reason": ()})
            else:
                messages.success(request, f"已设置AB岗：{delegation.delegate.person.name}"
                                          f"将于 {timezone.localtime(delegation.starts_at):%Y-%m-%d %H:%M} 至 "
                                          f"{timezone.localtime(delegation.ends_at):%Y-%m-%d %H:%M} 代为处理"
                                          f"{scope_label(delegation.scope)}")
                return redirect("org:delegations")
    now = timezone.now()
    related = ("principal__person", "principal__unit", "principal__department", "principal__duty",
               "delegate__person", "delegate__unit", "delegate__department", "delegate__duty")
    given = Delegation.objects.none()
    received = Delegation.objects.none()
    if person is not None:
        given = Delegation.objects.filter(principal__person=person).select_related(*related).order_by("-starts_at")
        received = Delegation.objects.filter(delegate__person=person).select_related(*related).order_by("-starts_at")
    g_current, g_future, g_past = _delegation_rows(given, now)
    r_current, r_future, r_past = _delegation_rows(received, now)
    return render(request, "org/delegations.html", {
        "person": person,
        "identities": identities,
        "form": form,
        "given": {"current": g_current, "future": g_future, "past": g_past[:20]},
        "received": {"current": r_current, "future": r_future, "past": r_past[:10]},
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def delegation_revoke(request, delegation_id: int):
    delegation = get_object_or_404(Delegation.objects.select_related("principal__person", "delegate__person"),
                                   pk=delegation_id)
    try:
        services.revoke_delegation(request.user, delegation)
    except Forbidden as exc:
        return _denied(request, exc.message)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已撤销委托：{delegation.principal.person.name} → {delegation.delegate.person.name}")
    return redirect(_safe_next(request, reverse("org:delegations")))

