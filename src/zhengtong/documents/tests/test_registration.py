"""收文登记 with the scan, and what an incoming document's pages offer — fixes found by test_browser_incoming: a refused
scan left the document registered (收文号 used, flow started) behind an error message; an R1.8 refusal inside the
registering transaction lost its audit record; a 收文 was offered a 版式预览 carrying the receiving unit's own 发文机关
标志 over another body's document; the 批示 and 承办 steps did not show the 拟办 decided before them."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhengtong.accounts.models import User
from zhengtong.audit.models import AuditRecord
from zhengtong.documents import services
from zhengtong.documents.models import Document
from zhengtong.documents.tests.test_files import make_ofd
from zhengtong.documents.tests.test_views import city, login, open_task  # noqa: F401
from zhengtong.flow import services as flow_services
from zhengtong.org.models import Identity

pytestmark = pytest.mark.django_db
FORM = {"title": "省教育厅关于做好2027年春季学期学校安全工作的通知", "doc_kind": "通知", "source_unit_name": "省教育厅",
        "source_number": "省教发〔2027〕3号"}


def incoming_count() -> int:
    return Document.objects.filter(direction="incoming").count()


def test_a_refused_scan_registers_nothing(client, city):  # noqa: F811
    login(client, "jyj.sfy")
    before = incoming_count()
    response = client.post("/documents/register/", {**FORM, "scan": SimpleUploadedFile("来文.txt", b"plain text")})
    page = response.content.decode()
    assert response.status_code == 200 and "不支持“.txt”文件" in page and FORM["title"] in page  # input kept
    assert incoming_count() == before and not Document.objects.filter(title=FORM["title"]).exists()
    ok = client.post("/documents/register/", {**FORM, "scan": SimpleUploadedFile("来文.pdf", b"%PDF-1.4\n%%EOF\n")})
    document = Document.objects.get(title=FORM["title"])
    assert ok.status_code == 302 and document.attachments.get().role == "source"
    assert document.receipt_seq == Document.objects.filter(unit=document.unit, direction="incoming",
                                                           receipt_year=document.receipt_year).count()  # no gap


def test_r1_8_a_marked_scan_is_refused_before_registration_and_the_refusal_is_audited(client, city):  # noqa: F811
    login(client, "jyj.sfy")
    before = incoming_count()
    scan = make_ofd([["000001", "秘密★1年", "关于某事项的通知"]])
    response = client.post("/documents/register/", {**FORM, "scan": SimpleUploadedFile("来文.ofd", scan)})
    assert response.status_code == 200 and "R1.8" in response.content.decode()
    assert incoming_count() == before
    assert AuditRecord.objects.filter(action="document.classified_refused", detail__mark="秘密★1年").exists()
    # the API's POST /documents checks its attachments before its transaction likewise
    refusals = AuditRecord.objects.filter(action="document.classified_refused").count()
    response = client.post("/api/v1/documents", {
        **{k: v for k, v in FORM.items() if k != "source_unit_name"}, "direction": "incoming",
        "source_unit_name": "省教育厅", "attachments": [{"filename": "来文.ofd",
                                                        "content_base64": base64.b64encode(scan).decode()}]},
        content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "document.classified_refused"
    assert incoming_count() == before
    assert AuditRecord.objects.filter(action="document.classified_refused").count() == refusals + 1


def test_an_incoming_document_has_no_layout_of_ours(client, city):  # noqa: F811
    login(client, "jyj.sfy")
    document = Document.objects.get(direction="incoming")
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert "版式文件" not in page and "预览版式" not in page and "登记人" in page and "行文方向" not in page
    response = client.get(f"/documents/{document.pk}/pdf/")
    assert response.status_code == 302 and response["Location"] == f"/documents/{document.pk}/"
    api = client.get(f"/api/v1/documents/{document.pk}/pdf")
    assert api.status_code == 404 and api.json()["code"] == "document.no_layout"
    task = open_task(document)
    client.force_login(task.assignee.person.user)
    assert "版式预览" not in client.get(f"/tasks/{task.pk}/").content.decode()


def test_r1_6_the_instruct_step_shows_the_handling_decided_at_propose(client, city):  # noqa: F811
    """The demo's 收文 waits at 批示 with 办件, 主办 办公室 and a deadline: the 局长 sees them on the task page."""
    document = Document.objects.get(direction="incoming")
    task = open_task(document)
    assert task.node_id == "instruct"
    client.force_login(task.assignee.person.user)
    panel = client.get(f"/tasks/{task.pk}/").content.decode()
    panel = panel[panel.index('class="panel doc-panel"'):]
    deadline = document.handling_deadline
    assert f"办件，主办：{document.lead_department.name}，时限 {deadline.month}月{deadline.day}日" in panel


def test_r1_6_assisting_departments_are_on_the_document_page(client, city):  # noqa: F811
    login(client, "jyj.sfy")
    clerk = User.objects.get(username="jyj.sfy")
    document = services.register_incoming(clerk, title="省应急厅关于开展防汛演练的通知", doc_kind="通知",
                                          source_unit_name="省应急管理厅", urgency="特急")
    flow_services.submit_task(clerk, open_task(document))
    office_head = Identity.objects.get(unit=document.unit, duty__code="dept_head", department__name="办公室")
    flow_services.submit_task(clerk, open_task(document), opinion="符合要求", next_handlers=[office_head.pk])
    lead, assist = document.unit.departments.get(name="基础教育处"), document.unit.departments.get(name="安全稳定处")
    services.set_handling(office_head.person.user, document, handling_kind="act", lead_department_id=lead.pk,
                          assisting_department_ids=[assist.pk], deadline=timezone.localdate() + timedelta(days=3))
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert "办件，主办：基础教育处，协办：安全稳定处" in page
