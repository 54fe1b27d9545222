"""Reading the organisation: people and unit search by name / pinyin / initials, and the lazy tree.

Search matching (the same for people and units; `zs` and `zhangsan` both find 张三):
- Chinese (or any non-letter) text matches the name: exact, prefix, substring;
- letters match the pinyin keys kept on the row (`pinyin`: full pinyin, `initials`: first letters; both
  space-separated when a name has several readings, e.g. 曾 zeng/ceng): exact or prefix of any reading.
Ranking: exact name > name prefix > full-pinyin exact > initials exact > pinyin/initials prefix > substring;
then people by the duty of their main post (主要负责人 first) and pinyin, units by level and order.

A people search is one SQL statement (the ranked hits joined to their identities), a unit search one too,
whatever the hit count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from zhengtong.core.errors import NotFound, ServiceError

from .models import Department, Duty, Identity, Person, Unit

MAX_QUERY_LENGTH = 50
MAX_LIMIT = 50
LETTERS = re.compile(r"^[a-z]+$")
NO_RANK = 32767


@dataclass(frozen=True)
class IdentityBrief:
    id: int
    unit_id: int
    unit_name: str
    department_id: int | None
    department_name: str | None
    duty: str  # the duty's name (职责), e.g. 处室负责人
    title: str  # 职务, e.g. 副主任
    is_main: bool
    duty_code: str = ""


@dataclass(frozen=True)
class PersonHit:
    person_id: int
    name: str
    identities: list[IdentityBrief] = field(default_factory=list)


@dataclass(frozen=True)
class UnitHit:
    id: int
    name: str
    short_name: str
    kind: str
    region_name: str
    parent_id: int | None


@dataclass(frozen=True)
class UnitNode:
    id: int
    name: str
    short_name: str
    kind: str
    region_name: str
    parent_id: int | None
    has_children: bool = False


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class IdentityNode:
    id: int
    person_id: int
    name: str
    department_id: int | None
    department: str | None
    duty: str
    title: str
    is_main: bool


@dataclass
class UnitChildren:
    unit: UnitNode | None
    units: list[UnitNode]
    departments: list[DepartmentNode]
    identities: list[IdentityNode]


def normalise_query(q: str | None) -> str:
    """Trim, drop inner spaces (`zhang san`), lower-case Latin letters. Raises on empty / too long."""
    text = re.sub(r"\s+", "", q or "")
    if not text:
        raise ServiceError("request.invalid", "请输入要查找的姓名、拼音或首字母", status=422)
    if len(text) > MAX_QUERY_LENGTH:
        raise ServiceError("request.invalid", f"查询内容不能超过 {MAX_QUERY_LENGTH} 个字符", status=422)
    return text.lower() if text.isascii() else text


def _clamp(limit: int) -> int:
    return max(1, min(int(limit or 20), MAX_LIMIT))


def _any_reading(field_name: str, q: str, *, exact: bool) -> Q:
    """`q` equals (exact) or starts (prefix) one of the space-separated readings in `field_name`."""
    if exact:
        return (Q(**{field_name: q}) | Q(**{f"{field_name}__startswith": q + " "})
                | Q(**{f"{field_name}__endswith": " " + q}) | Q(**{f"{field_name}__contains": f" {q} "}))
    return Q(**{f"{field_name}__startswith": q}) | Q(**{f"{field_name}__contains": " " + q})


def _pinyin_prefix(q: str) -> Q:
    """Prefix of any reading, written so PostgreSQL can answer from indexes: the first reading by the
    `varchar_pattern_ops` indexes on pinyin/initials, the other readings (a name with a heteronym: 曾 zeng/
    ceng) only among rows that have several, by the partial index `org_person_several_readings`
    (migration 0003). Rows with one reading have no space in `pinyin`, nor in `initials`."""
    several = Q(pinyin__contains=" ") & (Q(pinyin__contains=" " + q) | Q(initials__contains=" " + q))
    return Q(pinyin__startswith=q) | Q(initials__startswith=q) | several


def _match(q: str, *, substring_fields: tuple[str, ...], pinyin_substring: bool = False) -> tuple[Q, Case]:
    """The filter and the rank expression (0 = best) for query `q`.

    Letters are matched against the pinyin keys only (names are Chinese); anything else against the names.
    """
    whens = [When(name=q, then=Value(0)), When(name__startswith=q, then=Value(1))]
    if not LETTERS.match(q):
        match = Q()
        for name in substring_fields:
            match |= Q(**{f"{name}__contains": q})
        return match, Case(*whens, default=Value(5), output_field=IntegerField())
    prefix = _pinyin_prefix(q)
    whens += [When(_any_reading("pinyin", q, exact=True), then=Value(2)),
              When(_any_reading("initials", q, exact=True), then=Value(3)),
              When(prefix, then=Value(4))]
    match = prefix
    if pinyin_substring:  # units: 'jyj' finds 示范市教育局 (sfsjyj)
        match = match | Q(pinyin__contains=q) | Q(initials__contains=q)
    return match, Case(*whens, default=Value(5), output_field=IntegerField())


# --- people ---------------------------------------------------------------------------------------------

def _like(value: str) -> str:
    """`value` for use inside a LIKE pattern: its own %, _ and \\ match literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _ids(values) -> tuple[str, list[int]]:
    ids = [int(v) for v in values]
    return ", ".join(["%s"] * len(ids)) or "NULL", ids


