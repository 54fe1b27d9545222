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


def draft_for(client, title="示范市人民政府办公室关于开展节能宣传周活动的通知") -> Document:
    """bgs.keyuan drafts through the form; the document sits at 起草 in their hands."""
    login(client, "bgs.keyuan")
    unit = User.objects.get(username="jyj.sfy").person.identities.get(is_main=True).unit_id
    response = client.post("/documents/new/?direction=outgoing", {
        "direction": "outgoing", "doc_kind": "通知", "title": title, "main_recipients": str(unit),
        "body_html": "<p>现将有关事项通知如下。</p><h1>一、活动时间</h1><p>6月第二周。</p>"})
    assert response.status_code == 302
    return Document.objects.get(title=title)


def test_new_forms_offer_the_kinds_and_the_parent_bodies_as_issuing_units(client, city):
    login(client, "bgs.keyuan")
    page = client.get("/documents/new/?direction=outgoing").content.decode()
    assert ">示范市人民政府办公室</option>" in page and ">示范市人民政府</option>" in page and "联合行文" in page
    assert page.count('<option value="') >= 15 + 2  # R1.1: the 15 kinds (+ 密级 / 紧急程度 choices)
    memo = client.get("/documents/new/?direction=memo").content.decode()
    assert "拟稿：签报" in memo and 'name="issuing_unit"' not in memo
    odd = client.get("/documents/new/?direction=sideways")
    assert odd.status_code == 200 and "拟稿：发文" in odd.content.decode()


def test_r1_8_classified_draft_is_refused_with_a_message_and_the_input_kept(client, city):
    login(client, "bgs.keyuan")
    response = client.post("/documents/new/?direction=outgoing", {
        "direction": "outgoing", "doc_kind": "通知", "title": "关于某事项的通知", "classification": "秘密",
        "body_html": "<p>正文</p>"})
    page = response.content.decode()
    assert response.status_code == 200 and "R1.8" in page and "关于某事项的通知" in page
    assert not Document.objects.filter(title="关于某事项的通知").exists()


def test_the_drafter_edits_body_and_recipients_from_the_panel_and_sees_the_diff(client, city):
    document = draft_for(client)
    task = open_task(document)
    back = f"/tasks/{task.pk}/"
    panel = client.get(back).content.decode()
    assert "修改主送、抄送机关" in panel and "上传附件" in panel and 'value="edit"' in panel
    response = client.post(f"/documents/{document.pk}/act/", {
        "action": "edit", "next": back, "title": document.title, "comment": "补充活动内容",
        "body_html": "<p>现将有关事项通知如下。</p><h1>一、活动时间</h1><p>6月第三周。</p>"}, follow=True)
    assert "已保存修改" in response.content.decode()
    document.refresh_from_db()
    assert document.body_version == 2
    diff = client.get(f"/documents/{document.pk}/versions/", {"a": 1, "b": 2}).content.decode()
    assert "<ins>三</ins>" in diff and "<del>二</del>" in diff and "第 2 版" in diff
    assert client.get(f"/documents/{document.pk}/versions/", {"a": "x"}).status_code == 200
    assert client.get(f"/documents/{document.pk}/versions/", {"a": 99}).status_code == 404
    copy = User.objects.get(username="xian1.sfy").person.identities.get(is_main=True).unit_id
    main = document.recipients.get(kind="main").unit_id
    client.post(f"/documents/{document.pk}/act/", {"action": "edit", "next": back, "main_recipients": str(main),
                                                   "copy_recipients": str(copy),
                                                   "main_recipients_text": "市教育局"})
    document.refresh_from_db()
    assert list(document.recipients.filter(kind="copy").values_list("unit_id", flat=True)) == [copy]
    assert document.main_recipients_text == "市教育局"
    bad = client.post(f"/documents/{document.pk}/act/", {"action": "edit", "next": back, "main_recipients": "a,b"},
                      follow=True)
    assert bad.status_code == 200 and "所选单位无效" in bad.content.decode()


def test_attachments_upload_download_is_audited_and_readers_only(client, city):
    from zhengtong.audit.models import AuditRecord

    document = draft_for(client)
    back = f"/tasks/{open_task(document).pk}/"
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    response = client.post(f"/documents/{document.pk}/act/", {
        "action": "attach", "next": back, "title": "活动海报",
        "file": SimpleUploadedFile("海报.png", png, content_type="image/png")}, follow=True)
    assert "已上传附件" in response.content.decode(), response.content.decode()[:2000]
    item = document.attachments.get()
    download = client.get(f"/documents/{document.pk}/attachments/{item.pk}/")
    assert download.status_code == 200 and download.content == png
    assert download["Content-Disposition"].startswith("attachment;")
    assert AuditRecord.objects.filter(action="document.attachment_downloaded", object_id=str(document.pk)).exists()
    assert client.get(f"/documents/{document.pk}/attachments/{item.pk + 999}/").status_code == 404
    wrong = client.post(f"/documents/{document.pk}/act/", {
        "action": "attach", "next": back, "file": SimpleUploadedFile("病毒.exe", b"MZ", content_type="x")}, follow=True)
    assert "未完成" in wrong.content.decode() and document.attachments.count() == 1
    broken = client.post(f"/documents/{document.pk}/act/", {
        "action": "import_docx", "next": back, "file": SimpleUploadedFile("正文.docx", b"not a zip")}, follow=True)
    assert broken.status_code == 200 and "未完成" in broken.content.decode()
    login(client, "jyj.juzhang")
    assert client.get(f"/documents/{document.pk}/attachments/{item.pk}/").status_code == 404


