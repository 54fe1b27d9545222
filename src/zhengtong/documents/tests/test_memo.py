"""签报 (memo) fixes found by the browser test (test_browser_memo): a 请示 memo has no 主送 to route, and the
document page carries the opinions (the leaders' 批示) — for the people of the flow and of the owning unit only."""
from __future__ import annotations

import pytest

from zhengtong.documents import services
from zhengtong.documents.models import Document
from zhengtong.documents.tests.support import BODY, holder_task, setup, submit, user
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

pytestmark = pytest.mark.django_db
TITLE = "综合科关于购置应急物资的请示"


@pytest.fixture
def s():
    return setup()


def memo(s, **kwargs) -> Document:
    values = {"direction": "memo", "doc_kind": "请示", "title": TITLE, "body_text": "拟购置应急物资一批。妥否，请批示。"}
    values.update(kwargs)
    return services.create_document(user(s.office.drafter), **values)


def test_r1_7_a_memo_request_goes_up_through_its_flow_without_recipients(s, client):
    """R1.7's 主送 rules route a 请示 to another body; a 签报 goes to the unit's own leaders through its flow."""
    document = memo(s)
    assert document.instance.business_type == "sign_report" and not document.recipients.exists()
    client.force_login(user(s.office.drafter))
    response = client.post("/documents/new/?direction=memo", {"direction": "memo", "doc_kind": "请示",
                                                              "title": "综合科关于增加值班人员的请示",
                                                              "body_html": "<p>妥否，请批示。</p>"})
    assert response.status_code == 302 and Document.objects.filter(title="综合科关于增加值班人员的请示").exists()
    with pytest.raises(services.RuleViolation) as exc:  # a 发文 请示 still needs exactly one 主送
        services.create_document(user(s.office.drafter), direction="outgoing", doc_kind="请示",
                                 title=f"{s.office.unit.name}关于增加编制的请示", body_text=BODY)
    assert "R1.7" in [v.rule for v in exc.value.violations]


def test_the_document_page_shows_each_opinion_and_circle_with_who_gave_it(s, client):
    o = s.office
    document = memo(s)
    submit(holder_task(document), opinion="请科长审核")
    submit(holder_task(document), opinion="同意，请办公室审核", next_handlers=[o.office_head.pk])
    submit(holder_task(document), opinion="已核", next_handlers=[o.deputy.pk])
    submit(holder_task(document), route="principal", opinion="拟同意，呈局长阅示")
    submit(holder_task(document), circled=True)  # the 局长 圈阅s
    document.refresh_from_db()
    assert document.status == "closed"
    client.force_login(user(o.drafter))
    page = client.get(f"/documents/{document.pk}/").content.decode()
    opinions = page[page.index('class="panel doc-opinions"'):]
    for text in ("请科长审核", "同意，请办公室审核", "已核", "拟同意，呈局长阅示", "圈阅", o.principal.person.name,
                 "主要负责人", "分管领导"):
        assert text in opinions, text
    assert opinions.index("拟同意，呈局长阅示") < opinions.index("圈阅") and "圈阅：圈阅" not in opinions


def test_a_reader_from_another_unit_does_not_see_the_internal_opinions(s, client):
    """A document granted to someone outside the unit (or dispatched to a recipient) shows its text, not the
    sender's internal opinions."""
    o = s.office
    document = memo(s)
    submit(holder_task(document), opinion="内部意见：经费从应急科目列支")
    outsider = IdentityFactory(unit=UnitFactory(), duty=duty(Duty.CLERK))
    services.grant_access(user(o.drafter), document, identity_ids=[outsider.pk], reason="请协助研究")
    client.force_login(user(outsider))
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert TITLE in page and "内部意见" not in page and "doc-opinions" not in page
    client.force_login(user(o.doc_clerk))  # the owning unit's 收发员 keeps the 处理单
    assert "内部意见：经费从应急科目列支" in client.get(f"/documents/{document.pk}/").content.decode()
