"""联合行文 (R1.2, R1.4) end to end through the public API on the demo city: 市教育局 (lead) and 市公安局 issue one 通知
jointly. The 公安局's 局长 countersigns (会签) and jyj.juzhang signs (签发); it takes the lead body's number (示教发);
jyj.sfy seals with the 市教育局's seal, then the 公安局's 收发员 adds the 市公安局's own seal at 联合用印; the final
PDF carries both seals, over both names, and verifies. A holder of one body's seal cannot put it, or use, another
body's seal: refused with a code and audited."""
from __future__ import annotations

import io

import pytest
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Forbidden, ServiceError
from zhengtong.documents import services
from zhengtong.documents.models import Document, JointIssuer
from zhengtong.documents.tests.browser_support import staff
from zhengtong.documents.tests.test_api_demo_path import act, city, identity, login  # noqa: F401
from zhengtong.flow.models import Task
from zhengtong.org.models import Unit
from zhengtong.seals import services as seal_services
from zhengtong.seals.models import UnitSeal

pytestmark = pytest.mark.django_db
TITLE = "示范市教育局 示范市公安局关于加强中小学校园及周边治安综合治理的通知"
BODY = ("为进一步加强中小学校园及周边治安综合治理，保障师生安全，现就有关事项通知如下。\n一、落实护学岗制度\n"
        "公安机关要在上学、放学时段加强校园周边巡逻防控。\n二、强化校园内部管理\n各学校要严格执行门卫登记制度。")


def todo(document_id: int, **filters) -> list[Task]:
    return list(Task.objects.filter(instance__document__pk=document_id, status="open", kind="todo", **filters)
                .select_related("assignee__person__user", "assignee__unit").order_by("id"))


def as_holder_of(client, task: Task) -> Task:
    client.force_login(task.assignee.person.user)
    return task


def denied(code: str) -> int:
    return AuditRecord.objects.filter(action="permission.denied", detail__code=code).count()


