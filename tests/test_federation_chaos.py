"""公文交换 between two instances under crashes (issue #5 §2): while 2,000 documents are being exchanged, kill -9
the sender's worker, then the receiver's web server (gunicorn master and workers), then restart both; then, once
the sender is draining again, kill -9 the receiver's web server once more in the middle of its receiving and
restart it. In the end every document has arrived exactly once (2,000 deliveries of 2,000 distinct documents),
every 送达 receipt has come back (one "delivered" event on each of the sender's 2,000 deliveries), and no envelope
is left pending or dead on either side.

What the crashes exercise: envelopes claimed by the killed worker come due again when their lease (60 s) ends
and the periodic drain picks them up; an envelope the receiver stored whose answer was lost is sent again and
found by its id (no second document); a request cut off mid-transaction is rolled back and sent again.

The sender's 2,000 documents share one rendered GB/T 9704 PDF (rendering takes ~60 ms each); each still goes
through `record_dispatch`, so its outbox row is written in the 核发 transaction. Slow: a few minutes.
"""
from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.federation.instances import Instance, describe, link, wait_for

DOCUMENTS = 2000
TITLE = "甲县人民政府办公室关于开展冬季安全生产大检查的通知"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("chaos")
    county, city = Instance("county", root, retry_base=0.5), Instance("city", root, retry_base=0.5)

    def prepare(instance: Instance) -> dict:
        instance.manage("migrate", "--noinput")
        instance.manage("load_default_flows")
        return instance.node("setup", instance.role)

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(prepare, (county, city)))
    link(county, city, describe(city))
    link(city, county, describe(county))
    try:
        for instance in (county, city):
            instance.start_web()
            instance.start_worker()
        yield county, city, codes[1]["unit"]
    finally:
        for instance in (county, city):
            instance.stop()


def sent(instance: Instance) -> int:
    return instance.node("envelopes").get("out/document/sent", 0)


def settled(county: Instance, city: Instance):
    """Both summaries once everything arrived and every outbox is empty, else None."""
    there = city.node("summary", TITLE)
    if there["deliveries"] < DOCUMENTS or there["pending_receipts"] or pending(there["envelopes"]):
        return None
    here = county.node("summary", TITLE)
    if here["with_delivered_event"] < DOCUMENTS or pending(here["envelopes"]):
        return None
    return here, city.node("summary", TITLE)


def pending(envelopes: dict) -> int:
    return sum(n for key, n in envelopes.items() if key.startswith("out/") and not key.endswith("/sent"))


def test_every_document_arrives_once_and_every_receipt_returns_through_crashes(pair):
    county, city, city_unit = pair
    sending = {}
    writer = threading.Thread(target=lambda: sending.update(county.node("send", city_unit, TITLE, str(DOCUMENTS),
                                                                        "--one-pdf", timeout=900)))
    writer.start()
    try:
        # 1. mid-drain: the sender's worker dies (its claimed envelopes are leased for 60 s), then the receiver's
        #    web server; both come back
        wait_for(lambda: sent(county) >= 300, timeout=300, every=2, what="the first 300 envelopes sent")
        county.kill("worker", signal.SIGKILL)
        city.kill_tree("web", signal.SIGKILL)
        crashed_at = sent(county)
        time.sleep(2)
        county.start_worker()
        city.start_web()

        # 2. the sender is draining again: the receiver's web server dies in the middle of receiving
        wait_for(lambda: sent(county) >= crashed_at + 300, timeout=300, every=2,
                 what="300 more envelopes sent after the restart")
        city.kill_tree("web", signal.SIGKILL)
        time.sleep(3)  # the sender's attempts fail meanwhile and are retried with backoff
        city.start_web()
    finally:
        writer.join()
    assert len(sending["documents"]) == DOCUMENTS

    here, there = wait_for(lambda: settled(county, city), timeout=420, every=5,
                           what="every document delivered, every receipt back, every outbox empty")

    # the receiver: each document once, in its 收发员's 交换箱
    assert there["deliveries"] == there["documents"] == there["doc_numbers"] == DOCUMENTS, there
    assert there["by_status"] == {"pending": DOCUMENTS}, there
    receipts = there["envelopes"]["out/receipt/sent"]  # the 送达 receipts, sealed in batches by the worker
    assert there["envelopes"] == {"in/document/accepted": DOCUMENTS, "out/receipt/sent": receipts}, there
    assert there["pending_receipts"] == 0 and 1 <= receipts <= DOCUMENTS, there

    # the sender: every envelope accepted by the receiver, every 送达 receipt applied once
    assert here["deliveries"] == here["documents"] == DOCUMENTS, here
    assert here["with_delivered_event"] == here["delivered_events"] == DOCUMENTS, here
    assert here["by_status"] == {"pending": DOCUMENTS}, here
    assert here["envelopes"] == {"out/document/sent": DOCUMENTS, "in/receipt/accepted": receipts}, here
