"""Import and export of the organisation as an .xlsx workbook (docs/org.md describes the format).

Sheets: 行政区划 (regions), 单位 (units), 内设机构 (departments), 人员 (one row per post: a person with two
posts has two rows). An exported file imports again unchanged, so the usual way to prepare an import is to
export, edit and import.

Import is all-or-nothing: every row of every sheet is checked first, against the database and the rest of the
file, and every bad row is reported with its sheet, row number and reason; nothing is written unless the
whole file is good. A good file is applied in one transaction (rows are matched by 行政区划代码, 统一社会信用代码,
单位 + 内设机构名称 and 账号; a match is updated, anything else created) and audited once with the counts.
Import never deletes or ends anything: ending posts and deactivating people stay explicit actions.

Like the demo seed, the import writes in bulk (8,000 people in seconds, one audit record) and is the other
accepted writer of the org tables besides org.services, whose field checks and permission rules it reuses:
the platform 系统管理员 may import anything; a unit's 单位系统管理员 only changes inside their own unit(s)
(rows about other units may be present if they change nothing, so a unit's export imports back cleanly).

New accounts get no password (none can be generated and handed over for thousands of people); the
系统管理员 sets a temporary one per person in the console (账号管理 → 重置密码), or people log in by USB key.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengtong.accounts.permissions import administered_unit_ids, require_authenticated
from zhengtong.audit.services import record, security_event
from zhengtong.core.errors import Forbidden, ServiceError

from . import services
from .models import Department, Duty, Identity, Person, Region, Unit

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 60_000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

REGIONS, UNITS, DEPARTMENTS, PEOPLE = "行政区划", "单位", "内设机构", "人员"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    required: bool = False  # the cell must be filled
    info: bool = False  # written on export for reading, ignored on import
    width: int = 14


SHEET_COLUMNS: dict[str, list[Column]] = {
    REGIONS: [
        Column("行政区划代码", "code", True, width=14), Column("名称", "name", True, width=16),
        Column("层级", "level", True, width=10), Column("上级区划代码", "parent", width=14),
    ],
    UNITS: [
        Column("统一社会信用代码", "credit_code", True, width=22), Column("单位全称", "name", True, width=36),
        Column("简称", "short_name", width=18), Column("单位类别", "kind", True, width=14),
        Column("行政区划代码", "region", True), Column("行政区划", "region_name", info=True),
        Column("上级单位信用代码", "parent", width=22), Column("上级单位", "parent_name", info=True, width=30),
        Column("机关代字", "doc_code", width=12), Column("排序", "order", width=8),
    ],
    DEPARTMENTS: [
        Column("单位信用代码", "unit", True, width=22), Column("单位", "unit_name", info=True, width=30),
        Column("内设机构", "name", True, width=20), Column("上级内设机构", "parent", width=20),
        Column("排序", "order", width=8),
    ],
    PEOPLE: [
        Column("账号", "username", True, width=16), Column("姓名", "name", True, width=10),
        Column("性别", "gender", width=6), Column("手机", "mobile", width=14), Column("办公电话", "office_phone"),
        Column("电子邮箱", "email", width=24), Column("单位信用代码", "unit", True, width=22),
        Column("单位", "unit_name", info=True, width=30), Column("内设机构", "department", width=16),
        Column("职责", "duty", True, width=14), Column("职务", "title", width=16), Column("主身份", "main", width=8),
    ],
}
LEVELS = {"市": 1, "县/区": 2, "县": 2, "区": 2, "乡镇/街道": 3, "乡镇": 3, "街道": 3, "乡": 3, "镇": 3,
          "1": 1, "2": 2, "3": 3}
YES = {"是", "主", "y", "yes", "true", "1", "√"}
NO = {"否", "", "n", "no", "false", "0"}


# --- results ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # the spreadsheet's row number (the header is row 1); 0 = the whole file
    message: str

    def __str__(self) -> str:
        where = f"“{self.sheet}”第 {self.row} 行" if self.row else (f"“{self.sheet}”" if self.sheet else "文件")
        return f"{where}：{self.message}"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


KINDS = {"regions": "行政区划", "units": "单位", "departments": "内设机构", "people": "人员", "identities": "身份"}


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    rows: int = 0
    new_accounts: list[str] = field(default_factory=list)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())

    def summary(self) -> list[tuple[str, Counts]]:
        return [(label, self.counts[key]) for key, label in KINDS.items()]

    def as_detail(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256, "new_accounts": len(self.new_accounts),
                **{key: vars(c) for key, c in self.counts.items()}}


# --- reading ----------------------------------------------------------------------------------------------

@dataclass
class Row:
    number: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header_key(text: str) -> str:
    return re.sub(r"[\s*＊]", "", text or "")


def read_workbook(data: bytes) -> tuple[dict[str, list[Row]], list[RowError]]:
    """The rows of each known sheet (blank rows skipped), and errors about the file's shape."""
    from openpyxl import load_workbook

    if len(data) > MAX_BYTES:
        raise ServiceError("org.import_invalid", f"文件过大（超过 {MAX_BYTES // 1024 // 1024} MB）")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ServiceError("org.import_invalid", "无法读取文件：请上传由本系统导出或按模板填写的 .xlsx 文件") from exc
    errors: list[RowError] = []
    sheets: dict[str, list[Row]] = {}
    total = 0
    try:
        for ws in book.worksheets:
            name = ws.title.strip()
            if name not in SHEET_COLUMNS:
                continue
            columns = SHEET_COLUMNS[name]
            rows = ws.iter_rows(values_only=True)
            header = next(rows, None) or ()
            positions = {_header_key(_cell_text(h)): i for i, h in enumerate(header) if _cell_text(h)}
            missing = [c.header for c in columns if c.required and c.header not in positions]
            if missing:
                errors.append(RowError(name, 1, f"缺少列：{'、'.join(missing)}"))
                continue
            found = []
            for number, cells in enumerate(rows, start=2):
                values = {c.key: _cell_text(cells[positions[c.header]])
                          for c in columns if not c.info and c.header in positions and positions[c.header] < len(cells)}
                if not any(values.values()):
                    continue
                total += 1
                if total > MAX_ROWS:
                    raise ServiceError("org.import_invalid", f"一次最多导入 {MAX_ROWS} 行")
                found.append(Row(number, values))
            sheets[name] = found
    finally:
        book.close()
    if not sheets and not errors:
        errors.append(RowError("", 0, f"文件中没有可导入的工作表（应为：{'、'.join(SHEET_COLUMNS)}）"))
    return sheets, errors