def test_r1_4_a_joint_document_is_countersigned_numbered_by_the_lead_and_sealed_by_each_issuer(client, city):  # noqa: F811
    education = Unit.objects.get(short_name="市教育局", region__level=1)
    police = Unit.objects.get(short_name="市公安局", region__level=1)
    county = Unit.objects.filter(kind="government", region__level=2).order_by("pk").first()
    drafter, police_chief = staff(education, "clerk", "安全稳定处"), staff(police, "principal")
    police_clerk = staff(police, "doc_clerk")
    education_seal, police_seal = UnitSeal.objects.get(unit=education), UnitSeal.objects.get(unit=police)
    assert set(police_seal.holders.all()) == {police_clerk} and police_clerk not in education_seal.holders.all()

    # 拟稿 with the 公安局 as the other issuing body
    client.force_login(drafter.person.user)
    response = client.post("/api/v1/documents", {
        "direction": "outgoing", "doc_kind": "通知", "title": TITLE, "body": BODY, "joint_units": [police.pk],
        "main_recipients": [county.pk], "main_recipients_text": "各县区人民政府"},
        content_type="application/json")
    assert response.status_code == 201, response.content.decode()
    doc_id = response.json()["id"]
    assert list(JointIssuer.objects.filter(document_id=doc_id).values_list("unit", "order")) == [
        (education.pk, 0), (police.pk, 1)]
    [draft] = todo(doc_id)
    act(client, draft.pk, action="submit", opinion="请审核")
    [review] = todo(doc_id)
    office_head = staff(education, "dept_head", "办公室")
    act(client, as_holder_of(client, review).pk, action="submit", opinion="同意", to_identities=[office_head.pk])

    # 会签: the 办公室 sends it to the 公安局's 局长, who countersigns and names the 签发人
    [office] = todo(doc_id)
    act(client, as_holder_of(client, office).pk, action="submit", opinion="请市公安局会签", route="countersign",
        to_identities=[police_chief.pk])
    [countersign] = todo(doc_id)
    assert (countersign.node_id, countersign.assignee) == ("countersign", police_chief)
    act(client, as_holder_of(client, countersign).pk, action="submit", opinion="同意联合印发",
        to_identities=[identity("jyj.juzhang")])
    police_issuer = JointIssuer.objects.get(document_id=doc_id, unit=police)
    assert police_issuer.signed_by == police_chief and police_issuer.signed_at is not None

    login(client, "jyj.juzhang")
    [sign] = todo(doc_id)
    act(client, sign.pk, action="submit", opinion="同意印发")
    document = Document.objects.get(pk=doc_id)
    lead_issuer = JointIssuer.objects.get(document=document, unit=education)
    assert lead_issuer.signed_by.person.user.username == "jyj.juzhang"
    assert document.issued_date == timezone.localdate(lead_issuer.signed_at)  # 成文日期: the last signature (R1.2)

    # 复核 and 编号 by the lead's 收发员: the lead body's 机关代字 (R1.2 联合行文 use the lead's number)
    login(client, "jyj.sfy")
    [recheck] = todo(doc_id)
    act(client, recheck.pk, action="submit", opinion="已复核")
    [number] = todo(doc_id)
    numbered = client.post(f"/api/v1/documents/{doc_id}/number", {}, content_type="application/json")
    assert numbered.status_code == 200, numbered.content.decode()
    doc_number = numbered.json()["doc_number"]
    assert doc_number.startswith(f"{education.doc_code}〔") and police.doc_code not in doc_number
    act(client, number.pk, action="submit")

    # 用印 by jyj.sfy: the 公安局's seal is not hers to use; her own body's seal goes on first
    [seal_step] = todo(doc_id)
    assert seal_step.node_id == "seal"
    before = denied("document.seal_not_allowed")
    refused = client.post(f"/api/v1/documents/{doc_id}/seal", {"seal": police_seal.pk}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "document.seal_not_allowed"
    assert "市公安局" in refused.json()["message"] and denied("document.seal_not_allowed") == before + 1
    sealed = client.post(f"/api/v1/documents/{doc_id}/seal", {}, content_type="application/json")
    assert sealed.status_code == 200, sealed.content.decode()
    again = client.post(f"/api/v1/documents/{doc_id}/seal", {}, content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "document.already_sealed"
    # a joint document cannot skip the other body's seal; the other body's 收发员 is chosen for 联合用印
    skipped = client.post(f"/api/v1/tasks/{seal_step.pk}/actions", {"action": "submit"},
                          content_type="application/json")
    assert skipped.status_code == 409 and skipped.json()["code"] == "document.joint_seal_required"
    assert "示范市公安局" in skipped.json()["message"]
    page = client.get(f"/tasks/{seal_step.pk}/").content.decode()
    assert "已加盖“示范市教育局”的印章" in page and "转联合用印" in page and 'name="next_handlers"' in page
    assert "为“示范市公安局”各选择一位用印人" in page
    act(client, seal_step.pk, action="submit", route="joint_seal", to_identities=[police_clerk.pk])

    # 联合用印 by the 公安局's 收发员: she reads the document, cannot submit unsealed, cannot use the 教育局's seal
    [joint_seal] = todo(doc_id)
    assert (joint_seal.node_id, joint_seal.node_name, joint_seal.assignee) == ("joint_seal", "联合用印", police_clerk)
    as_holder_of(client, joint_seal)
    assert client.get(f"/api/v1/documents/{doc_id}").json()["doc_number"] == doc_number
    panel = client.get(f"/tasks/{joint_seal.pk}/").content.decode()
    panel = panel[panel.index('class="panel doc-panel"'):panel.index('id="h-submit"')]
    assert f'<option value="{police_seal.pk}">示范市公安局</option>' in panel
    assert f'<option value="{education_seal.pk}">' not in panel
    early = client.post(f"/api/v1/tasks/{joint_seal.pk}/actions", {"action": "submit"}, content_type="application/json")
    assert early.status_code == 409 and early.json()["code"] == "document.not_sealed"
    before = denied("document.seal_not_allowed")
    wrong = client.post(f"/api/v1/documents/{doc_id}/seal", {"seal": education_seal.pk},
                        content_type="application/json")
    assert wrong.status_code == 403 and wrong.json()["code"] == "document.seal_not_allowed"
    assert denied("document.seal_not_allowed") == before + 1
    document.refresh_from_db()
    with document.sealed_pdf.open("rb") as handle:
        lead_sealed = handle.read()
    with pytest.raises(Forbidden) as exc:  # nor at the seals service, on any file
        seal_services.seal_pdf(police_clerk.person.user, education_seal, lead_sealed, page=0,
                               box=(100, 100, 200, 200), reason="越权用印", reference=f"documents.document:{doc_id}")
    assert exc.value.code == "seals.not_holder" and denied("seals.not_holder") >= 1
    joint_sealed = client.post(f"/api/v1/documents/{doc_id}/seal", {}, content_type="application/json")
    assert joint_sealed.status_code == 200, joint_sealed.content.decode()
    act(client, joint_seal.pk, action="submit", opinion="已加盖市公安局印章")

    # 核发 by the lead's 收发员, then the file: both seals, both valid, side by side over the two names
    login(client, "jyj.sfy")
    [issue] = todo(doc_id)
    assert issue.node_id == "issue"
    assert client.post(f"/api/v1/documents/{doc_id}/dispatch", {}, content_type="application/json").status_code == 200
    act(client, issue.pk, action="submit")
    document.refresh_from_db()
    assert document.status == "closed" and document.doc_number == doc_number

    verification = client.get(f"/api/v1/documents/{doc_id}/verification").json()
    assert verification["valid"] is True and verification["matches_document"] is True, verification
    assert [s["unit_name"] for s in verification["seals"]] == ["示范市教育局", "示范市公安局"]
    with document.sealed_pdf.open("rb") as handle:
        data = handle.read()
    checked = seal_services.verify_pdf(data)
    assert checked.valid and [s.seal_name for s in checked.seals] == [education_seal.name, police_seal.name]
    expected = services.render_pdf(document).seal_boxes
    assert [(box.page, box.box) for box in placed_seals(data)] == [
        (b.page, tuple(round(v) for v in b.box)) for b in expected]
    assert len(expected) == 2 and expected[0].box[2] < expected[1].box[0]  # side by side, not touching
    assert {"示范市教育局", "示范市公安局"} <= set(page_text(data, expected[0].page).split())


class Placed:
    def __init__(self, page: int, box):
        self.page, self.box = page, tuple(round(float(v)) for v in box)


def placed_seals(data: bytes) -> list[Placed]:
    """The visible signature widgets in the file, in signing order: (page, rectangle)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    found = []
    for number, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/FT") == "/Sig" or widget.get("/Parent", {}).get("/FT") == "/Sig":
                found.append(Placed(number, widget["/Rect"]))
    return found


def page_text(data: bytes, number: int) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return pdf.pages[number].extract_text() or ""


def holder(task: Task):
    return task.assignee.person.user


def joint_at_seal_step(units: list[Unit]) -> Document:
    """A 联合行文 of units[0] (lead) and the others, walked through the services to 用印 (each other body's 局长
    countersigns, jyj.juzhang signs, jyj.sfy numbers)."""
    from zhengtong.flow import services as flow_services

    lead = units[0]
    drafter = staff(lead, "clerk", "安全稳定处")
    document = services.create_document(
        drafter.person.user, direction="outgoing", doc_kind="通知", title=TITLE, body_text=BODY,
        joint_unit_ids=[u.pk for u in units[1:]],
        main_recipients=[Unit.objects.filter(kind="government", region__level=2).order_by("pk").first().pk])
    chiefs = [staff(u, "principal") for u in units[1:]]
    steps = [{"opinion": "请审核"}, {"opinion": "同意", "next_handlers": [staff(lead, "dept_head", "办公室").pk]},
             {"opinion": "请会签", "route": "countersign", "next_handlers": [c.pk for c in chiefs]}]
    steps += [{"opinion": "同意", "next_handlers": [identity("jyj.juzhang")]}] * len(chiefs)
    steps += [{"opinion": "同意印发"}, {"opinion": "已复核"}]
    for kwargs in steps:
        task = todo(document.pk)[0]
        flow_services.submit_task(holder(task), task, **kwargs)
    [number] = todo(document.pk)
    services.take_number(holder(number), document)
    flow_services.submit_task(holder(number), number)
    document.refresh_from_db()
    return document


def test_r1_4_three_bodies_each_seal_in_turn_and_every_other_body_needs_a_sealer(city):  # noqa: F811
    from zhengtong.flow import services as flow_services

    units = [Unit.objects.get(short_name=name, region__level=1) for name in ("市教育局", "市公安局", "市市场监管局")]
    document = joint_at_seal_step(units)
    [seal_step] = todo(document.pk)
    services.seal_document(holder(seal_step), document)
    clerks = [staff(u, "doc_clerk") for u in units[1:]]
    with pytest.raises(ServiceError) as exc:  # one sealer chosen for two bodies
        flow_services.submit_task(holder(seal_step), seal_step, route="joint_seal", next_handlers=[clerks[0].pk])
    assert exc.value.code == "document.joint_sealer_missing" and "示范市市场监督管理局" in exc.value.message
    flow_services.submit_task(holder(seal_step), seal_step, route="joint_seal", next_handlers=[c.pk for c in clerks])
    market_step, police_step = sorted(todo(document.pk), key=lambda t: t.assignee.unit_id != units[2].pk)
    assert {market_step.assignee, police_step.assignee} == set(clerks)
    for step in (market_step, police_step):  # out of the issuers' order: each seal still goes over its own name
        document.refresh_from_db()
        services.seal_document(holder(step), document)
        flow_services.submit_task(holder(step), step)
    document.refresh_from_db()
    [issue] = todo(document.pk)
    assert issue.node_id == "issue"
    with document.sealed_pdf.open("rb") as handle:
        data = handle.read()
    checked = seal_services.verify_pdf(data)
    assert checked.valid and [s.unit_name for s in checked.seals] == ["示范市教育局", "示范市市场监督管理局", "示范市公安局"]
    boxes = services.render_pdf(document).seal_boxes
    placed = {box: page for page, box in [(p.page, p.box) for p in placed_seals(data)]}
    assert placed == {tuple(round(v) for v in b.box): b.page for b in boxes} and len(boxes) == 3


def test_a_single_body_documents_seal_step_has_no_joint_seal(client, city):  # noqa: F811
    """用印 of a single body's document (the demo's 示政发 notice): no sealer to pick, and 联合用印 is refused."""
    from zhengtong.demo.flows import GOVERNMENT_AT_NUMBER

    document = Document.objects.get(title=GOVERNMENT_AT_NUMBER)
    sfy = login(client, "bgs.sfy")
    [number] = todo(document.pk)
    services.take_number(sfy, document)
    act(client, number.pk, action="submit")
    [seal_step] = todo(document.pk)
    page = client.get(f"/tasks/{seal_step.pk}/").content.decode()
    assert "转联合用印" in page and 'name="next_handlers"' not in page
    document.refresh_from_db()
    services.seal_document(sfy, document)
    refused = client.post(f"/api/v1/tasks/{seal_step.pk}/actions", {"action": "submit", "route": "joint_seal"},
                          content_type="application/json")
    assert refused.status_code == 400 and refused.json()["code"] == "document.not_joint"
    [issue] = act(client, seal_step.pk, action="submit")["tasks"]
    assert issue["node_id"] == "issue"