def test_a_step_action_outside_its_step_is_refused_with_a_message(client, city):
    document = draft_for(client)
    back = f"/tasks/{open_task(document).pk}/"
    for action in ("number", "seal", "dispatch", "reply"):
        response = client.post(f"/documents/{document.pk}/act/", {"action": action, "next": back, "reply": "x"},
                               follow=True)
        assert response.status_code == 200 and "未完成" in response.content.decode(), action
    document.refresh_from_db()
    assert not document.doc_number and not document.sealed_at
    assert client.get("/documents/999999/").status_code == 404
    assert client.post("/documents/999999/act/", {"action": "number"}).status_code == 404
    assert client.get("/documents/999999/attachments/1/").status_code == 404


def test_verification_of_an_unsealed_document_says_invalid(client, city):
    document = draft_for(client)
    page = client.get(f"/documents/{document.pk}/verification/")
    assert page.status_code == 200 and "无效" in page.content.decode()


def test_search_escapes_titles_and_highlights_only_matches(client, city):
    title = "示范市人民政府办公室关于<b>节能</b>宣传的通知"
    draft_for(client, title=title)
    page = client.get("/documents/search/", {"q": "节能"}).content.decode()
    assert "<b>" not in page and "&lt;b&gt;" in page and "<mark>" in page
    login(client, "jyj.juzhang")  # not a reader
    assert "&lt;b&gt;" not in client.get("/documents/search/", {"q": "节能"}).content.decode()


def test_number_register_lists_used_and_void_numbers_for_the_clerk(client, city):
    login(client, "bgs.sfy")
    document = Document.objects.get(title=flows.GOVERNMENT_AT_NUMBER)
    back = f"/tasks/{open_task(document).pk}/"
    client.post(f"/documents/{document.pk}/act/", {"action": "number", "next": back})
    document.refresh_from_db()
    first = document.doc_number
    client.post(f"/documents/{document.pk}/act/", {"action": "void_number", "reason": "文号取错", "next": back})
    assert f"空号 {first}" in client.get(back).content.decode()  # offered again at 编号
    client.post(f"/documents/{document.pk}/act/", {"action": "number", "next": back})
    document.refresh_from_db()
    page = client.get("/documents/numbers/").content.decode()
    assert "示政发" in page and "空号" in page and "文号取错" in page and first in page
    assert document.doc_number in page and f"/documents/{document.pk}/" in page
    for query in ({"book": "nonsense"}, {"page": "abc"}, {"book": "1-x-2027", "page": "-4"}):
        assert client.get("/documents/numbers/", query).status_code == 200
    assert "文号登记簿" in client.get("/documents/?box=outgoing").content.decode()
    login(client, "bgs.keyuan")  # not a 收发员
    assert client.get("/documents/numbers/").status_code == 403
    assert "文号登记簿" not in client.get("/documents/").content.decode()


def test_the_three_administrators_have_no_number_register_or_registration(client, city):
    user = User.objects.get(username="bgs.sfy")
    AdminRoleGrant.objects.create(user=user, role=AdminRole.SECURITY)
    client.force_login(user)
    assert client.get("/documents/numbers/").status_code == 403
    assert client.get("/documents/register/").status_code == 403
    assert client.get("/documents/").content.decode().count("/documents/") >= 1  # the list renders, empty
    assert "暂无公文" in client.get("/documents/?box=outgoing").content.decode()


def test_incoming_registration_keeps_the_scan_and_rejects_bad_input(client, city):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, "jyj.sfy")
    page = client.get("/documents/register/").content.decode()
    assert "签收并登记" in page and "来文扫描件" in page
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = client.post("/documents/register/", {
        "title": "关于报送春季学期开学情况的通知", "doc_kind": "通知", "source_unit_name": "省教育厅",
        "scan": SimpleUploadedFile("来文.pdf", pdf, content_type="application/pdf")})
    assert response.status_code == 302
    document = Document.objects.get(title="关于报送春季学期开学情况的通知")
    assert document.attachments.get().role == "source"
    empty = client.post("/documents/register/", {"title": "", "doc_kind": "通知"})
    assert empty.status_code == 200 and "message-error" in empty.content.decode()
    bad_kind = client.post("/documents/register/", {"title": "某文", "doc_kind": "不是文种", "source_unit": "abc"})
    assert bad_kind.status_code == 200 and "message-error" in bad_kind.content.decode()
    assert not Document.objects.filter(title__in=["", "某文"]).exists()
