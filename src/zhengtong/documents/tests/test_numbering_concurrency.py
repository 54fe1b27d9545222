"""R1.3 编号 under concurrency (issue #4 §2): 50 parallel 编号 calls give 50 distinct consecutive numbers. Needs row locks
shared by threads: PostgreSQL only (SQLite serializes writers anyway; its test database is per connection)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from zhengtong.documents import services
from zhengtong.documents.models import Document, NumberEntry, NumberSequence
from zhengtong.flow import services as flow_services
from zhengtong.flow.tests.factories import DRAFTER, bpmn, task
from zhengtong.org.models import Duty
from zhengtong.org.tests.factories import IdentityFactory, builtin_duties, duty

from .support import setup, user

pytestmark = pytest.mark.django_db(transaction=True)
CALLS = 50
# a unit's own 发文 flow whose first step may take the number: each drafter numbers their own draft
NUMBER_FIRST = bpmn(task("draft", "起草并编号", DRAFTER + '<zt:form editable="title,body,recipients,doc_number"/>'),
                    process_id="number_first")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks shared by threads")
def test_fifty_parallel_numbering_calls_give_fifty_consecutive_numbers():
    builtin_duties()
    s = setup()
    admin = IdentityFactory(unit=s.office.unit, duty=duty(Duty.UNIT_ADMIN))
    definition = flow_services.upload_definition(user(admin), business_type="dispatch", unit=s.office.unit,
                                                 file_bytes=NUMBER_FIRST.encode())
    flow_services.activate_definition(user(admin), definition)
    documents = [services.create_document(user(s.office.drafter), direction="outgoing", doc_kind="通知",
                                          title=f"关于第{i}项工作的通知", body_text="正文。",
                                          main_recipients=[s.recipients[0].pk]) for i in range(CALLS)]
    barrier = threading.Barrier(CALLS)
    errors: list = []

    def take(document):
        try:
            barrier.wait(timeout=30)
            services.take_number(user(s.office.drafter), document)
        except Exception as exc:  # noqa: BLE001 — collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(d,)) for d in documents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    seqs = sorted(Document.objects.filter(pk__in=[d.pk for d in documents]).values_list("doc_seq", flat=True))
    assert seqs == list(range(1, CALLS + 1))
    assert NumberSequence.objects.get(unit=s.office.unit, code="测发").last == CALLS
    assert NumberEntry.objects.filter(unit=s.office.unit, status="used").count() == CALLS
