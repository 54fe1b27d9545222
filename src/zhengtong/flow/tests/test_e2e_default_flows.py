"""The platform's default 发文 and 收文 flows end to end through the public API, on the demo city (small scale) with
its named accounts (issue #3, done criterion): every step is taken by whoever holds it, as an API client would —
read the task (`GET /api/v1/tasks/{id}`: routes and candidates), act on it (`POST …/actions`) — and the instance
(`GET /api/v1/process-instances/{id}`) ends 办结 with the whole trail. R1.5 (发文 steps) and R1.6 (收文 steps).

The instances start as the documents app starts them (`services.start_process` at 拟稿 and 登记): the flow's own
发起 refuses these types (flow/tests/test_start.py). Without a document the steps' document side (编号, 用印, 核发)
is not asked for; documents/tests/test_api_demo_path.py walks that."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from zhengtong.accounts.models import User
from zhengtong.flow import services
from zhengtong.flow.models import Task

pytestmark = pytest.mark.django_db

DISPATCH_STEPS = ["draft", "dept_review", "office_review", "countersign", "sign", "recheck", "number", "seal", "issue"]
RECEIPT_STEPS = ["sign_in", "register", "first_review", "propose", "instruct", "handle", "circulate"]


@pytest.fixture
def city():
    call_command("seed_demo", scale=0.05)
    call_command("load_default_flows")


def start(username: str, business_type: str, title: str) -> dict:
    """The new instance's id and first tasks: started through the service, as the documents app does at 拟稿 and 登记."""
    actor = User.objects.get(username=username)
    instance = services.start_process(actor, identity=services.identity_to_start(actor), business_type=business_type,
                                      title=title)
    tasks = Task.objects.filter(instance=instance, status=Task.Status.OPEN).order_by("id")
    return {"id": instance.pk, "tasks": [{"id": t.pk, "node_id": t.node_id} for t in tasks]}


def as_holder(client, task_id: int) -> dict:
    task = Task.objects.select_related("assignee__person__user").get(pk=task_id)
    client.force_login(task.assignee.person.user)
    detail = client.get(f"/api/v1/tasks/{task_id}").json()
    assert detail["status"] == "open" and detail["submit"] is not None, detail
    return detail


def act(client, task_id: int, **body) -> dict:
    response = client.post(f"/api/v1/tasks/{task_id}/actions", body, content_type="application/json")
    assert response.status_code == 200, response.content.decode()
    return response.json()


def pick(detail: dict, node_name: str, prefer: str = "", count: int = 1) -> list[int]:
    """Identity ids from the task's candidates for `node_name`, a named demo account first when it is one."""
    options = [c for c in detail["submit"]["candidates"] if c["node_name"] == node_name]
    assert len(options) >= count, (node_name, options)
    if prefer:
        wanted = User.objects.get(username=prefer).person.identities.values_list("pk", flat=True)
        options.sort(key=lambda c: c["identity_id"] not in set(wanted))
    return [c["identity_id"] for c in options[:count]]


def test_r1_5_dispatch_runs_end_to_end_through_the_api(client, city):
    started = start("bgs.keyuan", "dispatch", "关于开展2027年度安全生产大检查的通知")
    instance_id, [draft] = started["id"], started["tasks"]
    assert draft["node_id"] == "draft"

    detail = as_holder(client, draft["id"])
    [review] = act(client, draft["id"], action="submit", opinion="请审核")["tasks"]
    detail = as_holder(client, review["id"])
    assert detail["submit"]["chosen_nodes"] == ["办公室审核"] and detail["submit"]["opinion_required"]
    [office] = act(client, review["id"], action="submit", opinion="同意",
                   to_identities=pick(detail, "办公室审核"))["tasks"]
    detail = as_holder(client, office["id"])
    assert {"value": "countersign", "label": "会签"} in detail["submit"]["routes"]
    signers = pick(detail, "会签", count=2)
    countersign = act(client, office["id"], action="submit", route="countersign", opinion="请相关处室会签",
                      to_identities=signers)["tasks"]
    assert [t["assignee_id"] for t in countersign] == signers
    assert act(client, countersign[0]["id"], action="submit", opinion="无意见")["tasks"] == []
    detail = as_holder(client, countersign[1]["id"])
    assert detail["submit"]["chosen_nodes"] == ["签发"]  # the last signer chooses who signs
    [sign] = act(client, countersign[1]["id"], action="submit", opinion="同意",
                 to_identities=pick(detail, "签发", prefer="bgs.zhuren"))["tasks"]
    assert sign["assignee_id"] in User.objects.get(username="bgs.zhuren").person.identities.values_list("pk",
                                                                                                        flat=True)
    as_holder(client, sign["id"])
    [recheck] = act(client, sign["id"], action="submit", opinion="同意印发")["tasks"]  # R1.4 opinion and name
    step = recheck
    for node in ("recheck", "number", "seal", "issue"):
        assert step["node_id"] == node
        as_holder(client, step["id"])
        result = act(client, step["id"], action="submit")
        step = result["tasks"][0] if result["tasks"] else None
    assert step is None and result["instance_status"] == "completed"

    client.force_login(User.objects.get(username="bgs.keyuan"))
    instance = client.get(f"/api/v1/process-instances/{instance_id}").json()
    assert instance["status"] == "completed" and instance["current"] == []
    handled = [e["node_id"] for e in instance["trail"] if e["operation"] == "submit"]
    assert [n for n in DISPATCH_STEPS if n in handled] == DISPATCH_STEPS  # every R1.5 step, in order
    signed = next(e for e in instance["trail"] if e["node_id"] == "sign")
    assert signed["identity"] == "王建华" and signed["opinion"] == "同意印发"
    started_box = client.get("/api/v1/process-instances?scope=started&status=completed").json()
    # newest first; the demo city has a dispatched document of bgs.keyuan's as well
    assert [i["id"] for i in started_box["items"]][0] == instance_id
    assert all(i["status"] == "completed" for i in started_box["items"])


