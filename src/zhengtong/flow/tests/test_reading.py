"""传阅, 阅知 (已阅, batch), 催办 and 常用语 (issue #3 §3/§4) through the services, the API and the pages, on the
default 发文 flow. R1.6: 传阅 — none missed (per-reader status) or delayed (never blocks the flow); 催办 by a named
person. R7.1: every change audited, refusals recorded as security events."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from zhengtong.audit.models import AuditRecord
from zhengtong.core.errors import Conflict, Forbidden, NotFound, ServiceError
from zhengtong.flow import selectors, selectors_reading, services, signals
from zhengtong.flow.models import Phrase, ProcessInstance, Task, TrailEntry
from zhengtong.flow.services.reading import DEFAULT_PHRASES, MAX_PHRASES
from zhengtong.org.tests.factories import DepartmentFactory, IdentityFactory, UnitFactory, duty

from .test_runtime import finish_from_sign, make_office, open_tasks, run_to_office_review, start, submit, user

pytestmark = pytest.mark.django_db


def bureau(o, n=3):
    """A sub-unit (政府工作部门) of the office's unit with `n` people in one 内设机构, and one inactive post."""
    sub = UnitFactory(parent=o.unit, name="示范市测试下属局", short_name="下属局")
    dept = DepartmentFactory(unit=sub, name="综合科")
    people = [IdentityFactory(unit=sub, department=dept, duty=duty("clerk"), title="科员") for _ in range(n)]
    IdentityFactory(unit=sub, duty=duty("clerk"), active=False)
    return sub, people


def toread(identity) -> list[Task]:
    return list(Task.objects.filter(assignee=identity, kind="toread", status="open"))


def denied(code: str) -> bool:
    return AuditRecord.objects.filter(action="permission.denied", detail__code=code).exists()


# --- 传阅 ------------------------------------------------------------------------------------------------------

def test_circulate_to_people_and_a_whole_sub_unit_dedup_and_never_blocks():
    """R1.6 传阅: read-copies for the chosen people and every active post of a sub-unit; one per person; the
    flow goes on (the todo is submitted, the instance advances) and the read-copies stay."""
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    sub, people = bureau(o)
    new = services.circulate(user(o.drafter), draft, to_identities=[o.deputy, people[0]], to_units=[sub],
                             opinion="请阅")
    assert sorted(t.assignee_id for t in new) == sorted([o.deputy.pk] + [p.pk for p in people])
    row = toread(o.deputy)[0]
    assert (row.kind, row.status, row.sender, row.spiff_task_id, row.node_id) == (
        "toread", "open", o.drafter, draft.spiff_task_id, "draft")
    assert selectors.box_count(user(o.deputy), "toread") == 1
    assert selectors.box_count(user(o.deputy), "todo") == 0
    entry = TrailEntry.objects.get(instance=instance, operation="circulate")
    assert o.deputy.person.name in entry.opinion and entry.opinion.endswith("请阅") and entry.identity == o.drafter
    rec = AuditRecord.objects.get(action="flow.task_circulated")
    assert rec.detail["count"] == 4 and rec.detail["task"] == draft.pk
    # again to the same people + one more: only the new person gets a copy, never twice
    [again] = services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[sub])
    assert again.assignee == o.principal
    assert len(toread(o.deputy)) == 1
    # never blocks: the todo is submitted, the instance advances, the read-copies stay open
    [review] = submit(draft)
    assert review.node_id == "dept_review" and review.kind == "todo"
    assert Task.objects.filter(instance=instance, kind="toread", status="open").count() == 5
    [office] = submit(review, opinion="同意", next_handlers=[o.office_head.pk])
    assert Task.objects.filter(instance=instance, kind="toread", status="open").count() == 5
    assert [c["node_id"] for c in selectors.instance_detail(instance)["current"]] == ["office_review"]
    assert office.assignee == o.office_head