def search_people(q: str, *, limit: int = 20, unit_ids=None, active_only: bool = True) -> list[PersonHit]:
    """People whose name, full pinyin or initials match `q`, best first, with their (active) identities.

    Same-rank hits come leaders first: by the duty rank of the person's main post, then pinyin.
    `unit_ids` keeps people holding a post in one of those units and lists only those posts.

    Hand-written SQL, one statement: this runs on every keystroke of every picker, and building the
    equivalent ORM expression cost more than the query itself (bench/run.py, docs/PERFORMANCE.md).
    """
    q = normalise_query(q)
    person, identity = Person._meta.db_table, Identity._meta.db_table
    duty, unit, dept = Duty._meta.db_table, Unit._meta.db_table, Department._meta.db_table
    # PostgreSQL's LIKE escapes with a backslash by default; SQLite needs it said (and then cannot use
    # an index for LIKE, which it would not anyway: its LIKE is case-insensitive)
    esc = "" if connection.vendor == "postgresql" else " ESCAPE '\\'"
    lq = _like(q)
    if LETTERS.match(q):
        def exact_reading(field: str) -> str:  # q is one whole reading: 'q', 'q …', '… q', '… q …'
            return f"p.{field} = %s OR p.{field} LIKE %s{esc} OR p.{field} LIKE %s{esc} OR p.{field} LIKE %s{esc}"

        exact = [q, lq + " %", "% " + lq, "% " + lq + " %"]
        score = f"CASE WHEN {exact_reading('pinyin')} THEN 2 WHEN {exact_reading('initials')} THEN 3 ELSE 4 END"
        # the first reading by the pattern-ops indexes; the others only among rows with several readings
        # (partial index org_person_several_readings, migration 0003)
        match = (f"(p.pinyin LIKE %s{esc} OR p.initials LIKE %s{esc} OR (p.pinyin LIKE '%% %%' "
                 f"AND (p.pinyin LIKE %s{esc} OR p.initials LIKE %s{esc})))")
        params, score_params = [lq + "%", lq + "%", "% " + lq + "%", "% " + lq + "%"], exact + exact
    else:
        score = f"CASE WHEN p.name = %s THEN 0 WHEN p.name LIKE %s{esc} THEN 1 ELSE 5 END"
        match = f"p.name LIKE %s{esc}"
        params, score_params = ["%" + lq + "%"], [q, lq + "%"]
    where = [match]
    if active_only:
        where.append("p.active")
    if unit_ids is not None:
        marks, ids = _ids(unit_ids)
        where.append(f"EXISTS (SELECT 1 FROM {identity} u WHERE u.person_id = p.id AND u.unit_id IN ({marks})"
                     + (" AND u.active)" if active_only else ")"))
        params += ids
    join = ["i.person_id = h.id"]
    join_params: list[int] = []
    if active_only:
        join.append("i.active")
    if unit_ids is not None:
        marks, ids = _ids(unit_ids)
        join.append(f"i.unit_id IN ({marks})")
        join_params = ids
    # one statement: the ranked hits (CTE), then each hit's posts
    sql = (f"WITH hits AS (SELECT p.id, p.name, p.pinyin, {score} AS score, COALESCE(d.rank, {NO_RANK}) AS duty_rank "
           f"FROM {person} p LEFT JOIN {identity} m ON m.person_id = p.id AND m.is_main AND m.active "
           f"LEFT JOIN {duty} d ON d.id = m.duty_id WHERE {' AND '.join(where)} "
           f"ORDER BY score, duty_rank, p.pinyin, p.id LIMIT {_clamp(limit)}) "
           f"SELECT h.id, h.name, i.id, i.unit_id, u.name, i.department_id, dp.name, d.name, d.code, i.title, "
           f"i.is_main FROM hits h LEFT JOIN {identity} i ON {' AND '.join(join)} "
           f"LEFT JOIN {unit} u ON u.id = i.unit_id LEFT JOIN {duty} d ON d.id = i.duty_id "
           f"LEFT JOIN {dept} dp ON dp.id = i.department_id "
           f'ORDER BY h.score, h.duty_rank, h.pinyin, h.id, i.is_main DESC, d.rank, u."order", i.id')
    with connection.cursor() as cursor:
        cursor.execute(sql, score_params + params + join_params)  # in the order they appear
        rows = cursor.fetchall()
    hits: dict[int, PersonHit] = {}
    for person_id, name, pk, unit_id, unit_name, dept_id, dept_name, duty_name, duty_code, title, is_main in rows:
        hit = hits.get(person_id)
        if hit is None:
            hit = hits[person_id] = PersonHit(person_id=person_id, name=name, identities=[])
        if pk is not None:
            hit.identities.append(IdentityBrief(
                id=pk, unit_id=unit_id, unit_name=unit_name, department_id=dept_id, department_name=dept_name,
                duty=duty_name, title=title, is_main=bool(is_main), duty_code=duty_code))
    return list(hits.values())


