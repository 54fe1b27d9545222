"""Issue #3 §4 concurrency of operations: 撤回 by the sender while the next handler submits, at the same moment →
exactly one wins and the instance is consistent. PostgreSQL only (real row locks shared by threads)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from zhengtong.core.errors import Conflict
from zhengtong.flow import engine, services
from zhengtong.flow.models import ProcessInstance, Task
from zhengtong.org.tests.factories import builtin_duties

from .test_runtime import make_office, open_tasks, submit, user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_retract_and_the_next_submit_at_once_exactly_one_wins():
    builtin_duties()
    o = make_office()
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch", title="并发撤回")
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    barrier = threading.Barrier(2)
    results: dict = {}

    def run(name, operation):
        try:
            barrier.wait(timeout=10)
            results[name] = operation()
        except Conflict as exc:
            results[name] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("retract", lambda: services.retract_task(
            user(o.drafter), Task.objects.get(pk=draft.pk)))),
        threading.Thread(target=run, args=("submit", lambda: services.submit_task(
            user(o.dept_head), Task.objects.get(pk=review.pk), opinion="同意", next_handlers=[o.office_head.pk]))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2, results
    wins = [name for name, r in results.items() if isinstance(r, list)]
    assert len(wins) == 1, results
    loser = results["submit" if wins == ["retract"] else "retract"]
    assert loser.code == ("flow.task_already_done" if wins == ["retract"] else "flow.retract_too_late")
    instance = ProcessInstance.objects.get(pk=instance.pk)
    ready = sorted(t.task_spec.bpmn_id for t in engine.ready_user_tasks(engine.load_state(instance.definition,
                                                                                           instance.state)))
    assert ready == ["draft" if wins == ["retract"] else "office_review"]
    assert [t.node_id for t in open_tasks(instance)] == ready


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_the_two_last_after_signers_at_once_the_step_completes_exactly_once():
    """后加签 with two signers who submit at the same moment: one only signs, the other (seeing no one left)
    completes the engine task — never both, never neither."""
    builtin_duties()
    o = make_office()
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch", title="并发加签")
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    added = services.add_signers(user(o.dept_head), review, to_identities=o.signers[:2], position="after")
    barrier = threading.Barrier(2)
    results: dict = {}

    def run(row):
        try:
            barrier.wait(timeout=10)
            results[row.pk] = services.submit_task(user(row.assignee), Task.objects.get(pk=row.pk), opinion="同意",
                                                   next_handlers=[o.office_head.pk])
        except Conflict as exc:
            results[row.pk] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(row,)) for row in added]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(len(r) for r in results.values()) == [0, 1], results  # one signed, one moved the flow on
    instance = ProcessInstance.objects.get(pk=instance.pk)
    assert [t.node_id for t in open_tasks(instance)] == ["office_review"]
    assert {Task.objects.get(pk=row.pk).status for row in added} == {"done"}
    ready = [t.task_spec.bpmn_id for t in engine.ready_user_tasks(engine.load_state(instance.definition,
                                                                                     instance.state))]
    assert ready == ["office_review"]  # the engine advanced once
    from zhengtong.flow.models import TrailEntry

    ops = list(TrailEntry.objects.filter(instance=instance, node_id="dept_review").values_list("operation", flat=True))
    assert ops.count("submit") == 1 and ops.count("added_signer_done") == 1