def test_circulate_refusals_node_holder_other_unit_and_the_reader_cannot_handle_the_step():
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    [recheck] = submit(sign, opinion="同意")
    [number] = submit(recheck)  # 编号 allows only return
    with pytest.raises(Conflict) as exc:
        services.circulate(user(o.doc_clerk), number, to_identities=[o.principal], to_units=[])
    assert exc.value.code == "flow.operation_not_allowed" and "编号" in exc.value.message
    with pytest.raises(Forbidden) as exc:  # not the holder
        services.circulate(user(o.drafter), number, to_identities=[o.principal], to_units=[])
    assert exc.value.code == "flow.not_your_task" and denied("flow.not_your_task")
    other = UnitFactory()
    stranger = IdentityFactory(unit=other, duty=duty("clerk"))
    instance = start(o)
    [draft] = open_tasks(instance)
    for kwargs in ({"to_identities": [stranger], "to_units": []}, {"to_identities": [], "to_units": [other]}):
        with pytest.raises(ServiceError) as exc:
            services.circulate(user(o.drafter), draft, **kwargs)
        assert (exc.value.code, exc.value.status) == ("flow.reader_other_unit", 400)
    assert not Task.objects.filter(kind="toread").exists()
    # a reader holds a row with the step's engine id, but cannot submit or hand over the step through it
    [copy] = services.circulate(user(o.drafter), draft, to_identities=[o.dept_head], to_units=[])
    with pytest.raises(Conflict) as exc:
        services.submit_task(user(o.dept_head), copy)
    assert exc.value.code == "flow.not_a_todo"
    with pytest.raises(Conflict):
        services.transfer_task(user(o.dept_head), copy, to_identity=o.principal)
    assert Task.objects.get(pk=draft.pk).status == "open"


def test_circulate_after_completion_by_someone_who_handled_a_circulate_step():
    """收文/发文 传阅 after 办结: the handler of a step that allows 传阅; not a step that does not."""
    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="请签发", next_handlers=[o.deputy.pk])
    instance = finish_from_sign(o, sign)
    assert instance.status == "completed"
    sign = Task.objects.get(pk=sign.pk)
    [copy] = services.circulate(user(o.deputy), sign, to_identities=[o.principal], to_units=[])
    assert copy.assignee == o.principal and copy.status == "open"
    number = Task.objects.get(instance=instance, node_id="number")
    with pytest.raises(Conflict) as exc:
        services.circulate(user(o.doc_clerk), number, to_identities=[o.principal], to_units=[])
    assert exc.value.code == "flow.operation_not_allowed"


def test_circulate_skips_the_circulator_and_says_so_when_nobody_is_new():
    o = make_office()
    [draft] = open_tasks(start(o))
    new = services.circulate(user(o.drafter), draft, to_identities=[], to_units=[o.unit])
    assert o.drafter.pk not in [t.assignee_id for t in new] and len(new) == 8  # everyone else in the unit
    with pytest.raises(ServiceError) as exc:
        services.circulate(user(o.drafter), draft, to_identities=[o.deputy], to_units=[])
    assert exc.value.code == "flow.already_circulated"


# --- 阅知 ------------------------------------------------------------------------------------------------------

def test_mark_read_single_with_opinion_and_the_reader_status_table():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
    [copy] = toread(o.deputy)
    services.open_task(user(o.deputy), copy)
    assert services.mark_read(user(o.deputy), [copy], opinion="已阅，同意") == 1
    copy.refresh_from_db()
    assert copy.status == "done" and copy.completed_at is not None and copy.opened_at is not None
    assert selectors.box_count(user(o.deputy), "toread") == 0 and selectors.box_count(user(o.deputy), "read") == 1
    entry = TrailEntry.objects.get(instance=instance, operation="read")
    assert (entry.identity, entry.opinion) == (o.deputy, "已阅，同意")
    assert AuditRecord.objects.filter(action="flow.task_read", object_id=str(instance.pk)).count() == 1
    assert services.mark_read(user(o.deputy), [copy]) == 0  # already read: nothing more
    status = selectors_reading.reading_status(instance)
    assert (status["read"], status["unread"]) == (1, 1)
    first, second = status["rows"]
    assert (first["reader"], first["read"]) == (o.principal.person.name, False)  # unread first
    assert (second["reader"], second["read"], second["sender"]) == (o.deputy.person.name, True, o.drafter.person.name)
    assert second["read_at"] == copy.completed_at


