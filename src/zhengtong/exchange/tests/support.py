"""A sealed 示范市人民政府 通知 taken through the demo city's 发文 path to 核发 (bgs.keyuan drafts … bgs.sfy
dispatches), for the exchange tests."""
from __future__ import annotations

from zhengtong.accounts.models import User
from zhengtong.documents.models import Document
from zhengtong.documents.tests.test_api_demo_path import act, identity, login, open_task
from zhengtong.org.models import Unit

TITLE = "示范市人民政府关于做好2027年冬季校园安全工作的通知"


def clerk_unit(username: str) -> Unit:
    return User.objects.get(username=username).person.identities.get(active=True, is_main=True).unit


def dispatched(client, *, main: list[Unit], copy: list[Unit] = (), distribution=None) -> Document:
    """`distribution`: [{"unit", "copies", "print_limit"}] set at the 核发 step before dispatching."""
    login(client, "bgs.keyuan")
    office = clerk_unit("bgs.keyuan")
    response = client.post("/api/v1/documents", {
        "direction": "outgoing", "doc_kind": "通知", "title": TITLE, "issuing_unit": office.parent_id,
        "body": "为切实做好冬季校园安全工作，现就有关事项通知如下。\n一、压实责任\n各单位要落实安全责任。",
        "main_recipients": [u.pk for u in main], "copy_recipients": [u.pk for u in copy]},
        content_type="application/json")
    assert response.status_code == 201, response.content.decode()
    doc_id, draft = response.json()["id"], response.json()["task_id"]
    [review] = act(client, draft, action="submit", opinion="请审核")["tasks"]
    login(client, open_task(doc_id).assignee.person.user.username)
    act(client, review["id"], action="submit", opinion="同意", to_identities=[identity("bgs.zhuren")])
    login(client, "bgs.zhuren")
    act(client, open_task(doc_id).pk, action="submit", opinion="请签发", to_identities=[identity("fushizhang")])
    login(client, "fushizhang")
    act(client, open_task(doc_id).pk, action="submit", opinion="同意印发")
    login(client, "bgs.sfy")
    act(client, open_task(doc_id).pk, action="submit", opinion="已复核")
    for step in ("number", "seal", "dispatch"):
        task = open_task(doc_id)
        if step == "dispatch" and distribution:
            done = client.post(f"/api/v1/documents/{doc_id}/distribution", {"recipients": distribution},
                               content_type="application/json")
            assert done.status_code == 200, done.content.decode()
        done = client.post(f"/api/v1/documents/{doc_id}/{step}", {}, content_type="application/json")
        assert done.status_code == 200, done.content.decode()
        act(client, task.pk, action="submit")
    return Document.objects.get(pk=doc_id)
