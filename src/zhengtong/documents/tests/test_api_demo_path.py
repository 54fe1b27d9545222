"""Issue #4 done criterion through the public API on the demo city: bgs.keyuan drafts a 示范市人民政府 通知,
bgs.zhuren reviews, fushizhang signs (R1.4), bgs.sfy numbers (R1.3), seals (R7.4) and dispatches; the sealed PDF
verifies and a tampered copy does not; jyj.sfy registers an incoming document and it runs to 办结 (R1.6); search
finds what each may read and nothing else (§6)."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from zhengtong.accounts.models import User
from zhengtong.documents.models import Dispatch, Document
from zhengtong.flow.models import Task

pytestmark = pytest.mark.django_db

TITLE = "示范市人民政府关于开展2027年全市营商环境专项评估的通知"


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)


def login(client, username: str):
    client.force_login(User.objects.get(username=username))
    return User.objects.get(username=username)


def open_task(document_id: int) -> Task:
    return Task.objects.select_related("assignee__person__user").get(
        instance__document__pk=document_id, status="open", kind="todo")


def act(client, task_id: int, **body):
    response = client.post(f"/api/v1/tasks/{task_id}/actions", body, content_type="application/json")
    assert response.status_code == 200, response.content.decode()
    return response.json()


def identity(username: str) -> int:
    """The account's main post (bgs.zhuren also holds a second post as 市政府副秘书长)."""
    return User.objects.get(username=username).person.identities.get(active=True, is_main=True).pk


def test_outgoing_path_through_the_api_for_the_demo_accounts(client, city):
    keyuan = login(client, "bgs.keyuan")
    office = keyuan.person.identities.get(is_main=True).unit
    education = Document._meta.get_field("unit").related_model.objects.get(short_name="市教育局")
    response = client.post("/api/v1/documents", {
        "direction": "outgoing", "doc_kind": "通知", "title": TITLE, "issuing_unit": office.parent_id,
        "body": "为持续优化营商环境，现就开展专项评估有关事项通知如下。\n一、评估范围\n全市各级行政机关。\n二、工作要求\n请按时报送评估材料。",
        "main_recipients": [education.pk], "copy_recipients": [], "urgency": "加急",
    }, content_type="application/json")
    assert response.status_code == 201, response.content.decode()
    created = response.json()
    doc_id = created["id"]
    draft = Task.objects.get(pk=created["task_id"])
    assert draft.node_id == "draft" and draft.assignee.person.user == keyuan

    [review] = act(client, draft.pk, action="submit", opinion="请审核")["tasks"]
    login(client, open_task(doc_id).assignee.person.user.username)  # the head of 秘书科
    act(client, review["id"], action="submit", opinion="同意", to_identities=[identity("bgs.zhuren")])
    login(client, "bgs.zhuren")
    task = open_task(doc_id)
    assert task.node_id == "office_review"
    act(client, task.pk, action="submit", opinion="请陈副市长签发", to_identities=[identity("fushizhang")])

    login(client, "fushizhang")
    sign = open_task(doc_id)
    assert sign.node_id == "sign"
    act(client, sign.pk, action="submit", opinion="同意印发")
    document = Document.objects.get(pk=doc_id)
    assert document.signer_names == [User.objects.get(username="fushizhang").person.name]
    assert document.issued_date is not None and document.sign_opinion == "同意印发"

    sfy = login(client, "bgs.sfy")
    act(client, open_task(doc_id).pk, action="submit", opinion="已复核")  # 复核
    number_task = open_task(doc_id)
    assert number_task.node_id == "number"
    numbered = client.post(f"/api/v1/documents/{doc_id}/number", {}, content_type="application/json")
    assert numbered.status_code == 200, numbered.content.decode()
    assert numbered.json()["doc_number"].startswith("示政发〔") and numbered.json()["doc_number"].endswith("号")
    act(client, number_task.pk, action="submit")
    seal_task = open_task(doc_id)
    sealed = client.post(f"/api/v1/documents/{doc_id}/seal", {}, content_type="application/json")
    assert sealed.status_code == 200, sealed.content.decode()
    act(client, seal_task.pk, action="submit")
    issue_task = open_task(doc_id)
    dispatched = client.post(f"/api/v1/documents/{doc_id}/dispatch", {}, content_type="application/json")
    assert dispatched.status_code == 200 and dispatched.json()[0]["unit_id"] == education.pk
    act(client, issue_task.pk, action="submit")
    document.refresh_from_db()
    assert document.status == "closed" and Dispatch.objects.filter(document=document).count() == 1

    verification = client.get(f"/api/v1/documents/{doc_id}/verification").json()
    assert verification["valid"] is True and verification["seals"][0]["unit_name"] == "示范市人民政府"
    pdf = client.get(f"/api/v1/documents/{doc_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # the recipient's 收发员 may read it once dispatched; someone unrelated may not
    login(client, "jyj.sfy")
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 200
    login(client, "jyj.juzhang")
    assert client.get(f"/api/v1/documents/{doc_id}").status_code == 404
    assert sfy is not None

    # §6: search finds it for those who may read it, with the match marked, and for nobody else
    for username, expected in [("bgs.keyuan", True), ("fushizhang", True), ("jyj.sfy", True), ("jyj.juzhang", False)]:
        login(client, username)
        found = client.get("/api/v1/search", {"q": "营商环境 专项评估"}).json()
        ids = [h["id"] for h in found["hits"]]
        assert (doc_id in ids) is expected, (username, found)
        if expected:
            hit = next(h for h in found["hits"] if h["id"] == doc_id)
            assert "<mark>营商环境专项评估</mark>" in hit["title_html"] and hit["doc_number"] == document.doc_number
    login(client, "bgs.keyuan")
    by_number = client.get("/api/v1/search", {"q": document.doc_number}).json()
    assert [h["id"] for h in by_number["hits"]] == [doc_id]
    assert client.get("/api/v1/search", {"q": "  "}).json()["code"] == "search.invalid_query"


def test_api_rule_violation_and_classified_refusal(client, city):
    login(client, "bgs.keyuan")
    units = list(Document._meta.get_field("unit").related_model.objects.filter(region__level=1)[:2])
    response = client.post("/api/v1/documents", {
        "direction": "outgoing", "doc_kind": "请示", "title": "示范市人民政府办公室关于增加编制的请示",
        "body": "妥否，请批示。", "main_recipients": [u.pk for u in units]}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "document.rule_violation" and response.json()["rule"] == "R1.7"
    response = client.post("/api/v1/documents", {
        "direction": "outgoing", "doc_kind": "通知", "title": "关于某事项的通知", "classification": "秘密",
        "main_recipients": [units[0].pk]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "document.classified_refused"
    assert not Document.objects.filter(title__in=["关于某事项的通知", "示范市人民政府办公室关于增加编制的请示"]).exists()
