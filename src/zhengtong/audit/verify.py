"""Walk the SM3 hash chain and name the first broken record (R7.3: integrity of the audit data).

Each record stores `hash = SM3(prev_hash + canonical content)` and the previous record's hash. The
walk reads records in seq order, in keyset batches of `BATCH` (seq ranges, so memory stays bounded
at a million records and more), and checks for each record, in this order:

1. its content still gives its hash                       → `content_changed`
2. its seq follows the previous one without a gap          → `seq_gap` (records deleted)
3. its prev_hash is the previous record's hash             → `prev_hash_mismatch` (a record was
   replaced, inserted, or the previous record's hash was rewritten)

Where the chain starts: seq 1 starts from the genesis hash (64 zeros). After a legitimate purge
(`purge_audit`), the oldest remaining record has seq S+1 > 1; the purge appended an `audit.purged`
record whose detail names `last_seq` = S and `last_hash` = the hash of record S, and that record is
itself inside the chain checked here, so it cannot be forged or edited without breaking the chain.
A start with no such purge record → `start_unanchored` (records deleted from the start).

Where it ends: `AuditChainHead` holds the last appended seq and hash; a shorter chain or another
last hash → `head_mismatch` (records deleted from the end); a record beyond the head →
`beyond_head` (written around the audit facade).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone

from .models import AuditChainHead, AuditRecord
from .services import GENESIS_HASH, PURGE_ACTION, content_hash

BATCH = 5000

REASONS = {
    "content_changed": "内容被篡改",
    "seq_gap": "序号不连续（记录被删除）",
    "prev_hash_mismatch": "与前一条记录的哈希不衔接（记录被插入、替换或顺序被改动）",
    "start_unanchored": "链首记录缺失（记录被删除，且没有合法的清理记录）",
    "head_mismatch": "与链头不一致（末尾记录被删除或改动）",
    "beyond_head": "记录在链头之外（未经审计接口写入）",
}


@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain is broken. `record_id` is None when the record is missing."""

    seq: int
    record_id: int | None
    reason: str
    message: str

    @property
    def reason_label(self) -> str:
        return REASONS.get(self.reason, self.reason)


@dataclass
class ChainReport:
    ok: bool
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    purged_through: int = 0  # records 1..purged_through were removed by purge_audit
    broken: ChainBreak | None = None
    started_at: Any = field(default_factory=timezone.now)
    seconds: float = 0.0

    def summary(self) -> str:
        if self.ok:
            text = f"审计链完整：{self.checked} 条记录"
            if self.checked:
                text += f"（第 {self.first_seq}–{self.last_seq} 条"
                text += f"，第 1–{self.purged_through} 条已按保存期限清理）" if self.purged_through else "）"
            return text
        b = self.broken
        where = f"第 {b.seq} 条记录" + (f"（ID {b.record_id}）" if b.record_id is not None else "")
        return f"审计链断裂：{where}{b.reason_label}：{b.message}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["seconds"] = round(self.seconds, 3)
        data["summary"] = self.summary()
        return data


FIELDS = (
    "id", "seq", "time", "actor_id", "actor_username", "actor_name", "identity_id", "unit_id", "unit_name", "ip",
    "channel", "action", "category", "object_type", "object_id", "object_repr", "outcome", "changes", "detail",
    "prev_hash", "hash",
)


def read_head(using: str = "default") -> tuple[int, str]:
    head = AuditChainHead.objects.using(using).filter(pk=1).values_list("seq", "hash").first()
    return head or (0, GENESIS_HASH)


def purge_anchor(before_seq: int, using: str = "default") -> dict | None:
    """The `audit.purged` record that removed records ..before_seq-1, if any: {seq, last_hash}."""
    purges = AuditRecord.objects.using(using).filter(action=PURGE_ACTION).order_by("-seq").values("seq", "detail")
    for purge in purges.iterator(chunk_size=100):
        detail = purge["detail"] or {}
        if detail.get("last_seq") == before_seq - 1 and detail.get("last_hash"):
            return {"seq": purge["seq"], "last_hash": detail["last_hash"]}
    return None


