"""公文 services: the rules on save and before 签发, 签发 records, 复核, 编号 (gapless, 空号), 终止, R1.8 refusals,
收文 registration and handling, and who may read a document."""
from __future__ import annotations

import pytest
from django.utils import timezone

from zhengtong.accounts.models import AdminRole, AdminRoleGrant
from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.documents import selectors, services
from zhengtong.documents.models import Document, NumberEntry, Status, Version
from zhengtong.documents.services.common import RuleViolation
from zhengtong.flow import services as flow_services
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import DepartmentFactory, IdentityFactory, UnitFactory, duty

from .support import draft, holder_task, setup, submit, user, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def s():
    return setup()


def test_draft_starts_the_dispatch_flow_with_a_first_version(s):
    document = draft(s)
    assert document.status == Status.DRAFT and document.instance.business_type == "dispatch"
    assert holder_task(document).node_id == "draft" and holder_task(document).assignee == s.office.drafter
    assert document.body_html.count("<h1>") == 2 and "一、提高思想认识" in document.body_text
    assert list(document.versions.values_list("number", "step")) == [(1, "起草")]
    assert AuditRecord.objects.filter(action="document.created", object_id=str(document.pk)).exists()


def test_r1_7_request_needs_exactly_one_main_recipient_and_no_subordinate_copies(s):
    with pytest.raises(RuleViolation) as exc:
        draft(s, doc_kind="请示", title=f"{s.office.unit.name}关于增加编制的请示",
              main_recipients=[r.pk for r in s.recipients], copy_recipients=[])
    assert exc.value.rule == "R1.7" and "只能主送一个" in exc.value.message
    below = UnitFactory(parent=s.office.unit)
    with pytest.raises(RuleViolation) as exc:
        draft(s, doc_kind="请示", title=f"{s.office.unit.name}关于增加编制的请示",
              main_recipients=[s.recipients[0].pk], copy_recipients=[below.pk])
    assert exc.value.rule == "R1.7" and "下级机关" in exc.value.message
    assert not Document.objects.exists()


def test_r1_3_a_badly_formed_number_is_a_rule_violation():
    from zhengtong.documents.rules import number_problem

    assert number_problem("示政办发〔2026〕12号") is None
    for bad, hint in [("示政办发[2026]12号", "六角括号"), ("示政办发〔2026〕第12号", "第"),
                      ("示政办发〔2026〕012号", "前导 0"), ("示政办发〔26〕12号", "四位")]:
        problem = number_problem(bad)
        assert problem.rule == "R1.3" and hint in problem.message, bad


def test_r1_8_classified_documents_and_marked_bodies_are_refused_and_audited(s):
    with pytest.raises(ServiceError) as exc:
        draft(s, classification="机密")
    assert exc.value.code == "document.classified_refused" and "R1.8" in exc.value.message
    with pytest.raises(ServiceError) as exc:
        draft(s, body_text="秘密★1年\n关于某项工作的安排。")
    assert exc.value.code == "document.classified_refused"
    assert not Document.objects.exists()
    assert AuditRecord.objects.filter(action="document.classified_refused", outcome="denied").count() == 2
    assert draft(s, classification="内部").classification == "内部"


def test_r1_8_a_marked_title_or_body_in_an_edit_is_refused_and_the_refusal_stays_audited(s):
    document = draft(s)
    drafter = user(s.office.drafter)
    for change in ({"title": "机密★关于某事项的通知"}, {"body": "<p>绝密★长期</p><p>内容</p>"}):
        with pytest.raises(ServiceError) as exc:
            services.update_document(drafter, document, **change)
        assert exc.value.code == "document.classified_refused"
    document.refresh_from_db()
    assert "机密" not in document.title and "绝密" not in document.body_text
    refusals = AuditRecord.objects.filter(action="document.classified_refused", object_id=str(document.pk))
    assert sorted(r.detail["where"] for r in refusals) == ["标题", "正文"]


