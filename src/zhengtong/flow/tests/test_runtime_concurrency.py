"""Issue #3 §4 concurrency: two people submit the same task at the same moment → exactly one succeeds, the other
gets flow.task_already_done, and the instance advances once. Needs real row locks and a database the threads
share: PostgreSQL only (SQLite's SELECT … FOR UPDATE is a no-op and its test database is per connection)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from zhengtong.core.errors import Conflict
from zhengtong.flow import services
from zhengtong.flow.models import ProcessInstance, Task, TrailEntry
from zhengtong.org.tests.factories import builtin_duties

from .test_runtime import make_office, open_tasks, submit, user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_two_submits_of_the_same_task_at_once_exactly_one_wins():
    builtin_duties()
    o = make_office()
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch", title="并发测试")
    [draft] = open_tasks(instance)
    version = ProcessInstance.objects.get(pk=instance.pk).version
    barrier = threading.Barrier(2)
    results: list = []

    def act():
        try:
            barrier.wait(timeout=10)
            results.append(services.submit_task(user(o.drafter), Task.objects.get(pk=draft.pk)))
        except Conflict as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    successes = [r for r in results if isinstance(r, list)]
    assert len(successes) == 1 and len(conflicts) == 1, results
    assert conflicts[0].code == "flow.task_already_done"
    assert ProcessInstance.objects.get(pk=instance.pk).version == version + 1
    assert Task.objects.filter(instance=instance, node_id="dept_review").count() == 1
    assert TrailEntry.objects.filter(instance=instance, operation="submit").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_two_countersigners_at_once_both_succeed_and_the_flow_moves_on_once():
    """Different tasks of one instance: the lock serializes them; neither is lost."""
    builtin_duties()
    o = make_office()
    instance = services.start_process(user(o.drafter), identity=o.drafter, business_type="dispatch", title="并发会签")
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    [office] = submit(review, opinion="同意", next_handlers=[o.office_head.pk])
    tasks = submit(office, opinion="会签", route="countersign", next_handlers=[s.pk for s in o.signers[:2]])
    barrier = threading.Barrier(2)
    results: list = []

    def act(task):
        try:
            barrier.wait(timeout=10)
            results.append(services.submit_task(user(task.assignee), task, opinion="同意",
                                                next_handlers=[o.deputy.pk]))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(isinstance(r, list) for r in results) and len(results) == 2, results
    assert sorted(len(r) for r in results) == [0, 1]
    assert [t.node_id for t in open_tasks(instance)] == ["sign"]

