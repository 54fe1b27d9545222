"""发起 (/tasks/start/ and POST /api/v1/process-instances) with the business registry (flow.business): a type its
business app starts is a link there and is never started bare; a type without a `start_url` starts here as before.
Fake registrations, so the flow's side holds without the documents app (documents/tests/test_start.py has the real
ones)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from zhengtong.accounts.models import User
from zhengtong.flow import business
from zhengtong.flow.models import ProcessInstance, Task

from .test_runtime import make_office, user

pytestmark = pytest.mark.django_db
ELSEWHERE = "/elsewhere/dispatch/"


@pytest.fixture
def office(monkeypatch):
    """发文 starts elsewhere, 收文 too but not for these users, 签报 is a plain flow (no hooks at all)."""
    monkeypatch.setitem(business._HOOKS, "dispatch", business.Hooks(start_url=lambda u: ELSEWHERE,
                                                                    start_note="请到别处拟稿"))
    monkeypatch.setitem(business._HOOKS, "receipt", business.Hooks(start_url=lambda u: "",
                                                                   start_note="由收发员登记"))
    monkeypatch.delitem(business._HOOKS, "sign_report", raising=False)
    o = make_office()
    User.objects.update(otp_exempt=True)
    return o


def test_start_page_links_the_types_started_elsewhere_and_offers_the_others(client, office):
    client.force_login(user(office.drafter))
    page = client.get(reverse("flow:start"))
    body = page.content.decode()
    assert page.status_code == 200
    assert f'<a class="btn btn-primary" href="{ELSEWHERE}">发文</a>' in body and "请到别处拟稿" in body
    assert '<span class="flow-start-off">收文</span>' in body and "由收发员登记" in body  # no link for this user
    options = [value for value, _label in page.context["business_types"]]
    assert options == ["sign_report"]  # the bare form offers only the plain flow
    assert '<option value="dispatch"' not in body and '<option value="receipt"' not in body


def test_start_page_goes_straight_on_to_where_a_type_starts(client, office):
    client.force_login(user(office.drafter))
    response = client.get(reverse("flow:start"), {"business_type": "dispatch"})
    assert response.status_code == 302 and response["Location"] == ELSEWHERE
    assert client.get(reverse("flow:start"), {"business_type": "receipt"}).status_code == 200  # nowhere for them
    assert client.get(reverse("flow:start"), {"business_type": "sign_report"}).status_code == 200


def test_a_bare_start_of_a_type_started_elsewhere_is_refused_on_the_page_and_in_the_api(client, office):
    client.force_login(user(office.drafter))
    page = client.post(reverse("flow:start"), {"business_type": "dispatch", "title": "关于做好年终工作的通知"})
    assert page.status_code == 400
    assert "“发文”不能单独发起流程：请到别处拟稿" in page.content.decode()
    for business_type, note in (("dispatch", "请到别处拟稿"), ("receipt", "由收发员登记")):
        response = client.post("/api/v1/process-instances", {"business_type": business_type, "title": "来文"},
                               content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "flow.start_in_business_app" and note in response.json()["message"]
    assert not ProcessInstance.objects.exists()


def test_a_type_without_a_start_url_starts_bare_as_before(client, office):
    client.force_login(user(office.drafter))
    page = client.post(reverse("flow:start"), {"business_type": "sign_report", "title": "关于购置办公设备的签报"})
    instance = ProcessInstance.objects.get(title="关于购置办公设备的签报")
    [first] = Task.objects.filter(instance=instance, status="open")
    assert page.status_code == 302 and page["Location"] == reverse("flow:task", args=[first.pk])
    assert first.assignee == office.drafter
    response = client.post("/api/v1/process-instances", {"business_type": "sign_report", "title": "第二份签报"},
                           content_type="application/json")
    assert response.status_code == 201 and response.json()["tasks"][0]["assignee_id"] == office.drafter.pk


def test_refuse_bare_start_names_the_type_and_how_it_starts(office):
    from zhengtong.core.errors import ServiceError

    business.refuse_bare_start("sign_report")  # a plain flow: nothing to refuse
    with pytest.raises(ServiceError) as refused:
        business.refuse_bare_start("dispatch")
    assert (refused.value.code, refused.value.message) == ("flow.start_in_business_app", "“发文”不能单独发起流程：请到别处拟稿")
    assert business.start_url("dispatch", None) == ELSEWHERE and business.start_url("sign_report", None) == ""