def test_editing_is_limited_to_the_step_that_allows_it_and_each_change_is_a_version(s):
    document = draft(s)
    services.update_document(user(s.office.drafter), document, body=document.body_html + "<p>补充一段。</p>",
                             comment="补充")
    review = walk(s, document, "dept_review")
    with pytest.raises(Forbidden) as exc:  # the drafter no longer holds a step
        services.update_document(user(s.office.drafter), document, body="<p>改</p>")
    assert exc.value.code == "document.not_editable"
    with pytest.raises(Forbidden):  # 处室核稿 may change the body, not the recipients
        services.update_document(user(review.assignee), document, main_recipients=[s.recipients[1].pk])
    services.update_document(user(review.assignee), document, body="<p>科长修改后的正文。</p>")
    versions = list(Version.objects.filter(document=document).values_list("number", "step", "author"))
    assert versions == [(1, "起草", s.office.drafter.pk), (2, "起草", s.office.drafter.pk),
                        (3, "处室核稿", s.office.dept_head.pk)]


def test_r1_4_signing_records_opinion_name_and_date_and_r1_5_a_later_substantive_change_goes_back(s):
    document = draft(s)
    sign = walk(s, document, "sign")
    assert sign.assignee == s.office.deputy
    services.update_document(user(sign.assignee), document, body=document.body_html + "<p>领导加的一句。</p>")
    submit(sign, opinion="同意印发")
    document.refresh_from_db()
    assert document.status == Status.SIGNED and document.signer_names == [s.office.deputy.person.name]
    # the 成文日期 is the local (北京) date of 签发: after 16:00 UTC that is already the next day
    assert document.sign_opinion == "同意印发" and document.issued_date == timezone.localdate(document.signed_at)
    assert document.signed_version == 2
    recheck = holder_task(document)
    assert recheck.node_id == "recheck"
    # 复核 changes a word of the signed text: it may not pass it on, only back to the signer
    document = services.update_document(user(recheck.assignee), document,
                                        body=document.body_html.replace("重要性", "必要性"), comment="复核修改")
    assert document.body_version == 3
    with pytest.raises(RuleViolation) as exc:
        submit(recheck)
    assert exc.value.rule == "R1.5"
    [back] = submit(recheck, route="back_to_signer", next_handlers=[s.office.deputy.pk])
    assert back.node_id == "sign" and back.assignee == s.office.deputy


def test_numbering_is_gapless_and_a_void_number_is_reused(s):
    first, second, third = draft(s), draft(s), draft(s)
    for document in (first, second):
        task = walk(s, document, "number")
        services.take_number(user(task.assignee), document)
        document.refresh_from_db()
    year = first.doc_year
    assert (first.doc_number, second.doc_number) == (f"测发〔{year}〕1号", f"测发〔{year}〕2号")
    clerk = user(s.office.doc_clerk)
    with pytest.raises(Conflict):
        services.take_number(clerk, first)
    services.void_number(clerk, first, reason="文字有误，重新编号")
    entry = NumberEntry.objects.get(seq=1)
    assert entry.status == NumberEntry.Status.VOID and entry.document is None
    walk(s, third, "number")
    services.take_number(clerk, third, reuse_seq=1)
    third.refresh_from_db()
    assert third.doc_number.endswith("〕1号") and NumberEntry.objects.get(seq=1).status == "used"
    services.take_number(clerk, first)
    first.refresh_from_db()
    assert first.doc_number.endswith("〕3号")  # the next one: no gap, no duplicate


def test_the_number_step_cannot_be_submitted_without_a_number(s):
    document = draft(s)
    task = walk(s, document, "number")
    with pytest.raises(Conflict) as exc:
        submit(task)
    assert exc.value.code == "document.not_numbered"


def test_only_the_holder_of_the_number_step_takes_a_number(s):
    document = draft(s)
    walk(s, document, "number")
    with pytest.raises(Forbidden) as exc:
        services.take_number(user(s.office.drafter), document)
    assert exc.value.code == "document.not_editable"