# --- units ----------------------------------------------------------------------------------------------

def _unit_values(qs):
    return qs.values("id", "name", "short_name", "kind", "region__name", "parent_id")


def search_units(q: str, *, limit: int = 20, active_only: bool = True) -> list[UnitHit]:
    """Units by full name, short name (简称), full pinyin or initials; also pinyin substrings, so `jyj` finds
    示范市教育局. Ranked like people, then by region level (市 → 县 → 乡镇) and order."""
    q = normalise_query(q)
    match, score = _match(q, substring_fields=("name", "short_name"), pinyin_substring=True)
    short_first = Case(When(short_name=q, then=Value(0)), When(short_name__startswith=q, then=Value(1)),
                       default=Value(5), output_field=IntegerField())
    units = Unit.objects.filter(match)
    if active_only:
        units = units.filter(active=True)
    rows = _unit_values(units.annotate(score=score, short_score=short_first)
                        .order_by("score", "short_score", "region__level", "order", "id"))[:_clamp(limit)]
    return [UnitHit(id=r["id"], name=r["name"], short_name=r["short_name"], kind=r["kind"],
                    region_name=r["region__name"], parent_id=r["parent_id"]) for r in rows]


def get_unit(unit_id: int) -> Unit:
    unit = Unit.objects.select_related("region", "parent").filter(pk=unit_id).first()
    if unit is None:
        raise NotFound("org.unit_not_found", "单位不存在")
    return unit


def unit_departments(unit_id: int, *, active_only: bool = True) -> list[DepartmentNode]:
    qs = Department.objects.filter(unit_id=unit_id)
    if active_only:
        qs = qs.filter(active=True)
    return [DepartmentNode(id=pk, name=name, parent_id=parent) for pk, name, parent in
            qs.order_by("order", "id").values_list("id", "name", "parent_id")]


def unit_children(unit_id: int | None) -> UnitChildren:
    """One level of the organisation tree, for lazy loading: the unit's child units (with `has_children`),
    its departments and its active identities (people) in duty order. `None` = the top: units without parent."""
    unit = get_unit(unit_id) if unit_id is not None else None
    grandchildren = Unit.objects.filter(parent_id=OuterRef("pk"), active=True)
    units = Unit.objects.filter(parent_id=unit_id, active=True) if unit_id is not None else \
        Unit.objects.filter(parent__isnull=True, active=True)
    unit_rows = units.annotate(has_children=Exists(grandchildren)).order_by("order", "id").values(
        "id", "name", "short_name", "kind", "region__name", "parent_id", "has_children")
    children = [UnitNode(id=r["id"], name=r["name"], short_name=r["short_name"], kind=r["kind"],
                         region_name=r["region__name"], parent_id=r["parent_id"], has_children=r["has_children"])
                for r in unit_rows]
    if unit is None:
        return UnitChildren(unit=None, units=children, departments=[], identities=[])
    unit_node = UnitNode(id=unit.pk, name=unit.name, short_name=unit.short_name, kind=unit.kind,
                         region_name=unit.region.name, parent_id=unit.parent_id, has_children=bool(children))
    identities = [IdentityNode(id=r["id"], person_id=r["person_id"], name=r["person__name"],
                               department_id=r["department_id"], department=r["department__name"],
                               duty=r["duty__name"], title=r["title"], is_main=r["is_main"])
                  for r in Identity.objects.filter(unit_id=unit_id, active=True, person__active=True)
                  .order_by("duty__rank", "department__order", "order", "id")
                  .values("id", "person_id", "person__name", "department_id", "department__name", "duty__name",
                          "title", "is_main")]
    return UnitChildren(unit=unit_node, units=children, departments=unit_departments(unit_id), identities=identities)