def verify_chain(*, batch: int = BATCH, using: str = "default", progress=None) -> ChainReport:
    """Check the whole chain; return a report naming the first broken record, if any.

    `progress(checked, last_seq)` is called after each batch (the command prints it with -v 2).
    """
    clock = time.perf_counter()
    head_seq, head_hash = read_head(using)
    report = ChainReport(ok=True, head_seq=head_seq, head_hash=head_hash)

    def broken(seq: int, record_id: int | None, reason: str, message: str) -> ChainReport:
        report.ok = False
        report.broken = ChainBreak(seq=seq, record_id=record_id, reason=reason, message=message)
        report.seconds = time.perf_counter() - clock
        return report

    records = AuditRecord.objects.using(using)
    first = records.order_by("seq").values("id", "seq").first()
    if first is None:
        report.seconds = time.perf_counter() - clock
        if head_seq:
            return broken(head_seq, None, "head_mismatch",
                          f"没有任何审计记录，但链头为第 {head_seq} 条：全部记录被删除")
        return report

    expected_seq, expected_prev = first["seq"], GENESIS_HASH
    if first["seq"] > 1:
        anchor = purge_anchor(first["seq"], using)
        if anchor is None:
            return broken(first["seq"], first["id"], "start_unanchored",
                          f"第 1–{first['seq'] - 1} 条记录不存在，也没有清理记录（{PURGE_ACTION}）说明它们被依规清理")
        expected_prev = anchor["last_hash"]
        report.purged_through = first["seq"] - 1
    report.first_seq = first["seq"]

    last = None
    lower = first["seq"]
    while True:
        rows = list(records.filter(seq__gte=lower, seq__lte=head_seq).order_by("seq").values(*FIELDS)[:batch])
        if not rows:
            break
        for row in rows:
            if content_hash(row, row["prev_hash"]) != row["hash"]:
                return broken(row["seq"], row["id"], "content_changed",
                              "按记录内容重新计算的 SM3 哈希与记录中保存的哈希不同")
            if row["seq"] != expected_seq:
                missing = (f"第 {expected_seq} 条" if row["seq"] == expected_seq + 1
                           else f"第 {expected_seq}–{row['seq'] - 1} 条")
                return broken(row["seq"], row["id"], "seq_gap", f"{missing}记录缺失")
            if row["prev_hash"] != expected_prev:
                before = f"第 {row['seq'] - 1} 条记录" if row["seq"] > report.first_seq else "清理记录所载"
                return broken(row["seq"], row["id"], "prev_hash_mismatch",
                              f"记录中的前一哈希与{before}的哈希不同")
            expected_prev, expected_seq = row["hash"], row["seq"] + 1
            report.checked += 1
        last = rows[-1]
        lower = last["seq"] + 1
        if progress is not None:
            progress(report.checked, last["seq"])
        if len(rows) < batch:
            break

    if last is None and head_seq < report.first_seq:
        return broken(first["seq"], first["id"], "beyond_head",
                      f"链头为第 {head_seq} 条，该记录的序号更大：不是经审计接口追加的")
    if last is None or last["seq"] < head_seq:
        last_seq = last["seq"] if last else report.first_seq - 1
        return broken(last_seq + 1, None, "head_mismatch",
                      f"链头为第 {head_seq} 条，但记录只到第 {last_seq} 条：第 {last_seq + 1}–{head_seq} 条记录缺失")
    if last["hash"] != head_hash:
        return broken(last["seq"], last["id"], "head_mismatch", "最后一条记录的哈希与链头保存的哈希不同")
    report.last_seq = last["seq"]

    # records appended meanwhile move the head on; anything beyond the current head went around record()
    now_seq, _ = read_head(using)
    stray = records.filter(seq__gt=now_seq).order_by("seq").values("id", "seq").first()
    if stray is not None:
        return broken(stray["seq"], stray["id"], "beyond_head",
                      f"链头为第 {now_seq} 条，该记录的序号更大：不是经审计接口追加的")
    report.seconds = time.perf_counter() - clock
    return report