def test_terminating_a_numbered_document_leaves_its_number_as_void(s):
    document = draft(s)
    task = walk(s, document, "number")
    services.take_number(user(task.assignee), document)
    admin = IdentityFactory(unit=s.office.unit, duty=duty(Duty.UNIT_ADMIN))
    flow_services.terminate_instance(user(admin), document.instance, reason="会议取消，不再发文")
    document.refresh_from_db()
    assert document.status == Status.TERMINATED and document.doc_number == ""
    assert NumberEntry.objects.get().status == NumberEntry.Status.VOID


def test_r1_6_incoming_registration_handling_and_reply(s):
    o = s.office
    with pytest.raises(Forbidden):
        services.register_incoming(user(o.drafter), title="关于报送材料的通知", doc_kind="通知",
                                   source_unit_name="市发改委")
    document = services.register_incoming(user(o.doc_clerk), title="关于报送年度材料的通知", doc_kind="通知",
                                          source_unit_name="市发改委", source_number="示发改发〔2026〕3号",
                                          urgency="加急", body_text="请于月底前报送。")
    assert document.receipt_number == f"收文〔{document.received_at.year}〕1号" and document.status == "registered"
    register = holder_task(document)
    assert register.node_id == "register"  # 签收 was taken at registration, with its time
    review = submit(register)[0]
    propose = submit(review, opinion="属本单位办理", next_handlers=[o.office_head.pk])[0]
    assert propose.node_id == "propose"
    with pytest.raises(ServiceError) as exc:
        submit(propose, opinion="拟请综合科办理", next_handlers=[o.principal.pk])
    assert exc.value.code == "document.handling_required"
    other = DepartmentFactory(unit=o.unit)
    with pytest.raises(ServiceError) as exc:  # 加急 办件 needs a deadline
        services.set_handling(user(propose.assignee), document, handling_kind="act",
                              lead_department_id=o.drafter.department_id)
    assert exc.value.code == "document.deadline_required"
    with pytest.raises(ServiceError):  # 主办 of another unit
        services.set_handling(user(propose.assignee), document, handling_kind="act",
                              lead_department_id=DepartmentFactory().pk)
    from django.utils import timezone

    services.set_handling(user(propose.assignee), document, handling_kind="act",
                          lead_department_id=o.drafter.department_id, assisting_department_ids=[other.pk],
                          deadline=timezone.localdate())
    instruct = submit(propose, opinion="拟请综合科办理", next_handlers=[o.principal.pk])[0]
    handle = submit(instruct, circled=True, next_handlers=[o.dept_head.pk])[0]
    with pytest.raises(ServiceError) as exc:
        submit(handle, opinion="已办理")
    assert exc.value.code == "document.reply_required"
    services.save_reply(user(handle.assignee), document, reply="已按要求报送。")
    last = submit(handle, opinion="已办理")[0]
    submit(last)
    document.refresh_from_db()
    assert document.status == Status.CLOSED and document.closed_at is not None
    assert document.lead_department_id == o.drafter.department_id
    assert list(document.assisting_departments.all()) == [other]


def test_first_review_may_return_the_document_to_its_sender(s):
    o = s.office
    document = services.register_incoming(user(o.doc_clerk), title="关于某事项的函", doc_kind="函",
                                          source_unit_name="外市某局")
    review = submit(holder_task(document))[0]
    submit(review, route="return_to_sender", opinion="不属于本单位职责范围")
    document.refresh_from_db()
    assert document.status == Status.RETURNED and document.returned_reason == "不属于本单位职责范围"


def _found_by(identity, q="冬季安全生产") -> set[int]:
    from zhengtong.documents.search import search_documents

    return {hit["id"] for hit in search_documents(user(identity), q)["hits"]}


