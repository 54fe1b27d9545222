"""Shared set-up for the document tests: a unit with the posts the default flows need, recipients, and a walk along
the default 发文 flow to a named step."""
from __future__ import annotations

from dataclasses import dataclass

from zhengtong.documents import services
from zhengtong.documents.models import Document
from zhengtong.flow import services as flow_services
from zhengtong.flow.models import Task
from zhengtong.flow.tests.test_runtime import Office, make_office
from zhengtong.org.tests.factories import UnitFactory

BODY = ("为切实做好冬季安全生产工作，现就有关事项通知如下。\n一、提高思想认识\n各单位要充分认识做好冬季安全生产工作的重要性。\n"
        "二、落实工作责任\n（一）压实主体责任。各单位主要负责人是第一责任人。\n请各单位认真贯彻执行。")


@dataclass
class Setup:
    office: Office
    recipients: list


def user(identity):
    return identity.person.user


def setup() -> Setup:
    office = make_office()
    office.unit.doc_code = "测发"
    office.unit.save(update_fields=["doc_code"])
    return Setup(office=office, recipients=[UnitFactory(), UnitFactory()])


def draft(s: Setup, **kwargs) -> Document:
    values = {"direction": "outgoing", "doc_kind": "通知", "title": f"{s.office.unit.name}关于做好冬季安全生产工作的通知",
              "body_text": BODY, "main_recipients": [s.recipients[0].pk], "copy_recipients": [s.recipients[1].pk]}
    values.update(kwargs)
    return services.create_document(user(s.office.drafter), **values)


def holder_task(document: Document) -> Task:
    return Task.objects.filter(instance_id=document.instance_id, status=Task.Status.OPEN,
                               kind=Task.Kind.TODO).select_related("assignee__person__user").get()


def submit(task: Task, **kwargs) -> list[Task]:
    return flow_services.submit_task(user(task.assignee), task, **kwargs)


def walk(s: Setup, document: Document, to: str) -> Task:
    """Submit the default 发文 flow's steps until the open step is `to` (draft, dept_review, office_review, sign,
    recheck, number, seal, issue); returns that task. Numbering, sealing and dispatch happen on the way only
    when the walk has to pass them."""
    o = s.office
    chosen = {"dept_review": [o.office_head.pk], "office_review": [o.deputy.pk]}
    opinions = {"dept_review": "同意", "office_review": "同意", "sign": "同意印发"}
    while True:
        task = holder_task(document)
        if task.node_id == to:
            return task
        if task.node_id == "number":
            services.take_number(user(task.assignee), document)
        elif task.node_id == "seal":
            services.seal_document(user(task.assignee), document)
        elif task.node_id == "issue":
            services.dispatch_document(user(task.assignee), document)
        submit(task, opinion=opinions.get(task.node_id, ""), next_handlers=chosen.get(task.node_id))
        document.refresh_from_db()