# --- checking and planning --------------------------------------------------------------------------------

class _Planner:
    """Checks every row against the database and the rest of the file; builds the list of writes."""

    def __init__(self, actor, sheets: dict[str, list[Row]], report: ImportReport):
        self.actor = actor
        self.sheets = sheets
        self.report = report
        self.allowed = administered_unit_ids(actor)  # None = platform 系统管理员
        self.regions = {r.code: r for r in Region.objects.all()}
        self.units = {u.credit_code: u for u in Unit.objects.all()}
        self.units_by_id = {u.pk: u for u in self.units.values()}
        self.depts = {(d.unit_id, d.name): d for d in Department.objects.all()}
        self.duties: dict[str, Duty] = {}
        for duty in Duty.objects.all():
            self.duties.setdefault(duty.name, duty)
            self.duties[duty.code] = duty
        # writes
        self.region_rows: dict[str, dict] = {}
        self.unit_rows: dict[str, dict] = {}
        self.dept_rows: dict[tuple[str, str], dict] = {}
        self.people: dict[str, dict] = {}

    # helpers
    def error(self, sheet: str, row: Row, message: str) -> None:
        self.report.errors.append(RowError(sheet, row.number, message))

    def platform(self) -> bool:
        return self.allowed is None

    def manages(self, unit_id: int | None) -> bool:
        return self.allowed is None or (unit_id is not None and unit_id in self.allowed)

    def check(self, sheet: str, row: Row, fn, *args):
        """Run one field check; on ServiceError record it and return None."""
        try:
            return fn(*args)
        except ServiceError as exc:
            self.error(sheet, row, exc.message)
            return None

    def text(self, sheet: str, row: Row, value: str, label: str, max_length: int, required: bool = False):
        return self.check(sheet, row, lambda: services.clean_text(value, label=label, max_length=max_length,
                                                                  required=required))

    @staticmethod
    def order_of(text: str):
        if not text:
            return 0
        if not re.fullmatch(r"\d{1,9}", text):
            raise ServiceError("org.invalid", f"排序“{text}”应为非负整数")
        return int(text)

    # sheets
    def plan_regions(self) -> None:
        rows = self.sheets.get(REGIONS, [])
        seen: dict[str, int] = {}
        for row in rows:
            code, name, level_text, parent = row["code"], row["name"], row["level"], row["parent"]
            problems = []
            if not re.fullmatch(r"\d{6,12}", code):
                problems.append(f"行政区划代码“{code}”应为 6–12 位数字")
            elif code in seen:
                problems.append(f"行政区划代码 {code} 与第 {seen[code]} 行重复")
            if not name or len(name) > 100:
                problems.append("名称不能为空，且不超过 100 个字")
            level = LEVELS.get(level_text)
            if level is None:
                problems.append(f"层级“{level_text}”不正确，应为 市、县/区 或 乡镇/街道")
            if problems:
                for p in problems:
                    self.error(REGIONS, row, p)
                continue
            seen[code] = row.number
            self.region_rows[code] = {"row": row, "name": name, "level": level, "parent": parent}
        for code, want in self.region_rows.items():
            row, level, parent = want["row"], want["level"], want["parent"]
            parent_level = self._region_level(parent) if parent else None
            if level == Region.Level.CITY and parent:
                self.error(REGIONS, row, "市级区划不能有上级区划")
            elif level > Region.Level.CITY and not parent:
                self.error(REGIONS, row, "县/区、乡镇/街道须填写上级区划代码")
            elif parent and parent_level is None:
                self.error(REGIONS, row, f"上级区划代码 {parent} 不存在")
            elif parent and parent_level != level - 1:
                self.error(REGIONS, row, "上级区划的层级不正确")
            existing = self.regions.get(code)
            if existing is not None and (existing.level != level or (existing.parent.code if existing.parent_id
                                                                     else "") != parent):
                self.error(REGIONS, row, "已有区划的层级和上级区划不能通过导入修改")
            changed = existing is None or existing.name != want["name"]
            if changed and not self.platform():
                self.error(REGIONS, row, "只有平台系统管理员可以新增或修改行政区划")
            key = "created" if existing is None else ("updated" if changed else "unchanged")
            setattr(self.report.counts["regions"], key, getattr(self.report.counts["regions"], key) + 1)
            want["state"] = key

    def _region_level(self, code: str) -> int | None:
        if code in self.region_rows:
            return self.region_rows[code]["level"]
        region = self.regions.get(code)
        return region.level if region else None

    def plan_units(self) -> None:
        rows = self.sheets.get(UNITS, [])
        seen: dict[str, int] = {}
        for row in rows:
            code = self.check(UNITS, row, services.clean_credit_code, row["credit_code"])
            if code is None:
                continue
            if code in seen:
                self.error(UNITS, row, f"统一社会信用代码 {code} 与第 {seen[code]} 行重复")
                continue
            seen[code] = row.number
            self.unit_rows[code] = {"row": row}
        for code, want in self.unit_rows.items():
            row = want["row"]
            bad = len(self.report.errors)
            want["name"] = self.text(UNITS, row, row["name"], "单位全称", 100, True)
            want["short_name"] = self.text(UNITS, row, row["short_name"], "简称", 50)
            want["doc_code"] = self.text(UNITS, row, row["doc_code"], "机关代字", 20)
            want["kind"] = self.check(UNITS, row, services.clean_kind, row["kind"])
            want["order"] = self.check(UNITS, row, self.order_of, row["order"])
            region = row["region"]
            if not region:
                self.error(UNITS, row, "行政区划代码不能为空")
            elif region not in self.regions and region not in self.region_rows:
                self.error(UNITS, row, f"行政区划代码 {region} 不存在")
            want["region"] = region
            parent = row["parent"].upper()
            if parent and parent not in self.units and parent not in self.unit_rows:
                self.error(UNITS, row, f"上级单位信用代码 {parent} 不存在")
            elif parent == code:
                self.error(UNITS, row, "上级单位不能是本单位")
            want["parent"] = parent
            want["ok"] = len(self.report.errors) == bad
        self._check_unit_tree()
        self._check_unit_names()
        for code, want in self.unit_rows.items():
            if not want["ok"]:
                continue
            row, existing = want["row"], self.units.get(code)
            changed = self._unit_changes(existing, want) if existing else None
            if existing is None:
                state = "created"
                if not self.platform():
                    self.error(UNITS, row, "只有平台系统管理员可以新增单位")
            elif changed:
                state = "updated"
                if not self.manages(existing.pk):
                    self.error(UNITS, row, "只能修改本单位的信息")
                elif not self.platform() and set(changed) - services.UNIT_ADMIN_UNIT_FIELDS:
                    labels = {"name": "单位全称", "kind": "单位类别", "region": "行政区划", "parent": "上级单位"}
                    fields = "、".join(labels.get(f, f) for f in changed if f not in services.UNIT_ADMIN_UNIT_FIELDS)
                    self.error(UNITS, row, f"{fields}只能由平台系统管理员修改")
            else:
                state = "unchanged"
            want["state"], want["changed"] = state, changed or {}
            counts = self.report.counts["units"]
            setattr(counts, state, getattr(counts, state) + 1)

    def _unit_changes(self, unit: Unit, want: dict) -> dict[str, Any]:
        current = {"name": unit.name, "short_name": unit.short_name, "doc_code": unit.doc_code, "kind": unit.kind,
                   "order": unit.order, "region": self._region_code(unit.region_id),
                   "parent": self.units_by_id[unit.parent_id].credit_code if unit.parent_id else ""}
        return {k: want[k] for k, v in current.items() if want[k] != v}

    def _region_code(self, region_id: int) -> str:
        if not hasattr(self, "_region_codes"):
            self._region_codes = {r.pk: r.code for r in self.regions.values()}
        return self._region_codes[region_id]

    def _final_parent(self, code: str) -> str:
        if code in self.unit_rows:
            return self.unit_rows[code].get("parent", "")
        unit = self.units.get(code)
        return self.units_by_id[unit.parent_id].credit_code if unit and unit.parent_id else ""

    def _check_unit_tree(self) -> None:
        for code, want in self.unit_rows.items():
            if not want["ok"] or not want["parent"]:
                continue
            seen, current = {code}, want["parent"]
            while current:
                if current in seen:
                    self.error(UNITS, want["row"], "上级单位形成循环（单位不能是自己的下级）")
                    want["ok"] = False
                    break
                seen.add(current)
                current = self._final_parent(current)

    def _check_unit_names(self) -> None:
        final: dict[tuple[str, str], str] = {}
        for unit in self.units.values():
            if unit.credit_code not in self.unit_rows:
                final[(self._region_code(unit.region_id), unit.name)] = unit.credit_code
        for code, want in self.unit_rows.items():
            if not want["ok"]:
                continue
            key = (want["region"], want["name"])
            other = final.get(key)
            if other and other != code:
                self.error(UNITS, want["row"], f"同一行政区划内已有单位“{want['name']}”（{other}）")
                want["ok"] = False
            final.setdefault(key, code)

    def _unit_id(self, code: str) -> int | None:
        unit = self.units.get(code)
        return unit.pk if unit else None

    def _unit_known(self, code: str) -> bool:
        return code in self.units or code in self.unit_rows

    def plan_departments(self) -> None:
        rows = self.sheets.get(DEPARTMENTS, [])
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            code, name = row["unit"].upper(), row["name"]
            if not code:
                self.error(DEPARTMENTS, row, "单位信用代码不能为空")
                continue
            if not self._unit_known(code):
                self.error(DEPARTMENTS, row, f"单位信用代码 {code} 不存在")
                continue
            name = self.text(DEPARTMENTS, row, name, "内设机构名称", 100, True)
            order = self.check(DEPARTMENTS, row, self.order_of, row["order"])
            if name is None or order is None:
                continue
            if (code, name) in seen:
                self.error(DEPARTMENTS, row, f"“{name}”与第 {seen[(code, name)]} 行重复")
                continue
            seen[(code, name)] = row.number
            self.dept_rows[(code, name)] = {"row": row, "name": name, "order": order, "parent": row["parent"],
                                            "unit": code}
        for key, want in self.dept_rows.items():
            code, name = key
            row, parent = want["row"], want["parent"]
            if parent and not self._dept_known(code, parent):
                self.error(DEPARTMENTS, row, f"上级内设机构“{parent}”不存在")
                continue
            if parent and self._dept_cycle(code, name, parent):
                self.error(DEPARTMENTS, row, "上级内设机构形成循环")
                continue
            existing = self.depts.get((self._unit_id(code), name))
            if existing is not None and not existing.active:
                self.error(DEPARTMENTS, row, f"内设机构“{name}”已停用，不能通过导入恢复")
                continue
            if existing is None:
                state = "created"
            else:
                old_parent = self._dept_name(existing.parent_id)
                state = "updated" if (existing.order, old_parent) != (want["order"], parent) else "unchanged"
            if state != "unchanged" and not self.manages(self._unit_id(code)):
                self.error(DEPARTMENTS, row, "只能新增或修改本单位的内设机构")
            want["state"] = state
            counts = self.report.counts["departments"]
            setattr(counts, state, getattr(counts, state) + 1)

    def _dept_cycle(self, code: str, name: str, parent: str) -> bool:
        names, current = {name}, parent
        while current:
            if current in names:
                return True
            names.add(current)
            current = self._dept_parent(code, current)
        return False

    def _dept_name(self, dept_id: int | None) -> str:
        if dept_id is None:
            return ""
        if not hasattr(self, "_dept_names"):
            self._dept_names = {d.pk: d.name for d in self.depts.values()}
        return self._dept_names.get(dept_id, "")

    def _dept_known(self, code: str, name: str) -> bool:
        if (code, name) in self.dept_rows:
            return True
        dept = self.depts.get((self._unit_id(code), name))
        return dept is not None and dept.active

    def _dept_parent(self, code: str, name: str) -> str:
        if (code, name) in self.dept_rows:
            return self.dept_rows[(code, name)]["parent"]
        dept = self.depts.get((self._unit_id(code), name))
        return self._dept_name(dept.parent_id) if dept else ""

    def plan_people(self) -> None:
        rows = self.sheets.get(PEOPLE, [])
        if not rows:
            return
        User = get_user_model()
        users = {u.username.lower(): u for u in User.objects.all().only("id", "username", "is_active")}
        persons = {p.user_id: p for p in Person.objects.filter(user__isnull=False)}
        identities: dict[int, list[Identity]] = defaultdict(list)
        for identity in Identity.objects.filter(active=True).order_by("id"):
            identities[identity.person_id].append(identity)
        by_user: dict[str, list[tuple[Row, dict]]] = defaultdict(list)
        for row in rows:
            bad = len(self.report.errors)
            username = self.check(PEOPLE, row, services.clean_username, row["username"])
            fields = {
                "name": self.text(PEOPLE, row, row["name"], "姓名", 50, True),
                "gender": self.check(PEOPLE, row, services.clean_gender, row["gender"]),
                "mobile": self.check(PEOPLE, row, services.clean_mobile, row["mobile"]),
                "office_phone": self.check(PEOPLE, row, services.clean_office_phone, row["office_phone"]),
                "email": self.check(PEOPLE, row, services.clean_email, row["email"]),
            }
            post = {"title": self.text(PEOPLE, row, row["title"], "职务", 50)}
            code = row["unit"].upper()
            if not code:
                self.error(PEOPLE, row, "单位信用代码不能为空")
            elif not self._unit_known(code):
                self.error(PEOPLE, row, f"单位信用代码 {code} 不存在")
            elif row["department"] and not self._dept_known(code, row["department"]):
                self.error(PEOPLE, row, f"内设机构“{row['department']}”在该单位不存在或已停用")
            post["unit"], post["department"] = code, row["department"]
            duty = self.duties.get(row["duty"])
            if not row["duty"]:
                self.error(PEOPLE, row, "职责不能为空")
            elif duty is None:
                self.error(PEOPLE, row, f"职责“{row['duty']}”不存在，可选：{'、'.join(self._duty_names())}")
            post["duty"] = duty
            main = row["main"].lower()
            if main not in YES | NO:
                self.error(PEOPLE, row, f"主身份“{row['main']}”应为“是”或“否”")
            post["main"] = main in YES
            if len(self.report.errors) == bad:
                by_user[username.lower()].append((row, {"fields": fields, "post": post, "username": username}))
        for key, entries in by_user.items():
            self._plan_person(key, entries, users, persons, identities)

    def _duty_names(self) -> list[str]:
        return sorted({d.name for d in self.duties.values()}, key=lambda n: n)

    def _plan_person(self, key, entries, users, persons, identities) -> None:
        first_row, first = entries[0]
        fields, username = first["fields"], first["username"]
        ok = True
        for row, entry in entries[1:]:
            differing = [label for f, label in (("name", "姓名"), ("gender", "性别"), ("mobile", "手机"),
                                                ("office_phone", "办公电话"), ("email", "电子邮箱"))
                         if entry["fields"][f] != fields[f]]
            if differing:
                self.error(PEOPLE, row, f"账号 {username} 的{'、'.join(differing)}与第 {first_row.number} 行不一致")
                ok = False
        mains = [row for row, entry in entries if entry["post"]["main"]]
        if len(mains) > 1:
            self.error(PEOPLE, mains[1], f"账号 {username} 有多行标为主身份（第 {mains[0].number} 行已是主身份）")
            ok = False
        user = users.get(key)
        person = persons.get(user.pk) if user else None
        if user is not None and person is None:
            self.error(PEOPLE, first_row, f"账号 {username} 已被管理员账号使用，不能作为人员导入")
            return
        if person is not None and (not person.active or not user.is_active):
            self.error(PEOPLE, first_row, f"账号 {username}（{person.name}）已停用，不能通过导入恢复")
            return
        if not ok:
            return
        existing = identities.get(person.pk, []) if person else []
        pool: dict[tuple[int | None, str], list[Identity]] = defaultdict(list)
        for identity in existing:
            pool[(identity.unit_id, self._dept_name(identity.department_id))].append(identity)
        posts = []
        for row, entry in entries:
            post = entry["post"]
            unit_id = self._unit_id(post["unit"])
            match = pool[(unit_id, post["department"])].pop(0) if unit_id and pool[(unit_id, post["department"])] \
                else None
            if match is None:
                state = "created"
                if not self.manages(unit_id):
                    self.error(PEOPLE, row, "只能在本单位新增人员或身份")
                    ok = False
                if post["duty"].code == Duty.UNIT_ADMIN and not self.platform():
                    self.error(PEOPLE, row, "“单位系统管理员”职责只能由平台系统管理员设置")
                    ok = False
            else:
                changed = (match.duty_id, match.title) != (post["duty"].pk, post["title"])
                state = "updated" if changed else "unchanged"
                if changed and not self.manages(unit_id):
                    self.error(PEOPLE, row, "只能修改本单位人员的身份")
                    ok = False
                if changed and post["duty"].code == Duty.UNIT_ADMIN and match.duty_id != post["duty"].pk \
                        and not self.platform():
                    self.error(PEOPLE, row, "“单位系统管理员”职责只能由平台系统管理员设置")
                    ok = False
            posts.append({**post, "row": row, "match": match, "state": state})
        # the main post: the row marked 是; else a new person's first row; else the current main stays
        marked = [p for p in posts if p["main"]]
        current_main = next((i for i in existing if i.is_main), None)
        main = marked[0] if marked else (None if current_main else posts[0])
        for post in posts:
            post["make_main"] = post is main and (post["match"] is None or not post["match"].is_main)
            if post["make_main"] and post["state"] == "unchanged":
                post["state"] = "updated"
        if person is None:
            state = "created"
        else:
            current = {f: getattr(person, f) for f in fields}
            state = "updated" if current != fields else "unchanged"
            main_unit = current_main.unit_id if current_main else (existing[0].unit_id if existing else None)
            if state == "updated" and not self.manages(main_unit):
                self.error(PEOPLE, first_row, f"{person.name}的主身份不在本单位，只能由其所在单位修改姓名、联系方式等人员信息")
                ok = False
        for post in posts:
            if post["make_main"] and post["match"] is not None and not self.manages(post["match"].unit_id):
                self.error(PEOPLE, post["row"], "只能把本单位的身份设为主身份")
                ok = False
        if not ok:
            return
        counts = self.report.counts
        setattr(counts["people"], state, getattr(counts["people"], state) + 1)
        for post in posts:
            setattr(counts["identities"], post["state"], getattr(counts["identities"], post["state"]) + 1)
        if person is None:
            self.report.new_accounts.append(username)
        self.people[key] = {"username": username, "fields": fields, "person": person, "state": state,
                            "posts": posts, "demote": current_main if main is not None and main["make_main"] else None}

    def plan(self) -> None:
        self.plan_regions()
        self.plan_units()
        self.plan_departments()
        self.plan_people()

    # --- applying ------------------------------------------------------------------------------------------
    def apply(self) -> None:
        now = timezone.now()
        # regions, by level so parents exist first
        for want in sorted(self.region_rows.values(), key=lambda w: w["level"]):
            code = want["row"]["code"]
            if want["state"] == "created":
                parent = self.regions.get(want["parent"]) if want["parent"] else None
                self.regions[code] = Region.objects.create(code=code, name=want["name"], level=want["level"],
                                                           parent=parent)
            elif want["state"] == "updated":
                Region.objects.filter(code=code).update(name=want["name"])
        # units: updates, then new units without parent, then every parent link
        updates = []
        for code, want in self.unit_rows.items():
            if want["state"] == "updated":
                unit = self.units[code]
                for f in ("name", "short_name", "doc_code", "kind", "order"):
                    setattr(unit, f, want[f])
                unit.region = self.regions[want["region"]]
                unit.refresh_pinyin()
                updates.append(unit)
        Unit.objects.bulk_update(updates, ["name", "short_name", "doc_code", "kind", "order", "region", "pinyin",
                                           "initials"], batch_size=500)
        new_units = []
        for code, want in self.unit_rows.items():
            if want["state"] == "created":
                unit = Unit(credit_code=code, name=want["name"], short_name=want["short_name"], kind=want["kind"],
                            doc_code=want["doc_code"], order=want["order"], region=self.regions[want["region"]])
                unit.refresh_pinyin()
                new_units.append(unit)
        Unit.objects.bulk_create(new_units, batch_size=500)
        for unit in new_units:
            self.units[unit.credit_code] = unit
        relink = []
        for code, want in self.unit_rows.items():
            if want["state"] in ("created", "updated"):
                unit = self.units[code]
                parent_id = self.units[want["parent"]].pk if want["parent"] else None
                if unit.parent_id != parent_id:
                    unit.parent_id = parent_id
                    relink.append(unit)
        Unit.objects.bulk_update(relink, ["parent"], batch_size=500)
        # departments, likewise
        new_depts, changed_depts = [], []
        for (code, name), want in self.dept_rows.items():
            unit = self.units[code]
            if want["state"] == "created":
                dept = Department(unit=unit, name=name, order=want["order"])
                dept.refresh_pinyin()
                new_depts.append(dept)
            elif want["state"] == "updated":
                dept = self.depts[(unit.pk, name)]
                dept.order = want["order"]
                changed_depts.append(dept)
        Department.objects.bulk_create(new_depts, batch_size=500)
        for dept in new_depts:
            self.depts[(dept.unit_id, dept.name)] = dept
        relink = []
        for (code, name), want in self.dept_rows.items():
            if want["state"] == "unchanged":
                continue
            unit_id = self.units[code].pk
            dept = self.depts[(unit_id, name)]
            parent_id = self.depts[(unit_id, want["parent"])].pk if want["parent"] else None
            if dept.parent_id != parent_id:
                dept.parent_id = parent_id
            relink.append(dept)
        Department.objects.bulk_update(relink, ["parent", "order"], batch_size=500)
        self._apply_people(now)

    def _apply_people(self, now) -> None:
        User = get_user_model()
        unusable = make_password(None)
        new_users, new_persons = [], []
        for plan in self.people.values():
            if plan["person"] is None:
                f = plan["fields"]
                user = User(username=plan["username"], last_name=f["name"], email=f["email"], password=unusable,
                            must_change_password=True)
                person = Person(user=user, **f)
                person.refresh_pinyin()
                new_users.append(user)
                new_persons.append(person)
                plan["person"] = person
        User.objects.bulk_create(new_users, batch_size=500)
        for person in new_persons:
            person.user_id = person.user.pk
        Person.objects.bulk_create(new_persons, batch_size=500)
        changed_people, changed_users = [], []
        for plan in self.people.values():
            if plan["state"] == "updated":
                person = plan["person"]
                for f, value in plan["fields"].items():
                    setattr(person, f, value)
                person.refresh_pinyin()
                changed_people.append(person)
                changed_users.append(User(pk=person.user_id, last_name=person.name, email=person.email))
        Person.objects.bulk_update(changed_people, ["name", "gender", "mobile", "office_phone", "email", "pinyin",
                                                    "initials"], batch_size=500)
        User.objects.bulk_update(changed_users, ["last_name", "email"], batch_size=500)
        new_posts, changed_posts, demote, promote = [], [], [], []
        for plan in self.people.values():
            person = plan["person"]
            if plan["demote"] is not None:
                demote.append(plan["demote"].pk)
            for post in plan["posts"]:
                unit = self.units[post["unit"]]
                dept = self.depts[(unit.pk, post["department"])] if post["department"] else None
                identity = post["match"]
                if identity is None:
                    identity = Identity(person=person, unit=unit, department=dept, duty=post["duty"],
                                        title=post["title"], is_main=False)
                    new_posts.append(identity)
                elif (identity.duty_id, identity.title) != (post["duty"].pk, post["title"]):
                    identity.duty, identity.title = post["duty"], post["title"]
                    changed_posts.append(identity)
                if post["make_main"]:
                    promote.append(identity)
        Identity.objects.bulk_create(new_posts, batch_size=500)
        Identity.objects.bulk_update(changed_posts, ["duty", "title"], batch_size=500)
        Identity.objects.filter(pk__in=demote).update(is_main=False)
        for start in range(0, len(promote), 500):
            Identity.objects.filter(pk__in=[i.pk for i in promote[start:start + 500]]).update(is_main=True)


