"""Organisation import/export (.xlsx): round trip, every bad row reported, all-or-nothing, unit scope (R7.2)."""
from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook, load_workbook

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.org import transfer
from zhengtong.org.credit_code import make_credit_code
from zhengtong.org.models import Department, Duty, Identity, Person, Region, Unit
from zhengtong.org.tests.factories import DepartmentFactory, IdentityFactory, PersonFactory, UnitFactory, duty

pytestmark = pytest.mark.django_db

NEW_CODE = make_credit_code("11990100MB0000009")
NEW_TOWN_CODE = make_credit_code("11990101MB0000010")


def xlsx(sheets: dict[str, list[dict]]) -> bytes:
    """A workbook with the import headers and the given rows (by header)."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        headers = [c.header for c in transfer.SHEET_COLUMNS[name] if not c.info]
        ws.append(headers)
        for row in rows:
            ws.append([row.get(h, "") for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def edit(data: bytes, sheet: str, row: int, header: str, value) -> bytes:
    """Change one cell of an exported workbook, as a person would in a spreadsheet program."""
    book = load_workbook(io.BytesIO(data))
    ws = book[sheet]
    column = [c.value.rstrip("*") for c in ws[1]].index(header) + 1
    ws.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rows_of(data: bytes, sheet: str) -> list[dict]:
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet]
    values = list(ws.iter_rows(values_only=True))
    headers = [h.rstrip("*") for h in values[0]]
    return [dict(zip(headers, r, strict=True)) for r in values[1:]]


def new_city_file() -> bytes:
    return xlsx({
        transfer.REGIONS: [{"行政区划代码": "990101", "名称": "东湖区", "层级": "县/区", "上级区划代码": "990100"}],
        transfer.UNITS: [{"统一社会信用代码": NEW_CODE, "单位全称": "示范市审计局", "简称": "市审计局", "单位类别": "政府工作部门",
                          "行政区划代码": "990100", "机关代字": "示审", "排序": 5},
                         {"统一社会信用代码": NEW_TOWN_CODE, "单位全称": "东湖区审计局", "单位类别": "gov_dept",
                          "行政区划代码": "990101", "上级单位信用代码": NEW_CODE}],
        transfer.DEPARTMENTS: [{"单位信用代码": NEW_CODE, "内设机构": "办公室", "排序": 1},
                               {"单位信用代码": NEW_CODE, "内设机构": "文电科", "上级内设机构": "办公室", "排序": 2}],
        transfer.PEOPLE: [
            {"账号": "wangwu", "姓名": "王五", "性别": "男", "手机": 13800138000, "单位信用代码": NEW_CODE,
             "内设机构": "办公室", "职责": "处室负责人", "职务": "主任"},
            {"账号": "wangwu", "姓名": "王五", "性别": "男", "手机": 13800138000, "单位信用代码": NEW_TOWN_CODE,
             "职责": "deputy", "职务": "副局长（兼）"},
            {"账号": "zhaoliu", "姓名": "赵六", "单位信用代码": NEW_CODE, "内设机构": "文电科", "职责": "收发员",
             "职务": "收发员", "主身份": "是"},
        ],
    })


# --- creating from a file ----------------------------------------------------------------------------

def test_import_creates_regions_units_departments_people(sysadmin, city):
    report = transfer.import_workbook(sysadmin, new_city_file(), filename="新单位.xlsx")
    assert report.ok and {k: vars(c) for k, c in report.counts.items()} == {
        "regions": {"created": 1, "updated": 0, "unchanged": 0},
        "units": {"created": 2, "updated": 0, "unchanged": 0},
        "departments": {"created": 2, "updated": 0, "unchanged": 0},
        "people": {"created": 2, "updated": 0, "unchanged": 0},
        "identities": {"created": 3, "updated": 0, "unchanged": 0},
    }
    county = Unit.objects.get(credit_code=NEW_TOWN_CODE)
    assert county.parent.credit_code == NEW_CODE and county.region.parent == city
    assert Department.objects.get(name="文电科").parent.name == "办公室"
    wangwu = Person.objects.get(name="王五")
    assert "ww" in wangwu.initials.split() and wangwu.mobile == "13800138000" and wangwu.gender == "M"
    main = wangwu.identities.get(is_main=True)
    assert main.unit.credit_code == NEW_CODE and main.department.name == "办公室" and main.duty.code == Duty.DEPT_HEAD
    user = wangwu.user
    assert user.must_change_password and not user.has_usable_password()  # the 系统管理员 resets it
    assert sorted(report.new_accounts) == ["wangwu", "zhaoliu"]


def test_r7_1_import_is_audited_once_with_counts(sysadmin, city):
    before = AuditRecord.objects.count()
    transfer.import_workbook(sysadmin, new_city_file(), filename="新单位.xlsx")
    records = list(AuditRecord.objects.filter(seq__gt=before))
    assert [r.action for r in records] == ["org.imported"]
    assert records[0].detail["people"]["created"] == 2 and records[0].detail["filename"] == "新单位.xlsx"
    assert records[0].actor_id == sysadmin.pk


# --- round trip ------------------------------------------------------------------------------------------

@pytest.fixture
def small_org(city, unit, office, zhangsan, other_unit):
    child = UnitFactory(region=city, parent=unit, name="示范市教育考试院")
    DepartmentFactory(unit=unit, name="文电科", parent=office)
    IdentityFactory(person=zhangsan.person, unit=other_unit, duty=duty(Duty.DEPUTY), title="副局长（挂职）",
                    is_main=False)
    IdentityFactory(person=PersonFactory(name="曾小明", mobile="13900139000", email="zxm@example.gov.cn"),
                    unit=child, duty=duty(Duty.PRINCIPAL), title="院长")
    return child


def test_exported_file_imports_back_unchanged(sysadmin, small_org):
    data, filename = transfer.export_workbook(sysadmin)
    assert filename.endswith(".xlsx") and AuditRecord.objects.filter(action="org.exported").exists()
    report = transfer.import_workbook(sysadmin, data)
    assert report.ok and report.created == 0 and report.updated == 0
    assert report.counts["people"].unchanged == Person.objects.count()
    assert report.counts["identities"].unchanged == Identity.objects.count()


def test_export_columns_hold_the_organisation(sysadmin, small_org, zhangsan, unit):
    data, _ = transfer.export_workbook(sysadmin)
    people = rows_of(data, transfer.PEOPLE)
    rows = [r for r in people if r["姓名"] == "张三"]
    assert [(r["单位"], r["内设机构"], r["职责"], r["主身份"]) for r in rows] == [
        ("示范市教育局", "办公室", "科员", "是"), ("示范市财政局", None, "分管领导", "否")]
    units = {r["单位全称"]: r for r in rows_of(data, transfer.UNITS)}
    assert units["示范市教育考试院"]["上级单位信用代码"] == unit.credit_code
    assert units["示范市教育局"]["单位类别"] == "政府工作部门"


def test_edited_export_updates_matching_rows(sysadmin, small_org, zhangsan):
    data, _ = transfer.export_workbook(sysadmin)
    mine = {r["单位"]: i for i, r in enumerate(rows_of(data, transfer.PEOPLE), start=2) if r["姓名"] == "张三"}
    main, second = mine["示范市教育局"], mine["示范市财政局"]
    data = edit(data, transfer.PEOPLE, main, "手机", "13700137000")
    data = edit(data, transfer.PEOPLE, second, "手机", "13700137000")  # the person's fields are on each post's row
    data = edit(data, transfer.PEOPLE, main, "职务", "二级主任科员")
    data = edit(data, transfer.PEOPLE, main, "主身份", "否")
    data = edit(data, transfer.PEOPLE, second, "主身份", "是")  # 张三's post in 财政局 becomes the main one
    report = transfer.import_workbook(sysadmin, data)
    assert (report.counts["people"].updated, report.counts["identities"].updated) == (1, 2)
    zhangsan.refresh_from_db()
    assert zhangsan.person.mobile == "13700137000" and zhangsan.title == "二级主任科员" and not zhangsan.is_main
    assert zhangsan.person.identities.get(is_main=True).title == "副局长（挂职）"


# --- bad files ---------------------------------------------------------------------------------------------

def test_every_bad_row_is_reported_with_sheet_row_and_reason(sysadmin, unit, zhangsan):
    bad_code = NEW_CODE[:-1] + ("0" if NEW_CODE[-1] != "0" else "1")
    data = xlsx({
        transfer.UNITS: [
            {"统一社会信用代码": bad_code, "单位全称": "示范市审计局", "单位类别": "政府工作部门", "行政区划代码": "990100"},
            {"统一社会信用代码": NEW_CODE, "单位全称": "", "单位类别": "部委", "行政区划代码": "123456"},
        ],
        transfer.DEPARTMENTS: [{"单位信用代码": NEW_TOWN_CODE, "内设机构": "办公室"}],
        transfer.PEOPLE: [
            {"账号": "lisi", "姓名": "李四", "手机": "12345", "电子邮箱": "lisi@", "单位信用代码": unit.credit_code,
             "职责": "科员"},
            {"账号": "wangwu", "姓名": "王五", "单位信用代码": unit.credit_code, "内设机构": "不存在科", "职责": "巫师"},
            {"账号": "", "姓名": "", "单位信用代码": unit.credit_code, "职责": "科员"},
            {"账号": "zhaoliu", "姓名": "赵六", "单位信用代码": unit.credit_code, "职责": "科员", "主身份": "也许"},
            {"账号": "zhaoliu", "姓名": "赵陆", "单位信用代码": unit.credit_code, "职责": "科员"},
        ],
    })
    with pytest.raises(ServiceError) as err:
        transfer.import_workbook(sysadmin, data)
    assert err.value.code == "org.import_invalid"
    report = transfer.check_import(sysadmin, data)
    got = [(e.sheet, e.row) for e in report.errors]
    text = "\n".join(str(e) for e in report.errors)
    for expected in [("单位", 2), ("单位", 3), ("内设机构", 2), ("人员", 2), ("人员", 3), ("人员", 4), ("人员", 5)]:
        assert expected in got, (expected, text)
    for reason in ["统一社会信用代码“" + bad_code + "”校验不通过", "单位全称不能为空", "单位类别“部委”不存在",
                   "行政区划代码 123456 不存在", f"单位信用代码 {NEW_TOWN_CODE} 不存在", "手机号“12345”不正确",
                   "电子邮箱“lisi@”格式不正确", "内设机构“不存在科”在该单位不存在或已停用", "职责“巫师”不存在", "账号不能为空",
                   "主身份“也许”应为“是”或“否”"]:
        assert reason in text, reason
    assert str(report.errors[0]).startswith("“单位”第 2 行：")
    assert err.value.details["errors"] == [str(e) for e in report.errors]


def test_inconsistent_person_rows_and_duplicate_keys(sysadmin, unit, zhangsan):
    data = xlsx({
        transfer.UNITS: [{"统一社会信用代码": NEW_CODE, "单位全称": "甲局", "单位类别": "其他", "行政区划代码": "990100"},
                         {"统一社会信用代码": NEW_CODE, "单位全称": "乙局", "单位类别": "其他", "行政区划代码": "990100"}],
        transfer.PEOPLE: [
            {"账号": "zhaoliu", "姓名": "赵六", "单位信用代码": unit.credit_code, "职责": "科员", "主身份": "是"},
            {"账号": "ZhaoLiu", "姓名": "赵陆", "单位信用代码": unit.credit_code, "职责": "科员", "主身份": "是"},
        ],
    })
    text = "\n".join(str(e) for e in transfer.check_import(sysadmin, data).errors)
    assert f"“单位”第 3 行：统一社会信用代码 {NEW_CODE} 与第 2 行重复" in text
    assert "“人员”第 3 行：账号 zhaoliu 的姓名与第 2 行不一致" in text
    assert "“人员”第 3 行：账号 zhaoliu 有多行标为主身份" in text


def test_cycles_and_duplicate_unit_names_are_refused(sysadmin, unit):
    data = xlsx({
        transfer.UNITS: [
            {"统一社会信用代码": NEW_CODE, "单位全称": "甲局", "单位类别": "其他", "行政区划代码": "990100",
             "上级单位信用代码": NEW_TOWN_CODE},
            {"统一社会信用代码": NEW_TOWN_CODE, "单位全称": "乙局", "单位类别": "其他", "行政区划代码": "990100",
             "上级单位信用代码": NEW_CODE},
            {"统一社会信用代码": make_credit_code("11990100MB0000011"), "单位全称": unit.name, "单位类别": "其他",
             "行政区划代码": "990100"},
        ],
        transfer.DEPARTMENTS: [{"单位信用代码": unit.credit_code, "内设机构": "甲科", "上级内设机构": "乙科"},
                               {"单位信用代码": unit.credit_code, "内设机构": "乙科", "上级内设机构": "甲科"}],
    })
    text = "\n".join(str(e) for e in transfer.check_import(sysadmin, data).errors)
    assert "“单位”第 2 行：上级单位形成循环" in text and "“单位”第 3 行：上级单位形成循环" in text
    assert f"“单位”第 4 行：同一行政区划内已有单位“{unit.name}”" in text
    assert "“内设机构”第 2 行：上级内设机构形成循环" in text


def test_all_or_nothing_one_bad_row_applies_nothing(sysadmin, city):
    good = new_city_file()
    book = load_workbook(io.BytesIO(good))
    book[transfer.PEOPLE].append(["lisi", "李四", "", "13800138000x"])  # bad mobile, and no unit/duty
    buffer = io.BytesIO()
    book.save(buffer)
    counts = (Region.objects.count(), Unit.objects.count(), Person.objects.count(), get_user_model().objects.count())
    audit = AuditRecord.objects.count()
    with pytest.raises(ServiceError) as err:
        transfer.import_workbook(sysadmin, buffer.getvalue())
    assert any(e.startswith("“人员”第 5 行") for e in err.value.details["errors"])
    assert counts == (Region.objects.count(), Unit.objects.count(), Person.objects.count(),
                      get_user_model().objects.count())
    assert AuditRecord.objects.count() == audit


def test_existing_account_of_an_administrator_or_inactive_person(sysadmin, unit, zhangsan):
    zhangsan.person.active = False
    zhangsan.person.save()
    data = xlsx({transfer.PEOPLE: [
        {"账号": sysadmin.username, "姓名": "冒名", "单位信用代码": unit.credit_code, "职责": "科员"},
        {"账号": zhangsan.person.user.username, "姓名": "张三", "单位信用代码": unit.credit_code, "职责": "科员"},
    ]})
    text = "\n".join(str(e) for e in transfer.check_import(sysadmin, data).errors)
    assert "已被管理员账号使用" in text and "已停用，不能通过导入恢复" in text


@pytest.mark.parametrize("payload, message", [
    (b"not a spreadsheet", "无法读取文件"),
    (None, "缺少列"),
    (b"", "无法读取文件"),
])
def test_unreadable_or_malformed_files(sysadmin, payload, message):
    if payload is None:
        book = Workbook()
        book.active.title = transfer.PEOPLE
        book.active.append(["账号", "姓名"])
        buffer = io.BytesIO()
        book.save(buffer)
        payload = buffer.getvalue()
    try:
        report = transfer.check_import(sysadmin, payload)
        text = "\n".join(str(e) for e in report.errors)
    except ServiceError as exc:
        text = exc.message
    assert message in text


def test_workbook_without_known_sheets(sysadmin):
    book = Workbook()
    buffer = io.BytesIO()
    book.save(buffer)
    report = transfer.check_import(sysadmin, buffer.getvalue())
    assert "没有可导入的工作表" in str(report.errors[0])


# --- unit scope (R7.2) ---------------------------------------------------------------------------------------

def test_r7_2_ordinary_user_cannot_import_or_export(zhangsan):
    user = zhangsan.person.user
    with pytest.raises(Forbidden):
        transfer.export_workbook(user)
    with pytest.raises(Forbidden):
        transfer.check_import(user, new_city_file())


def test_r7_2_unit_admin_exports_own_subtree_and_it_imports_back(unit_admin, small_org, unit, other_unit):
    data, _ = transfer.export_workbook(unit_admin)
    names = {r["单位全称"] for r in rows_of(data, transfer.UNITS)}
    assert names == {unit.name, small_org.name}
    people = {r["姓名"] for r in rows_of(data, transfer.PEOPLE)}
    assert "曾小明" in people and all(r["单位信用代码"] != other_unit.credit_code
                                   for r in rows_of(data, transfer.PEOPLE))
    report = transfer.import_workbook(unit_admin, data)
    assert report.ok and report.created == 0 and report.updated == 0


def test_r7_2_unit_admin_changes_inside_own_unit_only(unit_admin, small_org, unit, other_unit, zhangsan):
    data = xlsx({
        transfer.UNITS: [{"统一社会信用代码": NEW_CODE, "单位全称": "示范市审计局", "单位类别": "其他",
                          "行政区划代码": "990100"},
                         {"统一社会信用代码": unit.credit_code, "单位全称": "示范市教育体育局", "简称": "市教体局",
                          "单位类别": "政府工作部门", "行政区划代码": "990100", "排序": 0}],
        transfer.DEPARTMENTS: [{"单位信用代码": other_unit.credit_code, "内设机构": "预算科"},
                               {"单位信用代码": small_org.credit_code, "内设机构": "考务科"}],
        transfer.PEOPLE: [
            {"账号": "lisi", "姓名": "李四", "单位信用代码": other_unit.credit_code, "职责": "科员"},
            {"账号": "wangwu", "姓名": "王五", "单位信用代码": unit.credit_code, "职责": "单位系统管理员"},
        ],
    })
    text = "\n".join(str(e) for e in transfer.check_import(unit_admin, data).errors)
    assert "“单位”第 2 行：只有平台系统管理员可以新增单位" in text
    assert "“单位”第 3 行：单位全称只能由平台系统管理员修改" in text
    assert "“内设机构”第 2 行：只能新增或修改本单位的内设机构" in text
    assert "“内设机构”第 3 行：只能新增或修改本单位的内设机构" in text  # a sub-unit is administered by its own admin
    assert "“人员”第 2 行：只能在本单位新增人员或身份" in text
    assert "“人员”第 3 行：“单位系统管理员”职责只能由平台系统管理员设置" in text
    good = xlsx({
        transfer.DEPARTMENTS: [{"单位信用代码": unit.credit_code, "内设机构": "基础教育科", "排序": 4}],
        transfer.PEOPLE: [{"账号": "lisi", "姓名": "李四", "单位信用代码": unit.credit_code, "内设机构": "基础教育科",
                           "职责": "科员", "职务": "一级科员"}],
    })
    report = transfer.import_workbook(unit_admin, good)
    assert (report.counts["departments"].created, report.counts["people"].created) == (1, 1)
    assert Identity.objects.get(person__name="李四").department.name == "基础教育科"
