"""公文 pages on the demo city: who sees what (404 for others, the 三员 included), the step actions of the task page's
document panel, and bad input answered with a message, never a 500."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from zhengtong.accounts.models import AdminRole, AdminRoleGrant, User
from zhengtong.demo import flows
from zhengtong.documents.models import Document
from zhengtong.flow.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)


def login(client, username):
    client.force_login(User.objects.get(username=username))


def open_task(document) -> Task:
    return Task.objects.get(instance_id=document.instance_id, status="open", kind="todo")


def test_list_detail_pdf_and_search_for_a_participant(client, city):
    login(client, "bgs.keyuan")
    document = Document.objects.get(title=flows.DISPATCH_AT_REVIEW)
    page = client.get("/documents/")
    assert page.status_code == 200 and flows.DISPATCH_AT_REVIEW in page.content.decode()
    detail = client.get(f"/documents/{document.pk}/").content.decode()
    assert "一、提高思想认识，压实安全责任" in detail and "预览版式" in detail
    pdf = client.get(f"/documents/{document.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    found = client.get("/documents/search/", {"q": "元旦 安全生产"}).content.decode()
    assert "<mark>" in found and f"/documents/{document.pk}/" in found
    assert "请输入检索词" not in client.get("/documents/search/").content.decode()
    assert "没有可检索" in client.get("/documents/search/", {"q": "，，"}).content.decode()


@pytest.mark.parametrize("username", ["jyj.juzhang", "xian1.sfy"])
def test_others_get_404(client, city, username):
    login(client, username)
    document = Document.objects.get(title=flows.DISPATCH_AT_REVIEW)
    for url in ("", "pdf/", "versions/", "verification/"):
        assert client.get(f"/documents/{document.pk}/{url}").status_code == 404
    assert client.post(f"/documents/{document.pk}/act/", {"action": "number"}).status_code == 404


def test_the_three_administrators_read_no_documents(client, city):
    user = User.objects.get(username="bgs.keyuan")
    AdminRoleGrant.objects.create(user=user, role=AdminRole.AUDITOR)
    client.force_login(user)
    document = Document.objects.get(title=flows.DISPATCH_AT_REVIEW)
    assert client.get(f"/documents/{document.pk}/").status_code == 404
    assert client.get(f"/api/v1/documents/{document.pk}").status_code == 404


def test_the_clerk_numbers_seals_and_dispatches_from_the_task_page(client, city):
    login(client, "bgs.sfy")
    document = Document.objects.get(title=flows.GOVERNMENT_AT_NUMBER)
    task = open_task(document)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "取号" in page and "机关代字：示政发" in page
    back = f"/tasks/{task.pk}/"
    response = client.post(f"/documents/{document.pk}/act/", {"action": "number", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    document.refresh_from_db()
    assert document.doc_number.startswith("示政发〔")
    assert client.post(back, {"opinion": ""}).status_code == 302
    seal_task = open_task(document)
    assert "用印" in client.get(f"/tasks/{seal_task.pk}/").content.decode()
    client.post(f"/documents/{document.pk}/act/", {"action": "seal", "next": f"/tasks/{seal_task.pk}/"})
    document.refresh_from_db()
    assert document.sealed_at is not None
    client.post(f"/tasks/{seal_task.pk}/", {"opinion": ""})
    issue = open_task(document)
    client.post(f"/documents/{document.pk}/act/", {"action": "dispatch", "next": f"/tasks/{issue.pk}/"})
    document.refresh_from_db()
    assert document.dispatched_at is not None
    verification = client.get(f"/documents/{document.pk}/verification/").content.decode()
    assert "有效" in verification and "示范市人民政府" in verification


def test_bad_actions_come_back_as_messages(client, city):
    login(client, "bgs.sfy")
    document = Document.objects.get(title=flows.GOVERNMENT_AT_NUMBER)
    task = open_task(document)
    for data in ({"action": "nonsense"}, {"action": "seal"}, {"action": "dispatch"}, {"action": "void_number"},
                 {"action": "handling", "deadline": "not-a-date"}, {"action": "attach"},
                 {"action": "number", "reuse_seq": "99999"}, {"action": "remove_attachment", "attachment": "x"}):
        response = client.post(f"/documents/{document.pk}/act/", {**data, "next": f"/tasks/{task.pk}/"}, follow=True)
        assert response.status_code == 200, data
        assert "未完成" in response.content.decode(), data
    response = client.post(f"/documents/{document.pk}/act/", {"action": "number", "next": "https://evil.example/"})
    assert response["Location"] == f"/documents/{document.pk}/"  # never redirected off the site


def test_drafting_form_shows_every_rule_violation(client, city):
    login(client, "bgs.keyuan")
    units = list(User.objects.get(username="jyj.sfy").person.identities.values_list("unit_id", flat=True)) + \
        list(User.objects.get(username="xian1.sfy").person.identities.values_list("unit_id", flat=True))
    response = client.post("/documents/new/?direction=outgoing", {
        "direction": "outgoing", "doc_kind": "请示", "title": "关于增加编制的请示",
        "main_recipients": ",".join(map(str, units)), "body_html": "<p>妥否，请批示。</p>"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "R1.7" in page and "只能主送一个" in page and "关于增加编制的请示" in page  # input kept
    response = client.post("/documents/new/?direction=outgoing", {
        "direction": "outgoing", "doc_kind": "通知", "title": "示范市人民政府办公室关于开展节能宣传周活动的通知",
        "main_recipients": str(units[0]), "body_html": "<p>现将有关事项通知如下。</p><script>x</script>"})
    assert response.status_code == 302
    document = Document.objects.get(title="示范市人民政府办公室关于开展节能宣传周活动的通知")
    assert "<script>" not in document.body_html and response["Location"] == f"/tasks/{open_task(document).pk}/"


def test_incoming_registration_is_for_clerks(client, city):
    login(client, "bgs.keyuan")
    assert client.get("/documents/register/").status_code == 403
    login(client, "jyj.sfy")
    response = client.post("/documents/register/", {"title": "关于报送年度统计数据的通知", "doc_kind": "通知",
                                                    "source_unit_name": "省统计局", "source_number": "省统发〔2026〕9号"})
    assert response.status_code == 302
    document = Document.objects.get(title="关于报送年度统计数据的通知")
    assert document.receipt_number and open_task(document).node_id == "register"