def test_mark_read_of_someone_elses_row_is_refused_and_nothing_changes():
    o = make_office()
    [draft] = open_tasks(start(o))
    services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
    [mine], [theirs] = toread(o.deputy), toread(o.principal)
    with pytest.raises(Forbidden) as exc:
        services.mark_read(user(o.deputy), [mine, theirs])
    assert exc.value.code == "flow.not_your_task" and denied("flow.not_your_task")
    assert Task.objects.filter(pk__in=[mine.pk, theirs.pk], status="open").count() == 2
    with pytest.raises(ServiceError) as exc:  # a todo is not marked read
        services.mark_read(user(o.drafter), [draft])
    assert exc.value.code == "flow.not_a_toread"


def test_batch_read_api_and_the_toread_box(client):
    o = make_office()
    copies = []
    for _ in range(3):
        [draft] = open_tasks(start(o))
        copies += services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
    mine = [t.pk for t in copies if t.assignee_id == o.deputy.pk]
    client.force_login(user(o.deputy))
    assert client.get("/api/v1/tasks?box=toread").json()["count"] == 3
    r = client.post("/api/v1/tasks/read", {"ids": mine[:2]}, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"marked": 2}
    assert client.get("/api/v1/tasks?box=toread").json()["count"] == 1
    assert client.get("/api/v1/tasks?box=read").json()["count"] == 2
    theirs = [t.pk for t in copies if t.assignee_id == o.principal.pk]
    r = client.post("/api/v1/tasks/read", {"ids": [mine[2], theirs[0]]}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "flow.not_your_task"
    assert Task.objects.get(pk=mine[2]).status == "open" and Task.objects.get(pk=theirs[0]).status == "open"
    r = client.post("/api/v1/tasks/read", {"ids": [999999]}, content_type="application/json")
    assert r.status_code == 404


def test_toread_box_batch_form_and_the_task_page_read_button(client):
    o = make_office()
    rows = []
    for _ in range(2):
        [draft] = open_tasks(start(o))
        rows += services.circulate(user(o.drafter), draft, to_identities=[o.deputy], to_units=[])
    client.force_login(user(o.deputy))
    page = client.get("/tasks/toread/").content.decode()
    assert 'name="ids"' in page and "标为已阅" in page
    assert 'name="ids"' not in client.get("/tasks/").content.decode()  # only in the 待阅 box
    r = client.post("/tasks/mark-read/", {"ids": [rows[0].pk]})
    assert r.status_code == 302 and Task.objects.get(pk=rows[0].pk).status == "done"
    # the task page of a 待阅: opening marks opened_at; the 已阅 form with a 阅知意见
    page = client.get(f"/tasks/{rows[1].pk}/").content.decode()
    assert Task.objects.get(pk=rows[1].pk).opened_at is not None
    assert 'id="read-form"' in page and "阅知意见" in page
    r = client.post("/tasks/mark-read/", {"ids": [rows[1].pk], "opinion": "已阅", "next": f"/tasks/{rows[1].pk}/"})
    assert r.status_code == 302 and r["Location"] == f"/tasks/{rows[1].pk}/"
    assert TrailEntry.objects.filter(task=rows[1], operation="read", opinion="已阅").exists()


def test_the_circulator_sees_the_reader_status_on_the_task_page(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
    services.mark_read(user(o.deputy), toread(o.deputy))
    client.force_login(user(o.drafter))
    page = client.get(f"/tasks/{draft.pk}/").content.decode()
    assert 'id="reading-status"' in page and "已阅 1 人，未阅 1 人" in page
    assert o.deputy.person.name in page and o.principal.person.name in page
    assert 'id="circulate-form"' in page  # the holder of a step that allows 传阅


# --- 催办 ------------------------------------------------------------------------------------------------------

def test_urge_permission_matrix():
    """R1.6 催办: the drafter, the sender and the unit's 单位系统管理员 may urge; not the holder; others 403."""
    o = make_office()
    office = run_to_office_review(o)  # drafter = o.drafter, sender = o.dept_head, holder = o.office_head
    admin = IdentityFactory(unit=o.unit, duty=duty("unit_admin"))
    with pytest.raises(ServiceError) as exc:
        services.urge_task(user(o.office_head), office, message="")
    assert (exc.value.code, exc.value.status) == ("flow.cannot_urge_self", 400)
    with pytest.raises(Forbidden) as exc:
        services.urge_task(user(o.principal), office, message="")
    assert exc.value.code == "flow.not_allowed_to_urge" and denied("flow.not_allowed_to_urge")
    allowed = [o.drafter, o.dept_head, admin]
    for i, who in enumerate(allowed):
        Task.objects.filter(pk=office.pk).update(last_urged_at=None)
        assert services.urge_task(user(who), office, message="" if i == 0 else f"请尽快（{i}）") == []
    office.refresh_from_db()
    assert office.urge_count == 3 and office.last_urged_at is not None
    trail = list(TrailEntry.objects.filter(task=office, operation="urge").order_by("id"))
    assert [e.identity for e in trail] == allowed
    assert trail[0].opinion.endswith("请尽快办理") and o.office_head.person.name in trail[0].opinion
    assert AuditRecord.objects.filter(action="flow.task_urged").count() == 3


def test_urge_rate_limit_and_done_task():
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = submit(draft)
    services.urge_task(user(o.drafter), review, message="请今天办理")
    with pytest.raises(Conflict) as exc:
        services.urge_task(user(o.drafter), review, message="再催")
    assert exc.value.code == "flow.urged_recently" and "分钟后" in exc.value.message
    Task.objects.filter(pk=review.pk).update(last_urged_at=timezone.now() - timedelta(minutes=11))
    services.urge_task(user(o.drafter), review, message="再催")
    assert Task.objects.get(pk=review.pk).urge_count == 2
    submit(review, opinion="同意", next_handlers=[o.office_head.pk])
    Task.objects.filter(pk=review.pk).update(last_urged_at=None)
    with pytest.raises(Conflict) as exc:
        services.urge_task(user(o.drafter), review, message="")
    assert exc.value.code == "flow.task_already_done"


def test_urge_signal_is_sent_inside_the_transaction_with_the_arguments(django_capture_on_commit_callbacks):
    """In the transaction, so what a receiver writes (the notification outbox) commits with the 催办."""
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    heard = []

    def receiver(sender, **kwargs):
        heard.append((sender, kwargs["task"].pk, kwargs["actor"], kwargs["message"], transaction.get_connection()
                      .in_atomic_block))

    signals.task_urged.connect(receiver)
    try:
        services.urge_task(user(o.drafter), review, message="请尽快")
        assert heard == [(Task, review.pk, user(o.drafter), "请尽快", True)]
    finally:
        signals.task_urged.disconnect(receiver)


def test_what_an_urge_receiver_writes_rolls_back_with_the_urge():
    from zhengtong.notify.models import Notification

    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.urge_task(user(o.drafter), review, message="请尽快")
        assert Notification.objects.filter(event="urged", person=review.assignee.person).count() == 1
        raise RuntimeError("the caller's transaction fails")
    assert Task.objects.get(pk=review.pk).urge_count == 0
    assert not Notification.objects.filter(event="urged").exists()


def test_circulated_signal_names_the_new_readers():
    o = make_office()
    [draft] = open_tasks(start(o))
    heard = []

    def receiver(sender, **kwargs):
        heard.append((kwargs["task"].pk, sorted(t.assignee_id for t in kwargs["tasks"])))

    signals.task_circulated.connect(receiver)
    try:
        services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
        assert heard == [(draft.pk, sorted([o.deputy.pk, o.principal.pk]))]
    finally:
        signals.task_circulated.disconnect(receiver)


def test_urge_count_and_form_on_the_task_page_and_badge_in_the_worklist(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    client.force_login(user(o.drafter))
    page = client.get(f"/tasks/{draft.pk}/").content.decode()
    assert 'id="urge-form-' + str(review.pk) + '"' in page
    r = client.post(f"/tasks/{review.pk}/act/", {"action": "urge", "opinion": "请今天办理"})
    assert r.status_code == 302
    page = client.get(f"/tasks/{draft.pk}/").content.decode()
    assert "已催办 1 次" in page
    client.force_login(user(o.dept_head))
    assert "催办 1" in client.get("/tasks/").content.decode()
    assert 'id="urge-form-' not in client.get(f"/tasks/{review.pk}/").content.decode()  # not one's own


# --- the actions endpoint --------------------------------------------------------------------------------------

def test_actions_endpoint_circulate_and_urge(client):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    sub, people = bureau(o, n=2)
    client.force_login(user(o.drafter))
    r = client.post(f"/api/v1/tasks/{draft.pk}/actions",
                    {"action": "circulate", "to_identities": [o.deputy.pk], "to_units": [sub.pk], "opinion": "请阅"},
                    content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["instance_status"] == "running"
    assert sorted(t["assignee_id"] for t in body["tasks"]) == sorted([o.deputy.pk] + [p.pk for p in people])
    r = client.post(f"/api/v1/tasks/{draft.pk}/actions", {"action": "circulate"}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (422, "flow.readers_required")
    other = UnitFactory()
    r = client.post(f"/api/v1/tasks/{draft.pk}/actions", {"action": "circulate", "to_units": [other.pk]},
                    content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, "flow.reader_other_unit")
    [review] = submit(draft)
    r = client.post(f"/api/v1/tasks/{review.pk}/actions", {"action": "urge", "opinion": "请尽快审核"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["tasks"] == []
    assert TrailEntry.objects.filter(task=review, operation="urge", opinion__endswith="请尽快审核").exists()
    r = client.post(f"/api/v1/tasks/{review.pk}/actions", {"action": "urge"}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (409, "flow.urged_recently")
    client.force_login(user(o.principal))
    r = client.post(f"/api/v1/tasks/{review.pk}/actions", {"action": "urge"}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (403, "flow.not_allowed_to_urge")


def test_reader_status_api(client):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    services.circulate(user(o.drafter), draft, to_identities=[o.deputy, o.principal], to_units=[])
    services.mark_read(user(o.principal), toread(o.principal))
    client.force_login(user(o.drafter))
    body = client.get(f"/api/v1/process-instances/{instance.pk}/readers").json()
    assert (body["read"], body["unread"]) == (1, 1)
    assert {r["reader"]: r["read"] for r in body["rows"]} == {o.deputy.person.name: False, o.principal.person.name: True}
    client.force_login(user(IdentityFactory(unit=UnitFactory(), duty=duty("clerk"))))
    assert client.get(f"/api/v1/process-instances/{instance.pk}/readers").status_code == 403


# --- 常用语 ----------------------------------------------------------------------------------------------------

def test_phrases_defaults_add_move_delete_and_limits():
    o = make_office()
    me = user(o.drafter)
    assert [p["text"] for p in selectors_reading.phrases_for(me)] == DEFAULT_PHRASES
    phrase = services.add_phrase(me, "  请办公室  阅处。 ")
    assert phrase.text == "请办公室 阅处。"
    texts = [p["text"] for p in selectors_reading.phrases_for(me)]
    assert texts == DEFAULT_PHRASES + ["请办公室 阅处。"]  # the defaults were kept
    with pytest.raises(ServiceError) as exc:
        services.add_phrase(me, "同意。")
    assert exc.value.code == "flow.phrase_exists"
    for bad in ("", "字" * 201):
        with pytest.raises(ServiceError) as exc:
            services.add_phrase(me, bad)
        assert exc.value.code == "flow.phrase_invalid"
    services.move_phrase(me, phrase, 0)
    assert selectors_reading.phrases_for(me)[0]["text"] == "请办公室 阅处。"
    services.delete_phrase(me, phrase)
    assert [p["text"] for p in selectors_reading.phrases_for(me)] == DEFAULT_PHRASES
    for i in range(MAX_PHRASES - len(DEFAULT_PHRASES)):
        services.add_phrase(me, f"意见{i}")
    with pytest.raises(ServiceError) as exc:
        services.add_phrase(me, "再多一条")
    assert exc.value.code == "flow.phrase_limit"
    actions = set(AuditRecord.objects.filter(action__startswith="flow.phrase_").values_list("action", flat=True))
    assert actions == {"flow.phrase_added", "flow.phrase_moved", "flow.phrase_deleted"}


def test_phrases_are_private():
    o = make_office()
    phrase = services.add_phrase(user(o.drafter), "我的常用语")
    for operation in (lambda: services.delete_phrase(user(o.deputy), phrase),
                      lambda: services.move_phrase(user(o.deputy), phrase, 0)):
        with pytest.raises(NotFound):
            operation()
    assert Phrase.objects.filter(pk=phrase.pk).exists()
    assert "我的常用语" not in [p["text"] for p in selectors_reading.phrases_for(user(o.deputy))]


def test_phrases_api(client):
    o = make_office()
    client.force_login(user(o.drafter))
    body = client.get("/api/v1/phrases").json()
    assert [p["text"] for p in body["items"]] == DEFAULT_PHRASES and body["defaults"] is True
    r = client.post("/api/v1/phrases", {"text": "请审核。"}, content_type="application/json")
    assert r.status_code == 201 and r.json()["text"] == "请审核。"
    pk = r.json()["id"]
    r = client.post("/api/v1/phrases", {"text": "请审核。"}, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (400, "flow.phrase_exists")
    body = client.get("/api/v1/phrases").json()
    assert body["defaults"] is False and body["items"][-1] == {"id": pk, "text": "请审核。"}
    client.force_login(user(o.deputy))
    assert client.delete(f"/api/v1/phrases/{pk}").status_code == 404
    client.force_login(user(o.drafter))
    assert client.delete(f"/api/v1/phrases/{pk}").status_code == 204
    assert not Phrase.objects.filter(pk=pk).exists()


def test_phrases_page_and_the_buttons_on_the_task_page(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    client.force_login(user(o.drafter))
    r = client.post("/tasks/phrases/", {"action": "add", "text": "请科长审核。"})
    assert r.status_code == 302
    page = client.get("/tasks/phrases/").content.decode()
    assert "请科长审核。" in page and "同意。" in page
    phrase = Phrase.objects.get(person=o.drafter.person, text="请科长审核。")
    client.post("/tasks/phrases/", {"action": "move", "id": phrase.pk, "position": 0})
    assert Phrase.objects.filter(person=o.drafter.person).order_by("position").first() == phrase
    r = client.post("/tasks/phrases/", {"action": "add", "text": "请科长审核。"})
    assert r.status_code == 400 and "已有常用语" in r.content.decode()
    task_page = client.get(f"/tasks/{draft.pk}/").content.decode()
    assert 'data-phrase="请科长审核。"' in task_page and "flow/phrases.js" in task_page
    client.force_login(user(o.deputy))
    r = client.post("/tasks/phrases/", {"action": "delete", "id": phrase.pk})
    assert r.status_code == 404 and Phrase.objects.filter(pk=phrase.pk).exists()
    client.force_login(user(o.drafter))
    client.post("/tasks/phrases/", {"action": "delete", "id": phrase.pk})
    assert not Phrase.objects.filter(pk=phrase.pk).exists()


def test_reading_leaves_the_engine_state_untouched():
    """传阅 does not move the engine: the instance's version and state are as before."""
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    before = ProcessInstance.objects.values("version", "state").get(pk=instance.pk)
    services.circulate(user(o.drafter), draft, to_identities=[o.deputy], to_units=[])
    services.mark_read(user(o.deputy), toread(o.deputy))
    assert ProcessInstance.objects.values("version", "state").get(pk=instance.pk) == before
