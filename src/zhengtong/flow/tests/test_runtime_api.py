"""The public contract of /api/v1/tasks and /api/v1/process-instances (issue #3 §6)."""
from __future__ import annotations

import pytest

from zhengtong.audit.models import AuditRecord
from zhengtong.flow.models import ProcessInstance, Task

from .test_runtime import make_office, open_tasks, start, submit, user

pytestmark = pytest.mark.django_db
ITEM_FIELDS = {"id", "title", "business_type", "node_name", "instance_id", "deadline", "deadline_status",
               "received_at", "sender", "on_behalf_of"}


def act(client, identity, task, **body):
    client.force_login(user(identity))
    return client.post(f"/api/v1/tasks/{task.pk}/actions", {"action": "submit", **body},
                       content_type="application/json")


def test_todo_and_done_boxes_with_the_contract_fields(client, django_assert_max_num_queries):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    client.force_login(user(o.drafter))
    body = client.get("/api/v1/tasks?box=todo").json()
    assert body["count"] == 1 and set(body["items"][0]) == ITEM_FIELDS
    item = body["items"][0]
    assert (item["id"], item["title"], item["business_type"], item["node_name"], item["instance_id"]) == (
        draft.pk, "关于做好年终工作的通知", "dispatch", "起草", instance.pk)
    assert item["deadline_status"] in ("normal", "yellow") and item["sender"] == o.drafter.person.name
    submit(draft)
    assert client.get("/api/v1/tasks").json()["count"] == 0
    done = client.get("/api/v1/tasks?box=done&page=1").json()
    assert done["count"] == 1 and done["items"][0]["id"] == draft.pk
    client.force_login(user(o.dept_head))
    from zhengtong.flow import selectors
    with django_assert_max_num_queries(2):
        selectors.worklist(user(o.dept_head), "todo", 1)
    assert client.get("/api/v1/tasks?box=todo").json()["items"][0]["node_name"] == "处室核稿"


def test_anonymous_401_and_bad_box_422(client):
    assert client.get("/api/v1/tasks").status_code == 401
    o = make_office()
    client.force_login(user(o.drafter))
    response = client.get("/api/v1/tasks?box=nothing")
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"


def test_submit_through_the_api_returns_the_new_tasks(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    response = act(client, o.drafter, draft)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["instance_status"] == "running"
    assert [(t["node_id"], t["assignee_id"], t["on_behalf_of_id"]) for t in body["tasks"]] == [
        ("dept_review", o.dept_head.pk, None)]
    review = Task.objects.get(pk=body["tasks"][0]["id"])
    response = act(client, o.dept_head, review, opinion="同意", to_identities=[o.office_head.pk])
    assert response.status_code == 200 and response.json()["tasks"][0]["node_id"] == "office_review"


def test_submit_errors_carry_codes(client):
    o = make_office()
    [draft] = open_tasks(start(o))
    response = act(client, o.dept_head, draft)  # not theirs
    assert response.status_code == 403 and response.json()["code"] == "flow.not_your_task"
    assert AuditRecord.objects.filter(action="api.forbidden").exists()
    [review] = submit(draft)
    response = act(client, o.drafter, draft)  # already done
    assert response.status_code == 409 and response.json()["code"] == "flow.task_already_done"
    response = act(client, o.dept_head, review, to_identities=[o.office_head.pk])  # no opinion
    assert response.status_code == 400 and response.json()["code"] == "flow.opinion_required"
    response = act(client, o.dept_head, review, action="circulate", opinion="请阅")
    assert response.status_code == 422 and response.json()["code"] == "flow.readers_required"
    assert "传阅" in response.json()["message"]
    response = act(client, o.dept_head, review, action="fly")
    assert response.status_code == 422
    assert client.post("/api/v1/tasks/999999/actions", {"action": "submit"},
                       content_type="application/json").status_code == 404
    assert Task.objects.get(pk=review.pk).status == "open"


def test_instance_detail_for_participants_only(client):
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    submit(draft)
    client.force_login(user(o.dept_head))
    response = client.get(f"/api/v1/process-instances/{instance.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["definition_id"], body["definition_version"], body["status"]) == (
        instance.definition_id, instance.definition.version, "running")
    assert [c["node_id"] for c in body["current"]] == ["dept_review"]
    assert [(e["operation"], e["node_id"]) for e in body["trail"]] == [("start", ""), ("submit", "draft")]
    client.force_login(user(o.deputy))  # not (yet) a participant
    response = client.get(f"/api/v1/process-instances/{instance.pk}")
    assert response.status_code == 403 and response.json()["code"] == "flow.not_participant"
    assert AuditRecord.objects.filter(action="api.forbidden", detail__code="flow.not_participant").exists()
    assert ProcessInstance.objects.get(pk=instance.pk).version == 2


def test_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/tasks", "/api/v1/tasks/{task_id}/actions", "/api/v1/process-instances/{instance_id}"} <= set(
        schema["paths"])


