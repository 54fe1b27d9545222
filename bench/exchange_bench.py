"""Issue #5 §5 exchange benchmark, inside one instance: one sealed document dispatched to 1,000 recipient units —
every 交换箱 entry visible ≤ 3 s after 核发.

    .venv/bin/python bench/exchange_bench.py [--units 1000] [--runs 5] [--no-write]

Runs the product code against a scratch test database (SQLite unless DATABASE_URL is set): the demo city is seeded,
1,000 extra units are created, and each run takes a fresh 示范市人民政府 通知 through the real 发文 flow to 核发 by
bgs.sfy with those 1,000 units as 主送. Measured: `documents.services.dispatch_document` — the 1,000 Dispatch rows,
the search reader keys, the exchange's 1,000 deliveries and receipts and the audit record, committed in one
transaction (an entry is visible to its unit the moment that commits) — then the 交换箱 query
(`exchange.selectors.inbox`) of 50 of those units' 收发员, and a check that all 1,000 entries are there.
Floor in the same run: 1,000 rows of the same width inserted with one bulk_create in a transaction.
Writes the block between <!-- exchange:<database>:begin --> and <!-- exchange:<database>:end --> in
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))
DOC = REPO / "docs" / "PERFORMANCE.md"
TARGET_S = 3.0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengtong.settings.test")
    os.environ["DATA_DIR"] = os.environ.get("BENCH_DATA_DIR", "/tmp/zt-exchangebench")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    return connection, name


def world(units: int, clerks: int):
    from django.core.management import call_command

    from zhengtong.org.models import Duty
    from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, duty

    call_command("seed_demo", scale=0.05, verbosity=0)
    recipients = [UnitFactory() for _ in range(units)]
    clerk_duty = duty(Duty.DOC_CLERK)
    sample = [IdentityFactory(unit=u, duty=clerk_duty) for u in recipients[:: max(1, units // clerks)][:clerks]]
    return recipients, sample


def to_dispatch(recipients):
    """A fresh 通知 of 示范市人民政府 to every recipient, through the real flow up to the 核发 step."""
    from zhengtong.accounts.models import User
    from zhengtong.documents import services as documents
    from zhengtong.flow import services as flows
    from zhengtong.flow.models import Task

    def user(name):
        return User.objects.get(username=name)

    def post(name):
        return user(name).person.identities.get(active=True, is_main=True)

    def open_task(document):
        return Task.objects.select_related("assignee__person__user").get(instance_id=document.instance_id,
                                                                        status="open", kind="todo")

    def submit(task, **kw):
        return flows.submit_task(task.assignee.person.user, task, **kw)

    office = post("bgs.keyuan").unit
    document = documents.create_document(
        user("bgs.keyuan"), direction="outgoing", doc_kind="通知", issuing_unit_id=office.parent_id,
        title="示范市人民政府关于做好2027年度机关事务管理工作的通知", body_text="现就有关事项通知如下。\n一、总体要求\n请认真贯彻落实。",
        main_recipients=[u.pk for u in recipients], copy_recipients=[], main_recipients_text="各有关单位")
    review = submit(open_task(document), opinion="请审核")[0]
    office_review = submit(review, opinion="同意", next_handlers=[post("bgs.zhuren").pk])[0]
    sign = submit(office_review, opinion="请签发", next_handlers=[post("fushizhang").pk])[0]
    submit(submit(sign, opinion="同意印发")[0], opinion="已复核")
    clerk = user("bgs.sfy")
    for step in (documents.take_number, documents.seal_document):
        task = open_task(document)
        document.refresh_from_db()
        step(clerk, document)
        submit(task)
    document.refresh_from_db()
    return document, clerk


def measure(units: int, runs: int, clerks: int) -> dict:
    from django.db import transaction

    from zhengtong.documents import services as documents
    from zhengtong.exchange import selectors
    from zhengtong.exchange.models import Delivery, DeliveryEvent

    recipients, sample = world(units, clerks)
    dispatch_s, inbox_ms, floor_s = [], [], []
    for run in range(runs):
        document, clerk = to_dispatch(recipients)
        started = time.perf_counter()
        documents.dispatch_document(clerk, document)  # its own transaction: committed when it returns
        dispatch_s.append(time.perf_counter() - started)
        assert Delivery.objects.filter(document=document, status="pending").count() == units
        for identity in sample:
            started = time.perf_counter()
            rows = list(selectors.inbox(identity.person.user, "pending")[:20])
            inbox_ms.append((time.perf_counter() - started) * 1000)
            assert rows and rows[0].document_id == document.pk
        # floor: 1,000 rows of a delivery's width, one bulk_create, one transaction (rolled back)
        first = Delivery.objects.filter(document=document).first()
        started = time.perf_counter()
        try:
            with transaction.atomic():
                DeliveryEvent.objects.bulk_create([DeliveryEvent(delivery=first, kind="urged", note="x" * 20)
                                                   for _ in range(units)])
                floor_s.append(time.perf_counter() - started)
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
        print(f"run {run + 1}: 核发 to {units} units {dispatch_s[-1]:.3f} s", file=sys.stderr)
    return {"units": units, "runs": runs, "dispatch_s": dispatch_s, "inbox_ms": inbox_ms, "floor_s": floor_s,
            "clerks": len(sample)}


def render(r: dict, db: str) -> str:
    from django.utils import timezone

    worst = max(r["dispatch_s"])
    met = "met" if worst + pct(r["inbox_ms"], 95) / 1000 <= TARGET_S else "**not met**"
    return "\n".join([
        "### 公文交换 inside one instance (issue #5 §5): `bench/exchange_bench.py`",
        "",
        f"Measured {timezone.now():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU, load average "
        f"{os.getloadavg()[0]:.1f} at the start; Python {platform.python_version()}, {db}.",
        "",
        "| measurement | figure | floor (same run) | target |",
        "| --- | --- | --- | --- |",
        f"| 核发 of one sealed 通知 to {r['units']:,} units (`dispatch_document`: {r['units']:,} Dispatch rows, "
        f"reader keys, {r['units']:,} deliveries + receipts, audit; one transaction, committed), {r['runs']} runs: "
        f"median / max | {sorted(r['dispatch_s'])[len(r['dispatch_s']) // 2]:.2f} / **{worst:.2f} s** | "
        f"{r['units']:,} rows of the same width, one bulk_create: median "
        f"{sorted(r['floor_s'])[len(r['floor_s']) // 2]:.3f} s | every entry visible ≤ {TARGET_S:.0f} s ({met}) |",
        f"| then the 交换箱 (`exchange.selectors.inbox`, first page) of {r['clerks']} of those units' 收发员, "
        f"{len(r['inbox_ms'])} queries: p50 / p95 | {pct(r['inbox_ms'], 50):.1f} / **{pct(r['inbox_ms'], 95):.1f} ms** "
        "| | |",
        "",
        f"Each run: all {r['units']:,} deliveries counted pending right after the 核发 returned, and every sampled "
        "收发员's 交换箱 showed the document first. An entry is visible the moment the 核发's transaction commits "
        "(the deliveries are written in it), so the time to visible is the 核发 plus one 交换箱 query.",
    ])


def write(text: str, vendor: str, section: str = "exchange") -> None:
    """The block of this database between <!-- <section>:<vendor>:begin/end --> (one per backend)."""
    begin, end = f"<!-- {section}:{vendor}:begin -->", f"<!-- {section}:{vendor}:end -->"
    doc = DOC.read_text()
    if begin in doc:
        head, rest = doc.split(begin, 1)
        doc = head + begin + "\n" + text + "\n" + end + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip() + f"\n\n{begin}\n{text}\n{end}\n"
    DOC.write_text(doc)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    connection, name = setup_django()
    try:
        result = measure(args.units, args.runs, args.clerks)
        with connection.cursor() as cur:
            cur.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT 'SQLite ' || sqlite_version()")
            db = cur.fetchone()[0].split(" on ")[0]
        text = render(result, db)
        print(text)
        if not args.no_write:
            write(text, connection.vendor)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