def test_search_reader_keys_follow_who_may_read_the_document(s):
    """The index's reader keys (core.search) are rewritten whenever readability changes — a new step, 转办,
    传阅, a grant — so search finds the document exactly for those selectors.get_readable lets in."""
    from zhengtong.core.models import SearchEntry
    from zhengtong.flow.services.handover import transfer_task

    o = s.office
    document = draft(s)
    outsider = IdentityFactory(unit=s.recipients[0])
    colleague = IdentityFactory(unit=o.unit, department=o.drafter.department, duty=duty(Duty.CLERK))
    reader = IdentityFactory(unit=o.unit, department=o.office_head.department, duty=duty(Duty.CLERK))

    def stored():
        return SearchEntry.objects.get(kind="document", object_id=document.pk).readers

    def check():
        assert stored() == " ".join(f"@{k}" for k in sorted(selectors.reader_keys(document)))
        for identity in (o.drafter, o.dept_head, o.office_head, o.deputy, o.doc_clerk, outsider, colleague, reader):
            try:
                selectors.get_readable(user(identity), document.pk)
                may_read = True
            except NotFound:
                may_read = False
            assert (document.pk in _found_by(identity)) == may_read, identity

    check()
    assert document.pk not in _found_by(o.dept_head)
    review = walk(s, document, "dept_review")  # a new step: the 科长 joins
    check()
    assert document.pk in _found_by(o.dept_head)
    transfer_task(user(o.dept_head), review, to_identity=colleague)  # 转办
    check()
    assert document.pk in _found_by(colleague)
    from zhengtong.flow.services.reading import circulate

    circulate(user(colleague), holder_task(document), to_identities=[reader], to_units=[])  # 传阅
    check()
    assert document.pk in _found_by(reader)
    services.grant_access(user(o.drafter), document, identity_ids=[outsider.pk], reason="参考")
    check()
    assert document.pk in _found_by(outsider)


def test_who_may_read_a_document(s):
    o = s.office
    document = draft(s)
    walk(s, document, "office_review")
    outsider = IdentityFactory(unit=s.recipients[0])
    colleague = IdentityFactory(unit=o.unit, department=o.drafter.department, duty=duty(Duty.CLERK))
    assert selectors.get_readable(user(o.drafter), document.pk) == document
    assert selectors.get_readable(user(o.dept_head), document.pk) == document  # a participant
    assert selectors.get_readable(user(o.doc_clerk), document.pk) == document  # the unit's 收发员
    for person in (outsider, colleague):
        with pytest.raises(NotFound):
            selectors.get_readable(user(person), document.pk)
    services.grant_access(user(o.drafter), document, identity_ids=[colleague.pk], reason="参考")
    assert selectors.get_readable(user(colleague), document.pk) == document
    assert AuditRecord.objects.filter(action="permission.denied", object_id=str(document.pk)).count() == 2
    AdminRoleGrant.objects.create(user=user(o.drafter), role=AdminRole.SYSTEM)  # R7.2: not even their own draft
    drafter = type(user(o.drafter)).objects.get(pk=user(o.drafter).pk)
    with pytest.raises(NotFound):
        selectors.get_readable(drafter, document.pk)


def test_reindex_documents_command_restores_a_lost_or_stale_index(s):
    from io import StringIO

    from django.core.management import call_command

    from zhengtong.core import search
    from zhengtong.core.models import SearchEntry

    o = s.office
    document = draft(s)
    search.remove("document", document.pk)
    search.index("document", 987654, unit_id=o.unit.pk, title="已删除公文的冬季安全生产通知", readers=["i1"])
    assert document.pk not in _found_by(o.drafter)
    out = StringIO()
    call_command("reindex_documents", stdout=out)
    assert "已重建 1 件" in out.getvalue() and "移除 1 条" in out.getvalue()
    assert _found_by(o.drafter) == {document.pk}
    assert not SearchEntry.objects.filter(object_id=987654).exists()
