"""The import/export pages (/org/import/, /org/export/): upload → preview → confirm; access (R7.2)."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from zhengtong.audit.models import AuditRecord
from zhengtong.org import import_views, services, transfer
from zhengtong.org.credit_code import make_credit_code
from zhengtong.org.models import Person, Unit
from zhengtong.org.tests.test_transfer import NEW_CODE, new_city_file, xlsx

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "组织机构.xlsx"):
    return client.post(reverse("org:import"), {"file": SimpleUploadedFile(name, data, content_type=transfer.XLSX_TYPE)})


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    return client


def test_r7_2_ordinary_user_gets_403_and_is_audited(client, zhangsan):
    client.force_login(zhangsan.person.user)
    for url in (reverse("org:import"), reverse("org:export")):
        response = client.get(url)
        assert response.status_code == 403 and "无权访问" in response.content.decode()
    assert response.status_code == 403
    assert upload(client, new_city_file()).status_code == 403
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied").count() >= 3


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("org:import"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_page_shows_export_upload_and_format(admin_client):
    html = admin_client.get(reverse("org:import")).content.decode()
    assert "范围：全部单位" in html and reverse("org:export") in html and 'type="file"' in html
    assert "统一社会信用代码*" in html and "账号*" in html


def test_good_file_preview_then_confirm(admin_client, sysadmin, city):
    response = upload(admin_client, new_city_file())
    html = response.content.decode()
    assert response.status_code == 200 and "将新增 10 项 / 更新 0 项" in html and "确认导入" in html
    assert not Unit.objects.filter(credit_code=NEW_CODE).exists()  # nothing yet
    token = admin_client.session[import_views.SESSION_KEY]["token"]
    response = admin_client.post(reverse("org:import_confirm"), {"token": token}, follow=True)
    html = response.content.decode()
    assert "导入完成：新增 10 项，更新 0 项。新建账号 2 个" in html
    assert Unit.objects.filter(credit_code=NEW_CODE).exists() and Person.objects.filter(name="王五").exists()
    assert import_views.SESSION_KEY not in admin_client.session
    from django.core.files.storage import default_storage

    assert not default_storage.exists(import_views._stored_name(sysadmin, token))
    # the same file again: nothing to do
    assert "文件与现有数据一致，无需导入" in upload(admin_client, new_city_file()).content.decode()


def test_bad_file_lists_every_error_and_offers_no_confirm(admin_client, unit):
    data = xlsx({transfer.PEOPLE: [
        {"账号": "lisi", "姓名": "李四", "手机": "123", "单位信用代码": unit.credit_code, "职责": "科员"},
        {"账号": "wangwu", "姓名": "王五", "单位信用代码": unit.credit_code, "职责": "巫师"},
    ]})
    response = upload(admin_client, data)
    html = response.content.decode()
    assert response.status_code == 400 and "发现 2 处错误，未作任何修改" in html
    assert "手机号“123”不正确" in html and "职责“巫师”不存在" in html and "确认导入" not in html
    assert import_views.SESSION_KEY not in admin_client.session


def test_not_a_spreadsheet_and_no_file(admin_client):
    response = upload(admin_client, b"hello", "x.xlsx")
    assert response.status_code == 400 and "无法读取文件" in response.content.decode()
    response = admin_client.post(reverse("org:import"), {})
    assert response.status_code == 400 and "请选择要导入的 .xlsx 文件" in response.content.decode()


def test_confirm_with_a_stale_token(admin_client):
    response = admin_client.post(reverse("org:import_confirm"), {"token": "nope"}, follow=True)
    assert "待导入的文件已失效，请重新上传" in response.content.decode()


def test_confirm_refuses_when_the_organisation_changed_meanwhile(admin_client, sysadmin, city):
    upload(admin_client, new_city_file())
    token = admin_client.session[import_views.SESSION_KEY]["token"]
    # meanwhile someone registers 示范市审计局 under another credit code
    services.create_unit(sysadmin, name="示范市审计局", kind="gov_dept", region=city,
                         credit_code=make_credit_code("11990100MB0000077"))
    response = admin_client.post(reverse("org:import_confirm"), {"token": token})
    html = response.content.decode()
    assert response.status_code == 400 and "导入失败，未作任何修改" in html and "已有单位“示范市审计局”" in html
    assert not Unit.objects.filter(credit_code=NEW_CODE).exists()


def test_export_downloads_the_workbook(admin_client, zhangsan):
    response = admin_client.get(reverse("org:export"))
    assert response.status_code == 200 and response["Content-Type"] == transfer.XLSX_TYPE
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == [transfer.REGIONS, transfer.UNITS, transfer.DEPARTMENTS, transfer.PEOPLE]


def test_unit_admin_sees_own_scope(client, unit_admin, unit, other_unit):
    client.force_login(unit_admin)
    html = client.get(reverse("org:import")).content.decode()
    assert f"范围：{unit.name}" in html
    data = xlsx({transfer.DEPARTMENTS: [{"单位信用代码": other_unit.credit_code, "内设机构": "预算科"}]})
    assert "只能新增或修改本单位的内设机构" in upload(client, data).content.decode()
