"""Operations meeting each other (found in review): 加签 rows handed over or 委派ed, rows left waiting, the 三员 kept
out of documents (R7.2), 恢复 moving each deadline once (R8), engine errors as 422, 直接送回 and the opinion rule."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from zhengtong.core.errors import Conflict, Forbidden, ServiceError
from zhengtong.flow import services
from zhengtong.flow.models import ProcessInstance, Task, TrailEntry
from zhengtong.org.tests.factories import IdentityFactory, duty, make_sysadmin

from .test_admin_ops import admin_of, clock  # noqa: F401 — clock is a fixture
from .test_operations import engine_ready
from .test_runtime import make_office, open_tasks, run_to_office_review, start, submit, user
from .test_signers import countersign_flow, to_dept_review

pytestmark = pytest.mark.django_db


def status(task) -> str:
    return Task.objects.get(pk=task.pk).status


def test_r7_2_the_platform_sysadmin_neither_sees_nor_controls_documents(client):
    o = make_office()
    instance = start(o)
    admin = make_sysadmin()
    client.force_login(admin)
    assert client.get("/flows/monitor/").status_code == 403
    assert client.get(f"/flows/monitor/{instance.pk}/").status_code == 403
    response = client.post(f"/api/v1/process-instances/{instance.pk}/admin-actions",
                           {"action": "terminate", "reason": "试试"}, content_type="application/json")
    assert response.status_code == 403
    assert ProcessInstance.objects.get(pk=instance.pk).status == "running"
    assert client.get(f"/api/v1/process-instances/{instance.pk}").status_code == 403
    with pytest.raises(Forbidden):
        services.terminate_instance(admin, instance, reason="试试")
    # the unit's own 单位系统管理员 still can
    services.suspend_instance(user(admin_of(o.unit)), instance, reason="核实情况")
    assert ProcessInstance.objects.get(pk=instance.pk).status == "suspended"


def test_transfer_of_an_added_signers_row_keeps_the_adder_waiting_for_it():
    o = make_office()
    review = to_dept_review(o)
    [added] = services.add_signers(user(o.dept_head), review, to_identities=[o.signers[0]], position="before")
    moved = services.transfer_task(user(o.signers[0]), added, to_identity=o.signers[1], opinion="请你看")
    assert (moved.added_from_id, moved.add_position) == (review.pk, "before")
    [back] = submit(moved, opinion="已核")
    assert back.pk == review.pk and status(review) == "open"
    assert engine_ready(review.instance) == ["dept_review"]


def test_an_added_signer_who_delegated_is_still_signing():
    o = make_office()
    review = to_dept_review(o)
    b, c = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="after")
    d_row = services.delegate_task(user(c.assignee), c, to_identity=o.signers[2])
    assert submit(b, opinion="同意") == []  # c (through d) has not signed yet: the step does not move
    assert engine_ready(review.instance) == ["dept_review"]
    [c_again] = submit(d_row, opinion="代拟意见")
    assert c_again.pk == c.pk
    [office] = submit(c_again, opinion="同意", next_handlers=[o.office_head.pk])
    assert office.node_id == "office_review"


def test_removing_signers_does_not_reopen_while_a_delegated_one_still_signs():
    o = make_office()
    review = to_dept_review(o)
    b, c = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="before")
    services.delegate_task(user(c.assignee), c, to_identity=o.signers[2])
    services.remove_signers(user(o.dept_head), review, identities=[b.assignee])
    assert status(review) == "waiting"


def test_a_returned_step_leaves_no_waiting_row_behind():
    o = make_office()
    review = to_dept_review(o)
    [added] = services.add_signers(user(o.dept_head), review, to_identities=[o.signers[0]], position="before")
    [draft] = services.return_task(user(o.signers[0]), added, reason="请补充材料")
    assert draft.node_id == "draft" and status(review) == "cancelled"
    [again] = submit(draft, opinion="已补充")
    assert Task.objects.filter(instance=review.instance, assignee=o.dept_head).exclude(
        status__in=["cancelled", "done"]).count() == 1 and again.status == "open"


def test_a_delegated_row_is_cancelled_when_another_holder_does_the_step():
    o = make_office()
    second_head = IdentityFactory(unit=o.unit, department=o.dept_head.department, duty=duty("dept_head"))
    [draft] = open_tasks(start(o))
    review, other = sorted(submit(draft), key=lambda t: t.assignee_id != o.dept_head.pk)
    assert other.assignee == second_head
    services.delegate_task(user(o.dept_head), review, to_identity=o.signers[0])
    submit(other, opinion="同意", next_handlers=[o.office_head.pk])
    assert status(review) == "cancelled"
    assert not Task.objects.filter(instance=review.instance, node_id="dept_review",
                                   status__in=["open", "delegated", "waiting"]).exists()


def test_reassigning_a_delegated_row_keeps_it_coming_back_to_the_delegator():
    o = make_office()
    review = to_dept_review(o)
    c_row = services.delegate_task(user(o.dept_head), review, to_identity=o.signers[0])
    [e_row] = services.reassign_task(user(admin_of(o.unit)), c_row, to_identities=[o.signers[1]], reason="休假")
    assert e_row.delegated_from_id == review.pk
    [back] = submit(e_row, opinion="代拟")
    assert back.pk == review.pk and status(review) == "open"


def test_r8_resume_moves_every_deadline_exactly_once(clock):  # noqa: F811
    """Two 会签 rows due Thu 5 and Fri 6 Nov 2026; suspended Mon 2, resumed Tue 3 Nov (1 working day): Fri 6 and
    Mon 9 — the row moved onto Fri 6 is not moved again."""
    o = make_office()
    clock(datetime(2026, 11, 2, 9, 0))
    office = run_to_office_review(o)
    rows = submit(office, opinion="请会签", route="countersign", next_handlers=[s.pk for s in o.signers[:2]])
    Task.objects.filter(pk=rows[0].pk).update(deadline=date(2026, 11, 5))
    Task.objects.filter(pk=rows[1].pk).update(deadline=date(2026, 11, 6))
    services.suspend_instance(user(o.drafter), office.instance, reason="等待")
    clock(datetime(2026, 11, 3, 9, 0))
    services.resume_instance(user(o.drafter), office.instance)
    assert [Task.objects.get(pk=r.pk).deadline for r in rows] == [date(2026, 11, 6), date(2026, 11, 9)]


def test_send_back_keeps_the_opinion_rule():
    o = make_office()
    office = run_to_office_review(o)
    [review] = services.return_task(user(o.office_head), office, reason="请处室再核")
    assert review.node_id == "dept_review"
    with pytest.raises(ServiceError) as exc:
        services.send_back_to_returner(user(o.dept_head), review, opinion="")
    assert exc.value.code == "flow.opinion_required"
    [back] = services.send_back_to_returner(user(o.dept_head), review, opinion="已再核")
    assert back.node_id == "office_review"


def test_the_delegate_is_named_in_the_trail():
    o = make_office()
    review = to_dept_review(o)
    services.delegate_task(user(o.dept_head), review, to_identity=o.signers[0])
    assert TrailEntry.objects.get(instance=review.instance, operation="delegated_to").identity == o.signers[0]


def test_removing_countersigners_after_any_rule_needs_a_next_choice():
    o = make_office()
    instance, rows = countersign_flow(o, condition="signed &gt;= 1", first_ops="add_signers")
    sender = Task.objects.get(instance=instance, node_id="a")
    with pytest.raises(Conflict) as exc:
        services.remove_signers(user(o.drafter), sender, identities=[o.signers[0], o.signers[1], o.signers[2]])
    assert exc.value.code == "flow.cannot_remove_last_signer"
    assert {status(r) for r in rows} == {"open"}
    assert open_tasks(instance)