def _require_importer(actor) -> None:
    require_authenticated(actor)
    allowed = administered_unit_ids(actor)
    if allowed is not None and not allowed:
        security_event("permission.denied", user=actor, outcome="denied", detail={"needs": "unit_admin",
                                                                                   "action": "org.import"})
        raise Forbidden("permission.denied", "只有系统管理员或单位系统管理员可以导入、导出组织机构")


def check_import(actor, data: bytes) -> ImportReport:
    """Read and check a workbook without writing anything: the errors, or what an import would do."""
    return _check(actor, data)[0]


def _check(actor, data: bytes) -> tuple[ImportReport, _Planner | None]:
    _require_importer(actor)
    report = ImportReport(sha256=hashlib.sha256(data).hexdigest())
    sheets, report.errors = read_workbook(data)
    report.rows = sum(len(rows) for rows in sheets.values())
    if report.errors:
        return report, None
    planner = _Planner(actor, sheets, report)
    planner.plan()
    report.errors.sort(key=lambda e: (list(SHEET_COLUMNS).index(e.sheet) if e.sheet in SHEET_COLUMNS else -1,
                                      e.row))
    return report, planner


def import_workbook(actor, data: bytes, *, filename: str = "") -> ImportReport:
    """导入组织机构: apply a good workbook in one transaction, audited once; a bad one raises with every error."""
    with transaction.atomic():
        report, planner = _check(actor, data)
        if not report.ok:
            raise ServiceError("org.import_invalid", f"导入失败，未作任何修改：共 {len(report.errors)} 处错误",
                               details={"errors": [str(e) for e in report.errors]})
        try:
            with transaction.atomic():
                planner.apply()
        except IntegrityError as exc:
            raise ServiceError("org.import_conflict", "导入与现有数据冲突（可能有人同时修改了组织机构），未作任何修改，"
                                                      "请重新导出后再试") from exc
        record("org.imported", user=actor, object_type="org.organisation", object_repr=filename[:200] or "组织机构导入",
               detail={**report.as_detail(), "filename": filename[:200]})
    return report


