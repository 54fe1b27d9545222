"""The organisation pages without a browser: who sees what, who may manage (R7.1 least privilege,
R7.2 organisation is the 系统管理员's and the unit administrator's business), errors in Chinese, no 500s."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.org.models import Delegation, Department, Identity, Person, Unit
from zhengtong.org.tests.factories import (
    DelegationFactory,
    DepartmentFactory,
    IdentityFactory,
    PersonFactory,
    UnitFactory,
    duty,
    make_sysadmin,
    make_unit_admin,
)

pytestmark = pytest.mark.django_db


@dataclass
class SmallOrg:
    city: Unit
    office: Unit  # 示范市政府办公室, child of the city government
    bureau: Unit  # 示范市教育局, another unit
    secretariat: Department
    zhangsan: Identity  # 科员 in 秘书科
    lisi: Identity  # 主任 of the office, no department
    wangwu: Identity  # 科员 of the bureau
    admin: object  # the office's 单位系统管理员 (login account)


def build_small_org() -> SmallOrg:
    """A city government with its general office and the education bureau; 张三 is the one to find by `zs`."""
    city = UnitFactory(name="示范市人民政府", short_name="市政府", kind=Unit.Kind.GOVERNMENT, doc_code="示政发")
    office = UnitFactory(name="示范市人民政府办公室", short_name="市政府办", kind=Unit.Kind.GOV_DEPT, doc_code="示政办发",
                         parent=city)
    bureau = UnitFactory(name="示范市教育局", short_name="市教育局", kind=Unit.Kind.GOV_DEPT, doc_code="示教发", parent=city)
    secretariat = DepartmentFactory(unit=office, name="秘书科", order=1)
    DepartmentFactory(unit=office, name="综合科", order=2)
    zhangsan = IdentityFactory(person=PersonFactory(name="张三", mobile="13800000001", office_phone="0990-1234567",
                                                    user__username="zhangsan"),
                               department=secretariat, duty=duty("clerk"), title="科员")
    lisi = IdentityFactory(person=PersonFactory(name="李四", mobile="13800000002", user__username="lisi"), unit=office,
                           duty=duty("principal"), title="主任")
    wangwu = IdentityFactory(person=PersonFactory(name="王五", mobile="13800000003", user__username="wangwu"),
                             unit=bureau, duty=duty("clerk"), title="科员")
    admin = make_unit_admin(office, person=PersonFactory(name="赵管理", user__username="office.admin"))
    return SmallOrg(city, office, bureau, secretariat, zhangsan, lisi, wangwu, admin)


@pytest.fixture
def org() -> SmallOrg:
    return build_small_org()


def text(response) -> str:
    return html.unescape(response.content.decode())


# --- the browser --------------------------------------------------------------------------------

def test_browser_needs_login(client):
    response = client.get("/org/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_browser_opens_on_the_viewers_own_unit(client, org):
    client.force_login(org.wangwu.person.user)
    page = text(client.get("/org/"))
    assert "示范市教育局" in page and "请选择单位" not in page
    client.force_login(make_sysadmin())  # no post of their own: the top of the tree
    page = text(client.get("/org/"))
    assert "示范市人民政府" in page and "请选择单位" in page


def test_browser_shows_tree_and_unit_details(client, org):
    client.force_login(org.wangwu.person.user)
    response = client.get(f"/org/?unit={org.office.pk}")
    assert response.status_code == 200
    page = text(response)
    for fact in ("示范市人民政府办公室", "市政府办", "示政办发", org.office.credit_code, "示范市", "秘书科", "综合科",
                 "张三", "李四", "0990-1234567"):
        assert fact in page
    # the path to the unit is open in the tree: the parent's children are listed
    assert 'aria-current="page"' in page
    assert "示范市教育局" in page


def test_mobile_hidden_from_other_units_shown_to_colleagues(client, org):
    """Mobile numbers: colleagues in the same unit and its administrators see them; others do not."""
    client.force_login(org.wangwu.person.user)  # another unit
    page = text(client.get(f"/org/?unit={org.office.pk}"))
    assert "13800000001" not in page and "仅本单位可见" in page
    client.force_login(org.lisi.person.user)  # same unit
    assert "13800000001" in text(client.get(f"/org/?unit={org.office.pk}"))
    client.force_login(org.admin)
    assert "13800000001" in text(client.get(f"/org/?unit={org.office.pk}"))


def test_department_filter_and_person_highlight(client, org):
    client.force_login(org.lisi.person.user)
    page = text(client.get(f"/org/?unit={org.office.pk}&dept={org.secretariat.pk}&person={org.zhangsan.person_id}"))
    assert "人员 · 秘书科" in page
    assert "张三" in page and "李四" not in page.split("人员 · 秘书科", 1)[1]
    assert f'id="person-{org.zhangsan.person_id}" class="is-highlight"' in page


def test_person_link_opens_main_unit(client, org):
    client.force_login(org.wangwu.person.user)
    response = client.get(f"/org/?person={org.zhangsan.person_id}")
    assert response.status_code == 302
    assert f"unit={org.office.pk}" in response["Location"]


def test_unknown_unit_is_404_not_500(client, org):
    client.force_login(org.wangwu.person.user)
    assert client.get("/org/?unit=999999").status_code == 404
    assert client.get("/org/?unit=abc").status_code == 200  # ignored, top level


# --- who may manage -------------------------------------------------------------------------------

def test_r7_1_ordinary_user_sees_no_management_buttons_and_gets_403(client, org):
    client.force_login(org.zhangsan.person.user)
    page = text(client.get(f"/org/?unit={org.office.pk}"))
    assert "新增内设机构" not in page and "新增人员" not in page and ">管理<" not in page
    for url in (f"/org/units/{org.office.pk}/departments/new/", f"/org/units/{org.office.pk}/people/new/",
                f"/org/units/{org.office.pk}/identities/new/", f"/org/departments/{org.secretariat.pk}/",
                f"/org/people/{org.lisi.person_id}/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "无权访问" in text(response)
    assert AuditRecord.objects.filter(action="permission.denied", actor_id=org.zhangsan.person.user.pk).exists()
    # a forged POST is refused by the service as well
    response = client.post(f"/org/departments/{org.secretariat.pk}/deactivate/")
    assert response.status_code == 403
    assert Department.objects.get(pk=org.secretariat.pk).active


def test_r7_2_unit_admin_manages_own_unit_only(client, org):
    client.force_login(org.admin)
    page = text(client.get(f"/org/?unit={org.office.pk}"))
    assert "新增内设机构" in page and "新增人员" in page
    page = text(client.get(f"/org/?unit={org.bureau.pk}"))
    assert "新增内设机构" not in page
    assert client.get(f"/org/units/{org.bureau.pk}/departments/new/").status_code == 403
    assert client.get(f"/org/people/{org.wangwu.person_id}/").status_code == 403


def test_platform_sysadmin_manages_every_unit(client, org):
    client.force_login(make_sysadmin())
    page = text(client.get(f"/org/?unit={org.bureau.pk}"))
    assert "新增内设机构" in page and "13800000003" in page
    assert client.get(f"/org/units/{org.bureau.pk}/people/new/").status_code == 200


# --- departments ------------------------------------------------------------------------------------

def test_unit_admin_adds_edits_and_deactivates_a_department(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/units/{org.office.pk}/departments/new/", {"name": "督查科", "order": "3"})
    assert response.status_code == 302
    dept = Department.objects.get(unit=org.office, name="督查科")
    assert AuditRecord.objects.filter(action="org.department_created", object_id=str(dept.pk)).exists()
    response = client.post(f"/org/departments/{dept.pk}/", {"name": "督查室", "order": "4",
                                                             "parent": str(org.secretariat.pk)})
    assert response.status_code == 302
    dept.refresh_from_db()
    assert (dept.name, dept.parent_id, dept.order) == ("督查室", org.secretariat.pk, 4)
    response = client.post(f"/org/departments/{dept.pk}/deactivate/", follow=True)
    assert "已停用内设机构“督查室”" in text(response)
    dept.refresh_from_db()
    assert not dept.active


def test_department_errors_are_chinese_and_next_to_the_field(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/units/{org.office.pk}/departments/new/", {"name": "秘书科", "order": "0"})
    assert response.status_code == 400
    page = text(response)
    assert "本单位已有内设机构“秘书科”" in page
    assert 'id="id_name-errors"' in page
    response = client.post(f"/org/units/{org.office.pk}/departments/new/", {"name": "", "order": "-1"})
    assert response.status_code == 400
    assert "这个字段是必填项" in text(response) or "必填" in text(response)


def test_department_with_people_cannot_be_deactivated(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/departments/{org.secretariat.pk}/deactivate/", follow=True)
    assert "还有 1 名在岗人员" in text(response)
    assert Department.objects.get(pk=org.secretariat.pk).active


# --- people and identities --------------------------------------------------------------------------

def test_unit_admin_adds_a_person_and_sees_the_temporary_password_once(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/units/{org.office.pk}/people/new/", {
        "name": "钱七", "username": "qianqi", "department": str(org.secretariat.pk), "duty": str(duty("clerk").pk),
        "title": "科员", "gender": "F", "mobile": "13900000007", "office_phone": "", "email": ""})
    assert response.status_code == 200
    assert "no-store" in response.get("Cache-Control", "") or "max-age=0" in response.get("Cache-Control", "")
    page = text(response)
    password = re.search(r'<code id="temp-password">([^<]+)</code>', page).group(1)
    person = Person.objects.get(name="钱七")
    assert person.user.username == "qianqi" and person.user.check_password(password)
    assert person.user.must_change_password
    assert person.identities.get().department == org.secretariat
    # the password is not shown anywhere afterwards
    assert password not in text(client.get(f"/org/people/{person.pk}/"))
    assert password not in text(client.get(f"/org/?unit={org.office.pk}"))


def test_person_errors_are_shown_next_to_the_form(client, org):
    client.force_login(org.admin)
    form = {"name": "孙八", "username": "zhangsan", "duty": str(duty("clerk").pk), "mobile": "12345"}
    response = client.post(f"/org/units/{org.office.pk}/people/new/", form)
    assert response.status_code == 400
    assert "手机号“12345”不正确" in text(response)
    response = client.post(f"/org/units/{org.office.pk}/people/new/", {**form, "mobile": ""})
    assert response.status_code == 400
    assert "账号“zhangsan”已被使用" in text(response)
    response = client.post(f"/org/units/{org.office.pk}/people/new/", {**form, "username": "bad name!", "mobile": ""})
    assert response.status_code == 400
    assert "不合规" in text(response)
    assert not Person.objects.filter(name="孙八").exists()


def test_unit_admin_cannot_choose_the_unit_admin_duty(client, org):
    client.force_login(org.admin)
    page = text(client.get(f"/org/units/{org.office.pk}/people/new/"))
    assert "单位系统管理员" not in page.split('name="duty"', 1)[1].split("</select>", 1)[0]
    response = client.post(f"/org/units/{org.office.pk}/people/new/", {
        "name": "孙八", "username": "sunba", "duty": str(duty("unit_admin").pk)})
    assert response.status_code == 400  # not a valid choice for a unit administrator
    assert not Person.objects.filter(name="孙八").exists()


def test_edit_person_add_identity_set_main_and_end(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/people/{org.zhangsan.person_id}/", {
        "name": "张三", "gender": "M", "mobile": "13800000009", "office_phone": "0990-7654321", "email": "zs@example.cn"})
    assert response.status_code == 302
    person = Person.objects.get(pk=org.zhangsan.person_id)
    assert person.mobile == "13800000009"
    # a second post in the same unit
    response = client.get(f"/org/units/{org.office.pk}/identities/new/?person={person.pk}")
    assert 'data-label="张三"' in text(response)  # the picker's chip is filled in
    response = client.post(f"/org/units/{org.office.pk}/identities/new/", {
        "person": str(person.pk), "duty": str(duty("doc_clerk").pk), "title": "收发员"})
    assert response.status_code == 302
    second = person.identities.get(title="收发员")
    assert not second.is_main
    client.post(f"/org/identities/{second.pk}/main/")
    second.refresh_from_db()
    assert second.is_main
    response = client.post(f"/org/identities/{org.zhangsan.pk}/end/", follow=True)
    assert "已结束身份" in text(response)
    assert not Identity.objects.get(pk=org.zhangsan.pk).active
    # the last post cannot end: deactivate the person instead
    response = client.post(f"/org/identities/{second.pk}/end/", follow=True)
    assert "唯一的在岗身份" in text(response)


def test_identity_add_rejects_a_bad_picker_value(client, org):
    client.force_login(org.admin)
    for value, message in (("abc", "选择的内容无效"), ("999999", "已不存在或已停用"), ("", "请选择"),
                           (f"{org.lisi.person_id},{org.wangwu.person_id}", "只能选择一项")):
        response = client.post(f"/org/units/{org.office.pk}/identities/new/",
                               {"person": value, "duty": str(duty("clerk").pk)})
        assert response.status_code == 400, value
        assert message in text(response), value


def test_deactivate_person(client, org):
    client.force_login(org.admin)
    response = client.post(f"/org/people/{org.lisi.person_id}/deactivate/", follow=True)
    assert "已停用李四" in text(response)
    person = Person.objects.get(pk=org.lisi.person_id)
    assert not person.active and not person.user.is_active


# --- AB岗 ---------------------------------------------------------------------------------------------

def _window(hours_from_now=1, days=3):
    start = timezone.localtime() + timedelta(hours=hours_from_now)
    return start.strftime("%Y-%m-%dT%H:%M"), (start + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def test_delegation_create_list_and_revoke(client, org):
    client.force_login(org.zhangsan.person.user)
    start, end = _window()
    response = client.post("/org/delegations/", {
        "principal": str(org.zhangsan.pk), "delegate": str(org.lisi.pk), "scope": "receipt",
        "starts_at": start, "ends_at": end, "reason": "外出学习"})
    assert response.status_code == 302
    delegation = Delegation.objects.get(principal=org.zhangsan)
    assert delegation.delegate == org.lisi and delegation.scope == "receipt"
    page = text(client.get("/org/delegations/"))
    assert "未开始" in page and "收文" in page and "外出学习" in page
    # the delegate sees it under 我代理的
    client.force_login(org.lisi.person.user)
    page = text(client.get("/org/delegations/"))
    received = page.split("我代理的", 1)[1].split("新建委托", 1)[0]
    assert "张三" in received and "撤销" not in received
    # back to the principal: revoke
    client.force_login(org.zhangsan.person.user)
    response = client.post(f"/org/delegations/{delegation.pk}/revoke/", follow=True)
    assert "已撤销委托" in text(response)
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None


def test_delegation_errors_in_chinese(client, org):
    client.force_login(org.zhangsan.person.user)
    start, end = _window()
    base = {"principal": str(org.zhangsan.pk), "delegate": str(org.lisi.pk), "scope": "all",
            "starts_at": start, "ends_at": end}
    response = client.post("/org/delegations/", {**base, "ends_at": start})
    assert response.status_code == 400 and "结束时间必须晚于开始时间" in text(response)
    response = client.post("/org/delegations/", {**base, "delegate": str(org.zhangsan.pk)})
    assert response.status_code == 400 and "受托人不能是本人" in text(response)
    response = client.post("/org/delegations/", {**base, "principal": str(org.lisi.pk)})  # not my post
    assert response.status_code == 400 and "选择一个有效的选项" in text(response)
    response = client.post("/org/delegations/", {**base, "starts_at": "2026-13-45T99:00"})
    assert response.status_code == 400
    DelegationFactory(principal=org.zhangsan, delegate=org.wangwu)
    response = client.post("/org/delegations/", base)
    assert response.status_code == 400 and "该时段已委托给王五" in text(response)


def test_someone_else_cannot_revoke_my_delegation(client, org):
    delegation = DelegationFactory(principal=org.zhangsan, delegate=org.lisi)
    client.force_login(org.wangwu.person.user)
    response = client.post(f"/org/delegations/{delegation.pk}/revoke/")
    assert response.status_code == 403
    delegation.refresh_from_db()
    assert delegation.revoked_at is None


def test_admin_account_without_person_sees_explanation(client, org):
    client.force_login(make_sysadmin())
    response = client.get("/org/delegations/")
    assert response.status_code == 200
    assert "管理员账号不承担业务身份" in text(response)
    assert client.post("/org/delegations/", {}).status_code == 403


def test_profile_links_to_delegations(client, org):
    client.force_login(org.zhangsan.person.user)
    assert 'href="/org/delegations/"' in text(client.get("/accounts/profile/"))