def test_r1_6_receipt_runs_end_to_end_through_the_api_with_circulation(client, city):
    started = start("jyj.sfy", "receipt", "市政府办公室关于做好寒假期间校园安全工作的通知")
    clerk = User.objects.get(username="jyj.sfy")
    client.force_login(clerk)
    instance_id, [sign_in] = started["id"], started["tasks"]
    [register] = act(client, sign_in["id"], action="submit")["tasks"]  # 签收 (time recorded in the trail)
    [review] = act(client, register["id"], action="submit")["tasks"]
    detail = as_holder(client, review["id"])
    assert detail["submit"]["chosen_nodes"] == ["拟办"]
    [propose] = act(client, review["id"], action="submit", opinion="符合收文要求",
                    to_identities=pick(detail, "拟办"))["tasks"]
    detail = as_holder(client, propose["id"])
    [instruct] = act(client, propose["id"], action="submit", opinion="拟请周局长阅示，由办公室牵头办理",
                     to_identities=pick(detail, "批示", prefer="jyj.juzhang"))["tasks"]
    detail = as_holder(client, instruct["id"])
    chief = Task.objects.get(pk=instruct["id"]).assignee
    assert chief.person.user.username == "jyj.juzhang"
    # the leader circulates it to two colleagues (never blocking the flow), then circles it (R1.4)
    readers = [c["identity_id"] for c in detail["submit"]["candidates"] if c["identity_id"] != chief.pk][:1]
    readers.append(Task.objects.get(pk=propose["id"]).assignee_id)
    readers = list(dict.fromkeys(readers))
    circulated = act(client, instruct["id"], action="circulate", to_identities=readers, opinion="请阅")["tasks"]
    assert len(circulated) == len(readers)
    [handle] = act(client, instruct["id"], action="submit", circled=True,
                   to_identities=pick(detail, "承办"))["tasks"]
    as_holder(client, handle["id"])
    [last] = act(client, handle["id"], action="submit", opinion="已按要求部署，办结")["tasks"]
    assert last["node_id"] == "circulate"
    as_holder(client, last["id"])
    result = act(client, last["id"], action="submit")
    assert result["tasks"] == [] and result["instance_status"] == "completed"

    # each reader has it in 待阅 and marks it read; the flow did not wait for them
    for row in Task.objects.filter(instance_id=instance_id, kind="toread").select_related("assignee__person__user"):
        client.force_login(row.assignee.person.user)
        box = client.get("/api/v1/tasks?box=toread").json()
        assert row.pk in [i["id"] for i in box["items"]]
        response = client.post("/api/v1/tasks/read", {"ids": [row.pk]}, content_type="application/json")
        assert response.status_code == 200 and response.json()["marked"] == 1

    client.force_login(clerk)
    instance = client.get(f"/api/v1/process-instances/{instance_id}").json()
    assert instance["status"] == "completed"
    handled = [e["node_id"] for e in instance["trail"] if e["operation"] in ("submit", "circle_read")]
    assert [n for n in RECEIPT_STEPS if n in handled] == RECEIPT_STEPS  # every R1.6 step, in order
    circled = next(e for e in instance["trail"] if e["operation"] == "circle_read")
    assert (circled["node_id"], circled["identity"], circled["opinion"]) == ("instruct", "周明辉", "圈阅")
    assert any(e["operation"] == "circulate" for e in instance["trail"])