def test_receipt_runs_end_to_end_through_the_api(client):
    """R1.6 收文: 签收 → 登记 → 初审 → 拟办 → 批示 → 承办 → 传阅, every step by its handler through the API."""
    from zhengtong.flow import services

    o = make_office()
    clerk = o.doc_clerk  # the 收发员 signs it in: the receipt's "drafter"
    instance = services.start_process(user(clerk), identity=clerk, business_type="receipt", title="省厅来文")
    [task] = open_tasks(instance)
    steps = [
        ("sign_in", clerk, {}), ("register", clerk, {}),
        ("first_review", clerk, {"opinion": "请办公室拟办", "to_identities": [o.office_head.pk]}),
        ("propose", o.office_head, {"opinion": "拟请副局长阅示", "to_identities": [o.deputy.pk]}),
        ("instruct", o.deputy, {"opinion": "请综合科办理", "to_identities": [o.dept_head.pk]}),
        ("handle", o.dept_head, {"opinion": "已办理"}), ("circulate", clerk, {}),
    ]
    for node, identity, body in steps:
        assert (task.node_id, task.assignee_id) == (node, identity.pk)
        client.force_login(user(identity))
        todo = client.get("/api/v1/tasks").json()
        assert task.pk in [item["id"] for item in todo["items"]]
        response = act(client, identity, task, **body)
        assert response.status_code == 200, (node, response.content)
        new = response.json()["tasks"]
        if new:
            [created] = new
            task = Task.objects.get(pk=created["id"])
    assert response.json()["instance_status"] == "completed"
    client.force_login(user(o.deputy))
    trail = client.get(f"/api/v1/process-instances/{instance.pk}").json()["trail"]
    assert [e["node_id"] for e in trail[1:]] == [node for node, _, _ in steps]
    assert {"opinion": "请综合科办理", "identity": o.deputy.person.name}.items() <= trail[5].items()


def test_dispatch_with_countersign_end_to_end_through_the_api(client):
    """R1.5 发文 with a 3-person 会签, every step through POST /api/v1/tasks/{id}/actions."""
    o = make_office()
    instance = start(o)
    [draft] = open_tasks(instance)
    [review] = [Task.objects.get(pk=t["id"]) for t in act(client, o.drafter, draft).json()["tasks"]]
    body = act(client, o.dept_head, review, opinion="同意", to_identities=[o.office_head.pk]).json()
    [office] = [Task.objects.get(pk=t["id"]) for t in body["tasks"]]
    body = act(client, o.office_head, office, opinion="请会签", route="countersign",
               to_identities=[s.pk for s in o.signers]).json()
    signs = [Task.objects.get(pk=t["id"]) for t in body["tasks"]]
    assert [t.assignee for t in signs] == o.signers
    assert act(client, o.signers[0], signs[0], opinion="同意").json()["tasks"] == []
    assert act(client, o.signers[1], signs[1], opinion="同意").json()["tasks"] == []
    [sign] = act(client, o.signers[2], signs[2], opinion="同意", to_identities=[o.deputy.pk]).json()["tasks"]
    task = Task.objects.get(pk=sign["id"])
    for identity, body in [(o.deputy, {"opinion": "同意印发"}), (o.doc_clerk, {}), (o.doc_clerk, {}),
                           (o.doc_clerk, {})]:
        [created] = act(client, identity, task, **body).json()["tasks"]
        task = Task.objects.get(pk=created["id"])
    assert task.node_id == "issue"
    final = act(client, o.doc_clerk, task).json()
    assert (final["instance_status"], final["tasks"]) == ("completed", [])
    client.force_login(user(o.drafter))
    assert client.get("/api/v1/tasks?box=done").json()["count"] == 1
    detail = client.get(f"/api/v1/process-instances/{instance.pk}").json()
    assert detail["status"] == "completed" and detail["current"] == []
    assert [e["node_id"] for e in detail["trail"]].count("countersign") == 3
