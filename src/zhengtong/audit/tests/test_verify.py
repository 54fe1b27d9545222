"""The SM3 hash chain and `manage.py verify_audit` (R7.3: integrity of the audit data).

Tampering is done the way an attacker with database access would: the append-only triggers are
dropped for the block (`tampering()`), then raw SQL edits the table. The chain must name the first
broken record and why.
"""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhengtong.audit import services
from zhengtong.audit.models import AuditChainHead, AuditRecord
from zhengtong.audit.verify import verify_chain

from .factories import AuditRecordFactory, make_chain, raw, tampering

pytestmark = pytest.mark.django_db


def run_verify(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def test_r7_3_intact_chain_verifies_and_the_command_exits_0():
    make_chain(20)
    report = verify_chain()
    assert report.ok and report.checked == 20
    assert (report.first_seq, report.last_seq, report.head_seq) == (1, 20, 20)
    code, out = run_verify()
    assert code == 0
    assert "审计链完整：20 条记录" in out


def test_empty_chain_is_intact():
    code, out = run_verify()
    assert code == 0 and "审计链完整：0 条记录" in out


def test_record_content_is_canonical_so_json_round_trips_verify():
    AuditRecordFactory(changes={"名称": ["旧", "新"], "n": [1, 2.5]}, detail={"b": [1, {"z": None, "a": True}]})
    assert verify_chain().ok


def test_r7_3_changed_record_is_named_with_seq_and_id():
    records = make_chain(10)
    with tampering():
        raw("UPDATE {table} SET object_repr = %s WHERE seq = 7", ["改过的对象"])
    report = verify_chain()
    assert not report.ok
    assert (report.broken.seq, report.broken.record_id, report.broken.reason) == (7, records[6].pk, "content_changed")
    code, message = run_verify()
    assert code == 1
    assert message.startswith(f"审计链断裂：第 7 条记录（ID {records[6].pk}）内容被篡改")


def test_r7_3_changed_and_resigned_record_breaks_the_next_link():
    """An attacker who also recomputes the changed record's own hash still breaks the record after it."""
    make_chain(10)
    rec = AuditRecord.objects.get(seq=7)
    fields = {name: getattr(rec, name) for name in services.HASHED_FIELDS}
    fields["outcome"] = "success" if rec.outcome != "success" else "failure"
    with tampering():
        raw("UPDATE {table} SET outcome = %s, hash = %s WHERE seq = 7",
            [fields["outcome"], services.content_hash(fields, rec.prev_hash)])
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (8, "prev_hash_mismatch")
    assert "第 7 条记录" in report.broken.message


def test_r7_3_deleted_record_is_a_seq_gap_at_the_next_record():
    records = make_chain(10)
    with tampering():
        raw("DELETE FROM {table} WHERE seq IN (4, 5)")
    report = verify_chain()
    assert (report.broken.seq, report.broken.record_id, report.broken.reason) == (6, records[5].pk, "seq_gap")
    assert "第 4–5 条记录缺失" in report.broken.message
    code, message = run_verify()
    assert code == 1 and "第 6 条记录" in message and "序号不连续" in message


def test_r7_3_deleted_first_records_without_a_purge_are_unanchored():
    make_chain(5)
    with tampering():
        raw("DELETE FROM {table} WHERE seq <= 2")
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (3, "start_unanchored")


def test_r7_3_deleted_last_records_disagree_with_the_head():
    make_chain(6)
    with tampering():
        raw("DELETE FROM {table} WHERE seq >= 5")
    report = verify_chain()
    assert (report.broken.seq, report.broken.record_id, report.broken.reason) == (5, None, "head_mismatch")
    assert "第 5–6 条记录缺失" in report.broken.message


def test_r7_3_everything_deleted_disagrees_with_the_head():
    make_chain(3)
    with tampering():
        raw("DELETE FROM {table}")
    report = verify_chain()
    assert (report.ok, report.broken.reason) == (False, "head_mismatch")


def test_r7_3_record_inserted_around_the_facade_is_beyond_the_head():
    make_chain(4)
    last = AuditRecord.objects.get(seq=4)
    fields = {name: getattr(last, name) for name in services.HASHED_FIELDS}
    fields.update(seq=5, object_repr="伪造的记录")
    AuditRecord.objects.bulk_create([AuditRecord(prev_hash=last.hash, hash=services.content_hash(fields, last.hash),
                                                 **fields)])
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (5, "beyond_head")


def test_r7_3_records_swapped_out_of_order_are_caught():
    make_chain(6)
    with tampering():
        raw("UPDATE {table} SET seq = -1 WHERE seq = 3")
        raw("UPDATE {table} SET seq = 3 WHERE seq = 4")
        raw("UPDATE {table} SET seq = 4 WHERE seq = -1")
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (3, "content_changed")


def test_r7_3_replaced_record_with_a_valid_own_hash_breaks_the_link_after_it():
    """Delete record 4 and insert a forged one in its place, signed onto record 3: record 5 no longer links."""
    make_chain(6)
    third = AuditRecord.objects.get(seq=3)
    fourth = AuditRecord.objects.get(seq=4)
    fields = {name: getattr(fourth, name) for name in services.HASHED_FIELDS}
    fields["actor_username"] = "someone.else"
    with tampering():
        raw("DELETE FROM {table} WHERE seq = 4")
    AuditRecord.objects.bulk_create([AuditRecord(prev_hash=third.hash, hash=services.content_hash(fields, third.hash),
                                                 **fields)])
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (5, "prev_hash_mismatch")


def test_head_hash_changed_is_caught():
    make_chain(3)
    AuditChainHead.objects.filter(pk=1).update(hash="f" * 64)
    report = verify_chain()
    assert (report.broken.seq, report.broken.reason) == (3, "head_mismatch")


def test_the_walk_reads_seq_batches_so_memory_stays_bounded():
    make_chain(23)
    with CaptureQueriesContext(connection) as queries:
        report = verify_chain(batch=5)
    assert report.ok and report.checked == 23
    table = AuditRecord._meta.db_table
    batches = [q["sql"] for q in queries.captured_queries if '"prev_hash"' in q["sql"] and table in q["sql"]]
    assert len(batches) == 5  # 5 + 5 + 5 + 5 + 3
    assert all("LIMIT 5" in sql for sql in batches)


@pytest.mark.parametrize("batch", [1, 4, 7])
def test_breaks_are_found_across_batch_boundaries(batch):
    make_chain(12)
    with tampering():
        raw("DELETE FROM {table} WHERE seq = 8")
    report = verify_chain(batch=batch)
    assert (report.broken.seq, report.broken.reason) == (9, "seq_gap")


def test_command_json_and_record_options():
    make_chain(3)
    out = StringIO()
    call_command("verify_audit", "--json", "--record", stdout=out)
    data = json.loads(out.getvalue())
    assert data["ok"] is True and data["checked"] == 3 and data["summary"] == "审计链完整：3 条记录（第 1–3 条）"
    recorded = AuditRecord.objects.get(action=services.VERIFIED_ACTION)
    assert recorded.channel == "command" and recorded.detail["checked"] == 3
    assert recorded.category == "security"


def test_record_facade_names_administrators_without_a_person():
    from zhengtong.accounts.tests.factories import UserFactory

    user = UserFactory(username="auditor.x", last_name="冯雅琴")
    rec = services.record("test.named", user=user)
    assert (rec.actor_username, rec.actor_name) == ("auditor.x", "冯雅琴")
