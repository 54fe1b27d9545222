"""The 待办 centre and the task page (issue #3 §3): workspace counts, list and filters, 403 for outsiders
(R7 audited), and 提交 through the form moves the flow (the 发文 default flow, services + org factories)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from zhengtong.accounts.models import User
from zhengtong.audit.models import AuditRecord
from zhengtong.flow.models import Task
from zhengtong.org.tests.factories import IdentityFactory

from .test_runtime import make_office, open_tasks, start, submit, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    o = make_office()
    User.objects.update(otp_exempt=True)
    return o


def as_user(client, identity):
    client.force_login(user(identity))
    return client


def test_home_counts_todo_and_toread_of_all_my_identities(client, office):
    start(office)
    start(office)
    body = as_user(client, office.drafter).get(reverse("web:home")).content.decode()
    assert 'href="/tasks/"' in body and 'href="/tasks/toread/"' in body
    assert '<span class="counter-value">2</span><span class="counter-label">待办</span>' in body
    assert '<span class="counter-value">0</span><span class="counter-label">待阅</span>' in body


def test_todo_list_shows_columns_sorted_by_deadline_with_badges_and_behalf_note(client, office):
    first, second = start(office), start(office)
    [a] = open_tasks(first)
    [b] = open_tasks(second)
    today = timezone.localdate()
    Task.objects.filter(pk=a.pk).update(deadline=today + timedelta(days=5), deadline_status="normal")
    Task.objects.filter(pk=b.pk).update(deadline=today - timedelta(days=1), deadline_status="red",
                                        on_behalf_of=office.dept_head)
    resp = as_user(client, office.drafter).get(reverse("flow:todo"))
    body = resp.content.decode()
    assert resp.status_code == 200
    for header in ("标题", "业务类型", "当前环节", "来自", "收到时间", "办理期限"):
        assert f"<th>{header}</th>" in body
    assert body.index(f'href="/tasks/{b.pk}/"') < body.index(f'href="/tasks/{a.pk}/"')  # overdue first
    assert '<span class="badge badge-red">红牌</span>' in body and "发文" in body and "起草" in body
    assert f"（代 {office.dept_head.person.name} 办理）" in body


def test_filters_by_deadline_status_business_type_and_date(client, office):
    instance = start(office)
    [task] = open_tasks(instance)
    Task.objects.filter(pk=task.pk).update(deadline_status="yellow")
    c = as_user(client, office.drafter)
    assert c.get(reverse("flow:todo"), {"deadline_status": "yellow"}).context["count"] == 1
    assert c.get(reverse("flow:todo"), {"deadline_status": "red"}).context["count"] == 0
    assert c.get(reverse("flow:todo"), {"business_type": "receipt"}).context["count"] == 0
    assert c.get(reverse("flow:todo"), {"business_type": "dispatch"}).context["count"] == 1
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert c.get(reverse("flow:todo"), {"from": tomorrow}).context["count"] == 0
    assert c.get(reverse("flow:todo"), {"to": tomorrow, "from": "junk"}).context["count"] == 1
    assert '<span class="badge badge-yellow">黄牌</span>' in c.get(reverse("flow:todo")).content.decode()


def test_done_box_lists_what_i_submitted_and_pages(client, office):
    for _ in range(22):
        start(office)
    c = as_user(client, office.drafter)
    first = c.get(reverse("flow:todo"))
    assert first.context["count"] == 22 and len(first.context["items"]) == 20 and first.context["pages"] == 2
    assert len(c.get(reverse("flow:todo"), {"page": "2"}).context["items"]) == 2
    [draft] = open_tasks(start(office))
    submit(draft)
    done = c.get(reverse("flow:done"))
    assert done.context["count"] == 1 and done.context["items"][0]["id"] == draft.pk


def test_list_requires_login_and_every_box_renders(client, office):
    assert client.get(reverse("flow:todo")).status_code == 302
    c = as_user(client, office.drafter)
    for box, label in (("toread", "待阅"), ("read", "已阅"), ("done", "已办")):
        resp = c.get(reverse(f"flow:{box}"))
        assert resp.status_code == 200 and f"暂无{label}" in resp.content.decode()


def test_non_participant_gets_403_and_it_is_audited(client, office):
    """R7: only participants see an instance; the refusal is audited."""
    [draft] = open_tasks(start(office))
    outsider = IdentityFactory()
    User.objects.update(otp_exempt=True)
    resp = as_user(client, outsider).get(reverse("flow:task", args=[draft.pk]))
    assert resp.status_code == 403 and "无权访问" in resp.content.decode()
    assert AuditRecord.objects.filter(action="permission.denied", outcome="denied",
                                      object_id=str(draft.instance_id)).exists()
    assert client.post(reverse("flow:task", args=[draft.pk]), {"opinion": "x"}).status_code == 403
    assert Task.objects.get(pk=draft.pk).status == "open"


def test_task_page_shows_trail_and_submit_form_only_to_the_holder(client, office):
    [draft] = open_tasks(start(office))
    [review] = submit(draft)
    page = as_user(client, office.dept_head).get(reverse("flow:task", args=[review.pk])).content.decode()
    assert "关于做好年终工作的通知" in page and "处室核稿" in page and 'id="submit-form"' in page
    assert "发起" in page and "提交" in page and "本环节需要填写意见" in page
    assert 'id="flow-diagram-xml"' in page and 'data-current="[&quot;dept_review&quot;]"' in page
    assert 'data-done="[&quot;draft&quot;]"' in page
    # the drafter participated but does not hold this task: the page, no form
    page = as_user(client, office.drafter).get(reverse("flow:task", args=[review.pk])).content.decode()
    assert "办理轨迹" in page and 'id="submit-form"' not in page


def test_submit_through_the_form_moves_the_flow_with_chosen_handler_and_route(client, office):
    [draft] = open_tasks(start(office))
    c = as_user(client, office.drafter)
    resp = c.post(reverse("flow:task", args=[draft.pk]), {"opinion": ""})
    assert resp.status_code == 302 and resp.url == reverse("flow:todo")
    [review] = open_tasks(draft.instance)
    assert review.assignee == office.dept_head
    c = as_user(client, office.dept_head)
    page = c.get(reverse("flow:task", args=[review.pk])).content.decode()
    assert 'name="next_handlers"' in page and "办公室审核" in page  # next rule is "chosen": the picker
    # opinion required: a Chinese message on the page, nothing moves
    resp = c.post(reverse("flow:task", args=[review.pk]), {"opinion": "", "next_handlers": str(office.office_head.pk)})
    assert resp.status_code == 400 and "需要填写意见" in resp.content.decode()
    assert open_tasks(review.instance) == [review]
    # bad ids → message, not a 500
    resp = c.post(reverse("flow:task", args=[review.pk]), {"opinion": "同意", "next_handlers": "x,y"})
    assert resp.status_code == 400 and "下一步办理人无效" in resp.content.decode()
    resp = c.post(reverse("flow:task", args=[review.pk]), {"opinion": "同意", "next_handlers": str(office.office_head.pk)})
    assert resp.status_code == 302
    [office_task] = open_tasks(review.instance)
    assert (office_task.node_id, office_task.assignee) == ("office_review", office.office_head)
    # 办公室审核 offers the 会签 route
    c = as_user(client, office.office_head)
    page = c.get(reverse("flow:task", args=[office_task.pk])).content.decode()
    assert '<option value="countersign">转会签</option>' in page and 'data-multiple="true"' in page
    resp = c.post(reverse("flow:task", args=[office_task.pk]), {"opinion": "请会签", "route": "countersign",
                  "next_handlers": ",".join(str(s.pk) for s in office.signers)})
    assert resp.status_code == 302
    assert sorted(t.assignee_id for t in open_tasks(review.instance)) == sorted(s.pk for s in office.signers)
    # the submitted task is now in 已办 and its page has no form any more
    page = c.get(reverse("flow:task", args=[office_task.pk])).content.decode()
    assert 'id="submit-form"' not in page and "请会签" in page
    resp = c.post(reverse("flow:task", args=[office_task.pk]), {"opinion": "again"})
    assert resp.status_code == 400 and "不能提交" in resp.content.decode()


def test_the_holder_opening_the_page_marks_the_task_opened_so_the_sender_can_no_longer_retract(client, office):
    from zhengtong.core.errors import Conflict
    from zhengtong.flow import services

    [draft] = open_tasks(start(office))
    [review] = submit(draft)
    as_user(client, office.drafter).get(reverse("flow:task", args=[review.pk]))  # a participant, not the holder
    review.refresh_from_db()
    assert review.opened_at is None
    as_user(client, office.dept_head).get(reverse("flow:task", args=[review.pk]))
    review.refresh_from_db()
    assert review.opened_at is not None
    draft.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services.retract_task(user(office.drafter), draft)
    assert exc.value.code == "flow.retract_too_late"


def test_started_box_lists_my_instances_with_where_they_are_and_opens_them(client):
    from .test_runtime import make_office, open_tasks, start, submit

    o = make_office()
    first = start(o)
    second = start(o)
    [draft] = open_tasks(second)
    [review] = submit(draft)
    client.force_login(o.drafter.person.user)
    page = client.get("/tasks/started/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "我发起的" in text and text.count("关于做好年终工作的通知") == 2
    assert f"处室核稿（{o.dept_head.person.name}）" in text and f"起草（{o.drafter.person.name}）" in text
    assert "status=completed" not in text
    api = client.get("/api/v1/process-instances?scope=started").json()
    assert api["count"] == 2 and [i["id"] for i in api["items"]] == [second.pk, first.pk]
    assert api["items"][0]["current"][0]["node_name"] == "处室核稿"
    # the instance link opens the viewer's own row: for the drafter, the 起草 row they submitted
    response = client.get(f"/tasks/instances/{second.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{draft.pk}/"
    # someone else sees nothing of it
    client.force_login(o.signers[0].person.user)
    assert client.get("/api/v1/process-instances?scope=started").json()["count"] == 0
    assert client.get(f"/tasks/instances/{second.pk}/").status_code == 403
    assert review.assignee == o.dept_head


def test_task_page_offers_the_holders_operations_and_they_work(client):
    """退回 / 转办 / 委派 / 加签 offered where the node allows them; the forms post to /tasks/<id>/act/."""
    from zhengtong.flow.models import Task

    from .test_runtime import make_office, open_tasks, start, submit

    o = make_office()
    [draft] = open_tasks(start(o))
    [review] = submit(draft)
    client.force_login(o.dept_head.person.user)
    text = client.get(f"/tasks/{review.pk}/").content.decode()
    for block in ('id="op-return"', 'id="op-transfer"', 'id="op-delegate"', 'id="op-add-signers"'):
        assert block in text
    assert '<option value="draft">起草（上一步）</option>' in text
    # 加签 (before) through the form, then 减签 through the checkboxes
    response = client.post(f"/tasks/{review.pk}/act/", {"action": "add_signers", "position": "before",
                                                        "to_identities": f"{o.signers[0].pk},{o.signers[1].pk}"})
    assert response.status_code == 302 and response["Location"] == f"/tasks/{review.pk}/"
    text = client.get(f"/tasks/{review.pk}/").content.decode()
    assert "已前加签" in text and 'id="op-remove-signers"' in text and o.signers[0].person.name in text
    client.post(f"/tasks/{review.pk}/act/", {"action": "remove_signers", "remove": [o.signers[0].pk,
                                                                                    o.signers[1].pk]})
    assert Task.objects.get(pk=review.pk).status == Task.Status.OPEN
    # a refusal comes back as a message on the task page, nothing changes
    response = client.post(f"/tasks/{review.pk}/act/", {"action": "return", "opinion": ""}, follow=True)
    assert "退回未完成：退回必须填写理由" in response.content.decode()
    response = client.post(f"/tasks/{review.pk}/act/", {"action": "return", "target_node": "draft",
                                                        "opinion": "请补充依据"}, follow=True)
    assert response.redirect_chain[-1][0] == "/tasks/" and "已退回" in response.content.decode()
    returned = Task.objects.get(instance=review.instance, node_id="draft", status="open")
    assert returned.returned_by == o.dept_head
    # the drafter may send it straight back to the returner
    client.force_login(o.drafter.person.user)
    text = client.get(f"/tasks/{returned.pk}/").content.decode()
    assert "直接送回退回人" in text
    response = client.post(f"/tasks/{returned.pk}/", {"opinion": "已补充", "send_back": "1"})
    assert response.status_code == 302
    back = Task.objects.get(instance=review.instance, node_id="dept_review", status="open")
    assert back.assignee == o.dept_head
    # someone else sees none of these forms and cannot post them
    client.force_login(o.signers[2].person.user)
    response = client.post(f"/tasks/{back.pk}/act/", {"action": "transfer", "to_identities": str(o.signers[1].pk)},
                           follow=True)
    assert "这不是您的待办任务" in response.content.decode()
    assert Task.objects.get(pk=back.pk).status == Task.Status.OPEN


def test_r1_4_circle_from_the_task_page(client):
    from zhengtong.flow.models import TrailEntry

    from .test_runtime import make_office, run_to_office_review, submit

    o = make_office()
    office = run_to_office_review(o)
    [sign] = submit(office, opinion="拟同意", next_handlers=[o.deputy.pk])
    client.force_login(o.deputy.person.user)
    assert ">圈阅</button>" in client.get(f"/tasks/{sign.pk}/").content.decode()
    response = client.post(f"/tasks/{sign.pk}/", {"opinion": "", "circled": "1"})
    assert response.status_code == 302
    assert TrailEntry.objects.get(instance=sign.instance, operation="circle_read").opinion == "圈阅"