# --- export -----------------------------------------------------------------------------------------------

def _subtree(unit_ids: set[int]) -> set[int]:
    found, frontier = set(unit_ids), set(unit_ids)
    while frontier:
        frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return found


def export_workbook(actor) -> tuple[bytes, str]:
    """导出组织机构: the whole organisation (platform 系统管理员) or the subtree of the units a 单位系统管理员
    administers. Active units, departments, people and posts only. Returns the file and a suggested name."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    _require_importer(actor)
    allowed = administered_unit_ids(actor)
    units = Unit.objects.filter(active=True).select_related("region", "parent").order_by("region__level", "order",
                                                                                         "id")
    if allowed is not None:
        units = units.filter(pk__in=_subtree(allowed))
    units = list(units)
    unit_ids = {u.pk for u in units}
    region_ids = {u.region_id for u in units}
    regions = {r.pk: r for r in Region.objects.select_related("parent")}
    for rid in list(region_ids):
        while regions[rid].parent_id and regions[rid].parent_id not in region_ids:
            rid = regions[rid].parent_id
            region_ids.add(rid)
    departments = list(Department.objects.filter(unit_id__in=unit_ids, active=True).select_related("unit", "parent")
                       .order_by("unit__region__level", "unit__order", "unit_id", "order", "id"))
    identities = list(Identity.objects.filter(unit_id__in=unit_ids, active=True, person__active=True,
                                              person__user__isnull=False)
                      .select_related("person__user", "unit", "department", "duty")
                      .order_by("unit__region__level", "unit__order", "unit_id", "duty__rank", "department__order",
                                "order", "id"))

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")

    def sheet(name: str, rows):
        ws = book.create_sheet(name)
        columns = SHEET_COLUMNS[name]
        for i, column in enumerate(columns):
            ws.column_dimensions[chr(ord("A") + i)].width = column.width
        ws.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=column.header + ("*" if column.required else ""))
            cell.font, cell.fill = bold, fill
            header.append(cell)
        ws.append(header)
        for row in rows:
            ws.append(row)

    level_label = {1: "市", 2: "县/区", 3: "乡镇/街道"}
    sheet(REGIONS, ([r.code, r.name, level_label[r.level], r.parent.code if r.parent_id else ""]
                    for r in sorted((regions[i] for i in region_ids), key=lambda r: (r.level, r.code))))
    sheet(UNITS, ([u.credit_code, u.name, u.short_name, u.get_kind_display(), u.region.code, u.region.name,
                   u.parent.credit_code if u.parent_id else "", u.parent.name if u.parent_id else "", u.doc_code,
                   u.order] for u in units))
    sheet(DEPARTMENTS, ([d.unit.credit_code, d.unit.name, d.name, d.parent.name if d.parent_id else "", d.order]
                        for d in departments))
    sheet(PEOPLE, ([i.person.user.username, i.person.name, i.person.get_gender_display(), i.person.mobile,
                    i.person.office_phone, i.person.email, i.unit.credit_code, i.unit.name,
                    i.department.name if i.department_id else "", i.duty.name, i.title, "是" if i.is_main else "否"]
                   for i in identities))
    buffer = io.BytesIO()
    book.save(buffer)
    people = len({i.person_id for i in identities})
    record("org.exported", user=actor, object_type="org.organisation", object_repr="组织机构导出",
           detail={"scope": "all" if allowed is None else sorted(allowed), "units": len(units),
                   "departments": len(departments), "people": people, "identities": len(identities)})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return buffer.getvalue(), f"组织机构-{stamp}.xlsx"
