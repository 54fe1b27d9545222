"""Process-engine benchmarks (issue #3 §7): worklists over 1,000,000 done + 100,000 open tasks, completing a task in
a 10-step flow (latency, throughput with several processes), a 100-signer 会签, 传阅 to 500 readers.

Run by bench/run.py (`--no-flow` skips it, `--only flow` runs only this part) in a subprocess with Django set up
on the backend's scratch database, after `seed_demo`; prints one JSON line that `render()` turns into the
"流程引擎" block of docs/PERFORMANCE.md. Every figure comes with a floor measured in the same run:

- worklists (`selectors.worklist`, `selectors.box_count`, in process = server side): the same count + page as
  hand-written SQL through a cursor;
- completing a task (`services.submit_task`): the transaction's bare SQL (lock the instance row, read the task,
  mark it done, insert the next task row, write a state of the same size) through a cursor, and the engine
  alone in memory (`engine.load_state` → complete → `engine.dump_state`) on the same states;
- 会签 / 传阅: the engine alone for the signer's state; the row inserts as one bare multi-row INSERT.

Data, explicitly: the rows the benches act on (ten-step instances, 会签 and 传阅 instances) are real, made by the
services; the bulk of the task store (instances and their done / open task rows) is synthetic, inserted with
set-based SQL (no ORM row by row) — see `generate()`; no trail entries or audit records for the synthetic rows.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEN_STEPS = Path(__file__).resolve().parent / "ten_steps.bpmn"
SCALE = float(os.environ.get("FLOW_BENCH_SCALE", "1"))  # < 1 for a quick try of the bench itself
SIZES = {  # (completed synthetic instances × 10 done tasks, running synthetic instances with 0–9 done + 1 open)
    "postgresql": (int(55_000 * SCALE), int(100_000 * SCALE)),
    "sqlite": (int(5_500 * SCALE), int(10_000 * SCALE)),
}
WORKLIST_CALLS = 100
LATENCY_INSTANCES = 100  # × 10 steps, submitted one after another in one process
THROUGHPUT_WORKERS = (2, 4)
THROUGHPUT_INSTANCES = max(20, int(700 * SCALE))  # real ten-step instances per throughput run (× 10 steps available)
THROUGHPUT_SECONDS = 15 if SCALE >= 1 else 3
FLOOR_REPEATS = 40  # in-memory engine floor: per step
SQL_FLOOR_CALLS = 300
COUNTERSIGNERS = 100
COUNTERSIGN_INSTANCES = 20
SIGNER_SUBMITS = 5  # per 会签 instance
READERS = 500
CIRCULATE_INSTANCES = 20
TARGETS = {"worklist": 20.0, "submit": 30.0, "throughput": 200.0, "countersign": 60.0, "circulate": 500.0}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95), "max": max(ms) if ms else None,
            "mean": sum(ms) / len(ms) if ms else None}


def log(msg: str) -> None:
    print(f"[flow {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def timed(fn, calls: int, warm: int = 10) -> dict:
    for _ in range(warm):
        fn()
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return stats_ms(times)


# --- set-up: definitions, people ---------------------------------------------------------------------------------
def sysadmin():
    from zhengtong.accounts.models import User

    return User.objects.get(username="sysadmin")


def install(business_type: str, xml: bytes, unit=None, name: str = ""):
    from zhengtong.flow import services

    admin = sysadmin()
    definition = services.upload_definition(admin, business_type=business_type, unit=unit, file_bytes=xml, name=name)
    return services.activate_definition(admin, definition)


def wide_dispatch_xml() -> bytes:
    """The shipped 发文 with one change: the 会签 node's candidates are the platform group 全市收发员 (375 people)
    instead of the 处室负责人 of the drafter's unit — no demo unit has 100 of those."""
    from zhengtong.flow.services import DEFINITIONS_DIR

    xml = (DEFINITIONS_DIR / "dispatch.bpmn").read_text(encoding="utf-8")
    node = re.search(r'<bpmn:userTask id="countersign".*?</bpmn:userTask>', xml, re.S)
    wider = re.sub(r'<zt:candidates rule="duty" duty="dept_head" relative="drafter_unit" />',
                   '<zt:candidates rule="group" group="全市收发员" />', node.group(0))
    return (xml[:node.start()] + wider + xml[node.end():]).encode("utf-8")


def drafters_with_head(limit: int, unit_id: int | None = None) -> list:
    """Clerks (with an account) whose department has an active 处室负责人: the ten-step flow's even steps need one."""
    from zhengtong.org.models import Identity

    heads = Identity.objects.filter(duty__code="dept_head", active=True, person__active=True).values("department_id")
    qs = (Identity.objects.filter(duty__code="clerk", active=True, person__active=True, person__user__isnull=False,
                                  department_id__in=heads).select_related("person__user", "unit").order_by("id"))
    if unit_id is not None:
        qs = qs.filter(unit_id=unit_id)
    return list(qs[:limit])


def user_of(identity_id: int):
    from zhengtong.accounts.models import User

    return User.objects.get(person__identities=identity_id)


def open_todo(instance_id: int):
    from zhengtong.flow.models import Task

    return (Task.objects.filter(instance_id=instance_id, status="open", kind="todo")
            .select_related("assignee__person__user").order_by("id").first())


def start_ten_steps(drafters: list, n: int, tag: str) -> list[int]:
    from zhengtong.flow import services

    ids = []
    for i in range(n):
        d = drafters[i % len(drafters)]
        instance = services.start_process(d.person.user, identity=d, business_type="sign_report",
                                          title=f"关于第{i + 1}批重点工作落实情况的请示（{tag}）")
        ids.append(instance.pk)
    return ids


def submit_next(instance_id: int, **kwargs):
    """Submit the instance's open todo as its holder; returns (seconds in submit_task, new tasks)."""
    from zhengtong.flow import services

    task = open_todo(instance_id)
    if task is None:
        return None, []
    actor = task.assignee.person.user
    cpu, started = time.process_time(), time.perf_counter()
    new = services.submit_task(actor, task, opinion=kwargs.pop("opinion", "同意。"), **kwargs)
    elapsed = time.perf_counter() - started
    CPU.append(time.process_time() - cpu)
    return elapsed, new


CPU: list[float] = []  # this process's CPU time in each submit_task (Python side; the database's is not in it)


# --- synthetic bulk rows --------------------------------------------------------------------------------------------
class Dialect:
    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def series(self, name: str, n: int) -> str:
        """A CTE `name(g)` of 1..n."""
        if self.pg:
            return f"{name}(g) AS (SELECT generate_series(1, {int(n)}))"
        return f"{name}(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM {name} WHERE g < {int(n)})"

    def with_(self) -> str:
        return "WITH" if self.pg else "WITH RECURSIVE"

    def rand(self) -> str:
        return "random()" if self.pg else "(abs(random() % 1000000000) / 1000000000.0)"

    def ago(self, seconds: str) -> str:
        if self.pg:
            return f"(now() - ({seconds}) * interval '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || CAST({seconds} AS INTEGER) || ' seconds')"

    def plus(self, ts: str, seconds: str) -> str:
        if self.pg:
            return f"({ts} + ({seconds}) * interval '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%f', {ts}, '+' || CAST({seconds} AS INTEGER) || ' seconds')"

    def day(self, days: str) -> str:
        if self.pg:
            return f"(current_date + CAST({days} AS INTEGER))"
        return f"date('now', (CASE WHEN {days} >= 0 THEN '+' ELSE '' END) || CAST({days} AS INTEGER) || ' days')"

    def uuid(self) -> str:
        return "gen_random_uuid()" if self.pg else "lower(hex(randomblob(16)))"

    def floor_int(self, expr: str) -> str:
        return f"CAST(floor({expr}) AS INTEGER)" if self.pg else f"CAST({expr} AS INTEGER)"


def generate(definition, states: dict[int, str], completed: int, running: int) -> dict:
    """The synthetic task store: `completed` finished instances with 10 done tasks each, `running` instances with
    (i mod 10) done tasks and one open todo, over every active identity with a skew (identities ordered leaders
    first — duty rank — then by a hash of the id; the k-th of N gets a share ∝ 1/√k: assignee = N·u² for a uniform
    u). Instances carry a real ten-step engine state of their step (taken from a probe instance), as the stored
    state is what `select_related("instance")` reads."""
    from django.db import connection, transaction

    d = Dialect(connection.vendor)
    q = connection.ops.quote_name
    started = time.perf_counter()
    rnd = d.rand()
    names = {i: name for i, name in enumerate(["拟稿", "处室核稿", "修改", "处室复核", "校对", "处室审签", "补充材料",
                                               "处室确认", "整理归档材料", "处室办结"], 1)}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_ids (n INTEGER PRIMARY KEY, id BIGINT, unit_id BIGINT)")
        cur.execute("INSERT INTO bench_ids (n, id, unit_id) SELECT row_number() OVER (ORDER BY d.rank, "
                    "(i.id * 2654435761) % 4294967296), i.id, i.unit_id FROM org_identity i "
                    "JOIN org_duty d ON d.id = i.duty_id JOIN org_person p ON p.id = i.person_id "
                    "WHERE i.active AND p.active")
        cur.execute("SELECT COUNT(*) FROM bench_ids")
        n_ids = cur.fetchone()[0]
        cur.execute("CREATE TEMP TABLE bench_steps (k INTEGER PRIMARY KEY, name VARCHAR(100), state TEXT)")
        for k in range(0, 11):
            cur.execute("INSERT INTO bench_steps (k, name, state) VALUES (%s, %s, %s)",
                        [k, names.get(k, ""), states[k]])
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM flow_processinstance")
        base = cur.fetchone()[0] + 1000
        total = completed + running
        # instances: g <= running → running at step g % 10 (that many done), else completed (10 done)
        cur.execute(
            f"{d.with_()} {d.series('s', total)}, picked AS (SELECT g, 1 + ((g * 7919) % {n_ids}) AS dn, "
            f"CASE WHEN g <= {running} THEN g % 10 ELSE 10 END AS done, {rnd} AS r FROM s) "
            "INSERT INTO flow_processinstance (id, definition_id, business_type, title, unit_id, drafter_id, status, "
            "state, version, started_at, completed_at, deadline, deadline_status, suspended_at) "
            f"SELECT {base} + g, {int(definition.pk)}, 'sign_report', '关于做好第' || g || '批重点工作督查事项落实情况的请示', b.unit_id, b.id, "
            "CASE WHEN done = 10 THEN 'completed' ELSE 'running' END, st.state, done, "
            f"CASE WHEN done = 10 THEN {d.ago('86400 * (20 + r * 700)')} ELSE {d.ago('86400 * (1 + r * 30)')} END, "
            f"CASE WHEN done = 10 THEN {d.ago('86400 * (r * 700)')} ELSE NULL END, NULL, 'normal', NULL "
            "FROM picked JOIN bench_ids b ON b.n = picked.dn JOIN bench_steps st ON st.k = picked.done")
        instances_s = time.perf_counter() - started
        task_cols = ("spiff_task_id, node_id, node_name, status, kind, received_at, opened_at, completed_at, "
                     "deadline, deadline_status, assignee_id, instance_id, on_behalf_of_id, sender_id, "
                     "delegated_from_id, returned_by_id, add_position, added_from_id, last_urged_at, urge_count")
        skew = d.floor_int(f"{n_ids} * {rnd} * {rnd}")
        # done tasks: step k of each instance, received k hours after the start, handled within a day
        cur.execute(
            f"WITH rows AS MATERIALIZED (SELECT p.id AS inst, p.started_at AS t0, k.k, k.name, "
            f"1 + {skew} AS an, 1 + {d.floor_int(f'{n_ids} * {rnd}')} AS sn, {rnd} AS r "
            "FROM flow_processinstance p JOIN bench_steps k ON k.k >= 1 AND k.k <= p.version "
            f"WHERE p.id > {base}) "
            f"INSERT INTO flow_task ({task_cols}) SELECT {d.uuid()}, 's' || rows.k, rows.name, 'done', 'todo', "
            f"{d.plus('rows.t0', '3600 * rows.k')}, {d.plus('rows.t0', '3600 * rows.k + 600')}, "
            f"{d.plus('rows.t0', '3600 * rows.k + 600 + rows.r * 80000')}, NULL, 'normal', a.id, rows.inst, NULL, "
            "s.id, NULL, NULL, '', NULL, NULL, 0 FROM rows JOIN bench_ids a ON a.n = rows.an "
            "JOIN bench_ids s ON s.n = rows.sn")
        done_s = time.perf_counter() - started - instances_s
        # open tasks: one per running instance at step (done + 1); deadlines 2 working days-ish, ~10 % past, ~15 % due
        cur.execute(
            f"WITH rows AS MATERIALIZED (SELECT p.id AS inst, p.version + 1 AS k, 1 + {skew} AS an, "
            f"1 + {d.floor_int(f'{n_ids} * {rnd}')} AS sn, {rnd} AS r FROM flow_processinstance p "
            f"WHERE p.id > {base} AND p.status = 'running') "
            f"INSERT INTO flow_task ({task_cols}) SELECT {d.uuid()}, 's' || rows.k, k.name, 'open', 'todo', "
            f"{d.ago('86400 * rows.r * 20')}, NULL, NULL, "
            f"{d.day('CASE WHEN rows.r < 0.1 THEN -1 - rows.r * 30 ELSE 1 + rows.r * 6 END')}, "
            "CASE WHEN rows.r < 0.1 THEN 'red' WHEN rows.r < 0.25 THEN 'yellow' ELSE 'normal' END, a.id, rows.inst, "
            "NULL, s.id, NULL, NULL, '', NULL, NULL, 0 FROM rows JOIN bench_ids a ON a.n = rows.an "
            "JOIN bench_ids s ON s.n = rows.sn JOIN bench_steps k ON k.k = rows.k")
        cur.execute(f"SELECT COUNT(*) FILTER (WHERE status = 'done'), COUNT(*) FILTER (WHERE status = 'open') "
                    f"FROM flow_task WHERE instance_id > {base}")
        done_rows, open_rows = cur.fetchone()
        if d.pg:
            cur.execute("SELECT setval(pg_get_serial_sequence('flow_processinstance', 'id'), "
                        "(SELECT MAX(id) FROM flow_processinstance))")
        cur.execute("DROP TABLE bench_ids")
        cur.execute("DROP TABLE bench_steps")
    insert_s = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"instances": total, "completed": completed, "running": running, "done_rows": done_rows,
            "open_rows": open_rows, "identities": n_ids, "insert_s": insert_s, "instances_s": instances_s,
            "done_s": done_s, "analyze_s": time.perf_counter() - started - insert_s, "base": base,
            "table": q("flow_task")}


# --- 1. worklists ---------------------------------------------------------------------------------------------------
WHERE_MINE = ("t.assignee_id IN (SELECT i.id FROM org_identity i JOIN org_person p ON p.id = i.person_id "
              "WHERE p.user_id = %s) AND t.kind = %s AND t.status = %s")
PAGE_SQL = ("SELECT t.id, pi.title, pi.business_type, t.node_name, t.instance_id, t.deadline, t.deadline_status, "
            "t.received_at, sp.name, bp.name FROM flow_task t JOIN flow_processinstance pi ON pi.id = t.instance_id "
            "LEFT JOIN org_identity s ON s.id = t.sender_id LEFT JOIN org_person sp ON sp.id = s.person_id "
            "LEFT JOIN org_identity b ON b.id = t.on_behalf_of_id LEFT JOIN org_person bp ON bp.id = b.person_id "
            f"WHERE t.id IN (SELECT t.id FROM flow_task t WHERE {WHERE_MINE} ORDER BY {{order}} LIMIT 20) "
            "ORDER BY {order}")
COUNT_SQL = f"SELECT COUNT(*) FROM flow_task t WHERE {WHERE_MINE}"


def bench_worklists() -> dict:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from zhengtong.accounts.models import User
    from zhengtong.flow import selectors
    from zhengtong.flow.models import Task

    per_user = list(Task.objects.filter(kind="todo", status="open", assignee__person__user__isnull=False)
                    .values("assignee__person__user").annotate(n=Count("id")).order_by("n", "assignee__person__user"))
    holders = len(per_user)
    picks = {"p50": per_user[holders // 2], "heaviest": per_user[-1]}
    out: dict = {"holders": holders, "users": {}}
    for label, row in picks.items():
        user = User.objects.get(pk=row["assignee__person__user"])
        entry: dict = {"open_count": row["n"],
                       "done_count": Task.objects.filter(assignee__person__user=user, kind="todo", status="done").count(),
                       "identities": user.person.identities.count()}
        for box, order in (("todo", "t.deadline, t.received_at, t.id"), ("done", "t.completed_at DESC, t.id DESC")):
            kind, status = selectors.BOXES[box]

            def orm(box=box, user=user):
                return selectors.worklist(user, box, 1)

            def floor(kind=kind, status=status, order=order, user=user):
                with connection.cursor() as cur:
                    cur.execute(COUNT_SQL, [user.pk, kind, status])
                    count = cur.fetchone()[0]
                    cur.execute(PAGE_SQL.format(order=order), [user.pk, kind, status])
                    return count, cur.fetchall()

            got, raw = orm(), floor()
            if got["count"] != raw[0] or [i["id"] for i in got["items"]] != [r[0] for r in raw[1]]:
                raise RuntimeError(f"worklist and its floor disagree for {label} {box}")
            with CaptureQueriesContext(connection) as captured:
                orm()
            entry[box] = {"orm": timed(orm, WORKLIST_CALLS), "floor": timed(floor, WORKLIST_CALLS),
                          "count": got["count"], "rows": len(got["items"]), "sql": len(captured.captured_queries)}

        def count(user=user):
            return selectors.box_count(user, "todo")

        def count_floor(user=user):
            with connection.cursor() as cur:
                cur.execute(COUNT_SQL, [user.pk, "todo", "open"])
                return cur.fetchone()[0]

        entry["box_count"] = {"orm": timed(count, WORKLIST_CALLS), "floor": timed(count_floor, WORKLIST_CALLS)}
        out["users"][label] = entry
    return out


# --- 2. completing a task in the ten-step flow ------------------------------------------------------------------------
def probe_states(drafter) -> tuple[dict[int, str], int]:
    """Run one real ten-step instance to the end; the stored state before step k (k = 0..9: k steps done) and at
    the end (k = 10)."""
    from zhengtong.flow.models import ProcessInstance

    [pk] = start_ten_steps([drafter], 1, "样本")
    states = {}
    for k in range(10):
        states[k] = ProcessInstance.objects.get(pk=pk).state
        submit_next(pk)
    states[10] = ProcessInstance.objects.get(pk=pk).state
    return states, pk


def engine_floor(definition, states: dict[int, str]) -> list[dict]:
    """Per step: the state size and the engine alone in memory — load_state, complete, dump_state."""
    from zhengtong.flow import engine

    engine.load_state(definition, states[0])  # the spec cache, as in a running server
    rows = []
    for k in range(10):
        loads, runs, dumps, size = [], [], [], 0
        for _ in range(FLOOR_REPEATS):
            t0 = time.perf_counter()
            workflow = engine.load_state(definition, states[k])
            t1 = time.perf_counter()
            [ready] = engine.ready_user_tasks(workflow)
            engine.complete(workflow, ready, {"route": ""})
            t2 = time.perf_counter()
            dumped = engine.dump_state(workflow)
            t3 = time.perf_counter()
            loads.append(t1 - t0)
            runs.append(t2 - t1)
            dumps.append(t3 - t2)
            size = len(dumped.encode())
        rows.append({"step": k + 1, "before_kb": len(states[k].encode()) / 1024, "after_kb": size / 1024,
                     "load": stats_ms(loads), "complete": stats_ms(runs), "dump": stats_ms(dumps)})
    return rows


def sql_floor(states: dict[int, str], base: int) -> dict:
    """The submit transaction's bare SQL on synthetic running instances: lock the instance row, read the task, mark
    it done, insert the next task row, write back a state of the next step's size."""
    from django.db import connection, transaction
    from django.utils import timezone

    with connection.cursor() as cur:
        cur.execute("SELECT p.id, p.version, t.id, t.assignee_id FROM flow_processinstance p JOIN flow_task t "
                    "ON t.instance_id = p.id AND t.status = 'open' AND t.kind = 'todo' WHERE p.id > %s AND "
                    "p.status = 'running' AND p.version < 9 ORDER BY p.id LIMIT %s", [base, SQL_FLOOR_CALLS + 10])
        rows = cur.fetchall()
    it = iter(rows)

    def one():
        inst, version, task_id, assignee = next(it)
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT id, state, version FROM flow_processinstance WHERE id = %s FOR UPDATE", [inst])
            cur.fetchone()
            cur.execute("SELECT id, status, spiff_task_id FROM flow_task WHERE id = %s", [task_id])
            cur.fetchone()
            cur.execute("UPDATE flow_task SET status = 'done', completed_at = %s WHERE id = %s", [now, task_id])
            cur.execute("INSERT INTO flow_task (spiff_task_id, node_id, node_name, status, kind, received_at, "
                        "deadline_status, assignee_id, instance_id, sender_id, add_position, urge_count) "
                        "VALUES (%s, %s, %s, 'open', 'todo', %s, 'normal', %s, %s, %s, '', 0)",
                        [str(__import__("uuid").uuid4()), f"s{version + 2}", "处室核稿", now, assignee, inst, assignee])
            cur.execute("UPDATE flow_processinstance SET state = %s, version = version + 1 WHERE id = %s",
                        [states[version + 1], inst])

    return timed(one, SQL_FLOOR_CALLS, warm=5)


def bench_latency(ids: list[int]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_step: dict[int, list[float]] = {k: [] for k in range(1, 11)}
    every = []
    CPU.clear()
    for k in range(1, 11):  # step-major: consecutive submits are of different instances
        for pk in ids:
            seconds, _ = submit_next(pk)
            per_step[k].append(seconds)
            every.append(seconds)
    out = {"all": stats_ms(every), "steps": {k: stats_ms(v) for k, v in per_step.items()}, "cpu": stats_ms(CPU)}
    return out | {"sql": sql_count(CaptureQueriesContext, connection)}


def sql_count(capture, connection) -> dict:
    """SQL statements of one submit (a fresh instance at step 1 → step 2)."""
    from zhengtong.flow import services

    [pk] = start_ten_steps(drafters_with_head(1), 1, "计数")
    task = open_todo(pk)
    actor = task.assignee.person.user
    connection.queries_log.clear()  # a full log (DEBUG) would hide the new entries
    with capture(connection) as captured:
        services.submit_task(actor, task, opinion="同意。")
    kinds: dict[str, int] = {}
    for q in captured.captured_queries:
        word = q["sql"].split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    return {"total": len(captured.captured_queries), "kinds": kinds}


def throughput_worker(spec_path: str) -> None:
    """One of N processes: complete the steps of its own instances (step-major) from `start_at` for `seconds`."""
    import django

    django.setup()
    spec = json.loads(Path(spec_path).read_text())
    ids, deadline = spec["ids"], spec["start_at"] + spec["seconds"]
    submit_next(ids[-1])  # warm-up before the start (connection, spec cache, imports); not counted
    while time.time() < spec["start_at"]:
        time.sleep(0.005)
    began = time.time()
    latencies: list[float] = []
    done = 0
    for _ in range(10):
        for pk in ids:
            if time.time() >= deadline:
                break
            seconds, _ = submit_next(pk)
            if seconds is None:  # the warmed-up instance is one step ahead
                continue
            latencies.append(seconds)
            done += 1
    print(json.dumps({"done": done, "began": began, "ended": time.time(), "latencies": latencies}))


def bench_throughput(ids: list[int], workers: int) -> dict:
    chunks = [ids[i::workers] for i in range(workers)]
    start_at = time.time() + 10  # every worker has set Django up and connected by then
    procs, files = [], []
    for chunk in chunks:
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"ids": chunk, "start_at": start_at, "seconds": THROUGHPUT_SECONDS}, f)
        f.close()
        files.append(f.name)
        procs.append(subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--throughput-worker", f.name],
                                      cwd=REPO, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=THROUGHPUT_SECONDS + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"throughput worker failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    for name in files:
        os.unlink(name)
    done = sum(r["done"] for r in results)
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    latencies = [s for r in results for s in r["latencies"]]
    return {"workers": workers, "done": done, "wall_s": wall, "rate": done / wall, **stats_ms(latencies)}


# --- 3. 会签 with 100 signers -----------------------------------------------------------------------------------------
def bench_countersign() -> dict:
    from zhengtong.flow import engine, services
    from zhengtong.flow.models import ProcessInstance, Task
    from zhengtong.org.models import Identity

    drafter = drafters_with_head(1)[0]
    unit = drafter.unit
    definition = install("dispatch", wide_dispatch_xml(), unit=unit, name="发文（会签候选：全市收发员，基准测试）")
    office_head = (Identity.objects.filter(unit=unit, duty__code="dept_head", active=True, person__active=True)
                   .order_by("duty__rank", "id").first())
    signers = list(Identity.objects.filter(groups__name="全市收发员", active=True, person__active=True,
                                           person__user__isnull=False).order_by("id")
                   .values_list("pk", flat=True)[:COUNTERSIGNERS])
    creates, signs, sizes, rows = [], [], [], []
    for i in range(COUNTERSIGN_INSTANCES):
        instance = services.start_process(drafter.person.user, identity=drafter, business_type="dispatch",
                                          title=f"关于联合开展第{i + 1}次公文处理专项检查的通知（会签）")
        submit_next(instance.pk)  # 起草 → 处室核稿
        submit_next(instance.pk, next_handlers=[office_head.pk])  # 处室核稿 → 办公室审核 (chosen)
        seconds, new = submit_next(instance.pk, route="countersign", next_handlers=signers)
        creates.append(seconds)
        rows.append(len(new))
        sizes.append(len(ProcessInstance.objects.get(pk=instance.pk).state.encode()) / 1024)
        for task in Task.objects.filter(instance=instance, status="open", kind="todo").select_related(
                "assignee__person__user").order_by("id")[:SIGNER_SUBMITS]:
            started = time.perf_counter()
            services.submit_task(task.assignee.person.user, task, opinion="同意。")
            signs.append(time.perf_counter() - started)
    # the engine alone on the signer's state (100 open instances)
    state = ProcessInstance.objects.get(pk=instance.pk).state
    loads, dumps = [], []
    for _ in range(FLOOR_REPEATS):
        t0 = time.perf_counter()
        workflow = engine.load_state(definition, state)
        t1 = time.perf_counter()
        engine.dump_state(workflow)
        loads.append(t1 - t0)
        dumps.append(time.perf_counter() - t1)
    return {"create": stats_ms(creates), "rows": rows[0], "sign": stats_ms(signs), "state_kb": max(sizes),
            "signer_state_kb": len(state.encode()) / 1024, "load": stats_ms(loads), "dump": stats_ms(dumps),
            "instances": COUNTERSIGN_INSTANCES, "unit": unit.name}


# --- 4. 传阅 to 500 readers ---------------------------------------------------------------------------------------------
def bench_circulate() -> dict:
    from zhengtong.flow import services

    if not hasattr(services, "circulate"):
        return {"missing": "services.circulate is not built yet"}
    from zhengtong.flow.services.reading import unit_and_sub_units
    from zhengtong.org.models import Identity, Unit

    root = Unit.objects.filter(parent__isnull=True).order_by("id")
    # the root unit whose tree holds the most people (示范市人民政府 in the demo city)
    unit = max(root, key=lambda u: Identity.objects.filter(unit_id__in=unit_and_sub_units(u.pk)).count())
    drafter = (Identity.objects.filter(unit=unit, active=True, person__active=True, person__user__isnull=False)
               .select_related("person__user").order_by("-duty__rank", "id").first())
    readers, seen = [], {drafter.person_id}
    for identity in (Identity.objects.filter(unit_id__in=unit_and_sub_units(unit.pk), active=True,
                                             person__active=True).select_related("person").order_by("id")):
        if identity.person_id not in seen:
            seen.add(identity.person_id)
            readers.append(identity)
        if len(readers) == READERS:
            break
    times, made = [], 0
    for i in range(CIRCULATE_INSTANCES):
        instance = services.start_process(drafter.person.user, identity=drafter, business_type="dispatch",
                                          title=f"关于印发第{i + 1}期工作简报的通知（传阅）")
        task = open_todo(instance.pk)
        started = time.perf_counter()
        new = services.circulate(drafter.person.user, task, to_identities=readers, to_units=[], opinion="请阅。")
        times.append(time.perf_counter() - started)
        made = len(new)
    # floor: the read-copy rows alone, one multi-row INSERT (bulk_create) in a transaction
    from django.db import transaction

    from zhengtong.flow.models import Task

    floor = []
    for _ in range(CIRCULATE_INSTANCES):
        started = time.perf_counter()
        with transaction.atomic():
            Task.objects.bulk_create([
                Task(instance=instance, spiff_task_id=task.spiff_task_id, node_id=task.node_id,
                     node_name=task.node_name, assignee=r, sender=task.assignee, kind="toread", status="done",
                     received_at=task.received_at) for r in readers])
        floor.append(time.perf_counter() - started)
    return {"circulate": stats_ms(times), "rows": made, "unit": unit.name, "floor": stats_ms(floor)}


# --- the worker -------------------------------------------------------------------------------------------------------
def worker(scope: str) -> None:
    import django

    django.setup()
    from django.db import connection

    from zhengtong.flow import services
    from zhengtong.flow.models import ProcessInstance, Task

    vendor = connection.vendor
    out: dict = {"vendor": vendor, "scope": scope, "load": os.getloadavg()[0]}
    started = time.perf_counter()
    services.install_default_definitions()
    ten = install("sign_report", TEN_STEPS.read_bytes(), name="十步流程（基准测试）")
    drafters = drafters_with_head(400)
    out["drafters"] = len(drafters)
    states, _ = probe_states(drafters[0])
    out["state_kb"] = {k: len(v.encode()) / 1024 for k, v in states.items()}
    from zhengtong.flow import engine

    out["spec_kb"] = len(engine._spec_json(ten).encode()) / 1024  # what dump_state leaves out of every state
    real = []
    if scope == "full":
        log(f"{vendor}: starting {LATENCY_INSTANCES + THROUGHPUT_INSTANCES * len(THROUGHPUT_WORKERS)} real "
            "ten-step instances through services.start_process")
        t0 = time.perf_counter()
        real = start_ten_steps(drafters, LATENCY_INSTANCES + THROUGHPUT_INSTANCES * len(THROUGHPUT_WORKERS), "实例")
        out["real_start_s"] = time.perf_counter() - t0
        out["real_instances"] = len(real)
    completed, running = SIZES[vendor]
    log(f"{vendor}: synthetic task store ({completed + running:,} instances)")
    out["data"] = generate(ten, states, completed, running)
    out["data"]["tasks_total"] = Task.objects.count()
    out["data"]["instances_total"] = ProcessInstance.objects.count()
    log(f"{vendor}: worklists")
    out["worklist"] = bench_worklists()
    if scope == "full":
        log(f"{vendor}: submit latency and floors")
        out["latency"] = bench_latency(real[:LATENCY_INSTANCES])
        out["engine"] = engine_floor(ten, states)
        out["sql_floor"] = sql_floor(states, out["data"]["base"])
        rest = real[LATENCY_INSTANCES:]
        out["throughput"] = []
        for i, workers in enumerate(THROUGHPUT_WORKERS):
            log(f"{vendor}: throughput with {workers} processes")
            connection.close()
            out["throughput"].append(bench_throughput(rest[i * THROUGHPUT_INSTANCES:(i + 1) * THROUGHPUT_INSTANCES],
                                                      workers))
        log(f"{vendor}: 会签 with {COUNTERSIGNERS} signers")
        out["countersign"] = bench_countersign()
        log(f"{vendor}: 传阅 to {READERS} readers")
        out["circulate"] = bench_circulate()
    out["total_s"] = time.perf_counter() - started
    print(json.dumps(out))


def run(env: dict[str, str], scope: str) -> dict:
    """Called by bench/run.py: the worker in a subprocess on the backend's database (seeded); its JSON."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", scope], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"flow worker failed:\n{done.stderr[-4000:]}")
    last = done.stdout.strip().splitlines()[-1]
    kept = Path(tempfile.gettempdir()) / f"zt-flow-bench-{scope}.json"  # to re-render without re-running
    kept.write_text(last)
    print(done.stderr.strip(), file=sys.stderr)
    return json.loads(last)


# --- the report -------------------------------------------------------------------------------------------------------
def fmt(x, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def verdict(value: float, target: float, higher: bool = False) -> str:
    ok = value >= target if higher else value <= target
    return "meets" if ok else "MISSES"


def trio(s: dict) -> str:
    return f"{fmt(s['p50'], 2)} / **{fmt(s['p95'], 2)}** / {fmt(s['max'], 2)} ms"


def render(f: dict, machine_line: str) -> str:
    d = f["data"]
    title = {"postgresql": "PostgreSQL", "sqlite": "SQLite (embedded, WAL)"}[f["vendor"]]
    lines = [f"### 流程引擎 — {title}", "", machine_line.rstrip(".")
             + f"; load average {fmt(f['load'])} when this part started (other work shares the 2 CPUs).", "",
             f"Data: the demo city's {d['identities']:,} active identities; the task store holds "
             f"{d['tasks_total']:,} task rows over {d['instances_total']:,} instances. Synthetic (set-based SQL, "
             f"{fmt(d['insert_s'])} s: instances {fmt(d['instances_s'])} s, done tasks {fmt(d['done_s'])} s, then "
             f"`ANALYZE` {fmt(d['analyze_s'])} s): {d['instances']:,} instances of the ten-step flow "
             f"({d['completed']:,} completed with 10 done tasks, {d['running']:,} running with 0–9 done and one open), "
             f"{d['done_rows']:,} done and {d['open_rows']:,} open task rows, assignees skewed towards leaders; "
             "each instance carries a real engine state of its step; no trail entries or audit records for them."
             + (f" Real (through `services.start_process` / `submit_task`, {fmt(f['real_start_s'])} s to start "
                f"{f['real_instances']:,}): the ten-step instances the completion benches submit, the 会签 and "
                "传阅 instances." if "real_instances" in f else ""), "",
             "| measurement | figure: p50 / p95 / max | floor (same run) | ratio |", "| --- | --- | --- | --- |"]
    w = f["worklist"]
    for label, u in w["users"].items():
        who = {"p50": f"the median holder (of {w['holders']:,} people with open tasks)",
               "heaviest": "the person with the most open tasks"}[label]
        for box, name in (("todo", "待办"), ("done", "已办")):
            b = u[box]
            lines.append(
                f"| {name} list, first page with count (`selectors.worklist(user, \"{box}\", 1)`, {b['sql']} SQL), "
                f"{who}: {u['open_count']:,} open / {u['done_count']:,} done tasks, {u['identities']} identity(ies) | "
                f"{trio(b['orm'])} ({verdict(b['orm']['p95'], TARGETS['worklist'])} p95 ≤ 20 ms) | same count + page "
                f"as plain SQL: {trio(b['floor'])} | p95 {fmt(b['orm']['p95'] / b['floor']['p95'], 1)}× |")
        c = u["box_count"]
        lines.append(f"| … workspace count `selectors.box_count(user, \"todo\")` | {trio(c['orm'])} | plain "
                     f"`COUNT(*)`: {trio(c['floor'])} | p95 {fmt(c['orm']['p95'] / c['floor']['p95'], 1)}× |")
    if "latency" in f:
        lat, sf = f["latency"], f["sql_floor"]
        eng = f["engine"]
        mem = [e["load"]["p50"] + e["complete"]["p50"] + e["dump"]["p50"] for e in eng]
        lines.append(
            f"| 提交 in the ten-step flow (`services.submit_task`, {lat['all']['n']} submits: {lat['all']['n'] // 10} "
            f"real instances × 10 steps, one process; {lat['sql']['total']} SQL per submit) | {trio(lat['all'])} "
            f"({verdict(lat['all']['p95'], TARGETS['submit'])} p95 ≤ 30 ms) | bare SQL of the transaction: "
            f"{trio(sf)}; engine alone in memory (load + complete + dump, p50 per step): {fmt(min(mem), 2)}–"
            f"{fmt(max(mem), 2)} ms | p50 {fmt(lat['all']['p50'] / (sf['p50'] + sum(mem) / len(mem)), 1)}× the "
            "two floors' sum |")
        for t in f["throughput"]:
            lines.append(
                f"| 提交 throughput, {t['workers']} worker processes on the same 2 CPUs as the database, "
                f"{THROUGHPUT_SECONDS} s, each on its own instances | **{fmt(t['rate'], 0)} completions/s** "
                f"({verdict(t['rate'], TARGETS['throughput'], True)} ≥ 200/s); {t['done']:,} submits, latency p50 / "
                f"p95 {fmt(t['p50'], 1)} / {fmt(t['p95'], 1)} ms | one process, bare SQL: "
                f"{fmt(1000 / sf['p50'], 0)} transactions/s | — |")
    cs = f.get("countersign")
    if cs:
        lines.append(
            f"| 会签: the 办公室审核 submit that creates {cs['rows']} countersign tasks (shipped 发文, 会签 candidates "
            f"widened, {cs['instances']} instances) | {trio(cs['create'])} "
            f"({verdict(cs['create']['p95'], TARGETS['countersign'])} p95 ≤ 60 ms) | engine alone on the resulting "
            f"state ({fmt(cs['signer_state_kb'])} KB): load {fmt(cs['load']['p50'], 2)} + dump "
            f"{fmt(cs['dump']['p50'], 2)} ms | — |")
        lines.append(
            f"| … a signer's 提交 inside the {cs['rows']}-signer 会签 ({cs['sign']['n']} submits) | {trio(cs['sign'])} "
            f"| load {fmt(cs['load']['p50'], 2)} + dump {fmt(cs['dump']['p50'], 2)} ms | p50 "
            f"{fmt(cs['sign']['p50'] / (cs['load']['p50'] + cs['dump']['p50']), 1)}× load + dump |")
    ci = f.get("circulate")
    if ci and "missing" in ci:
        lines.append(f"| 传阅 to {READERS} readers | not measured: {ci['missing']} | — | — |")
    elif ci:
        lines.append(
            f"| 传阅 to {ci['rows']} readers (`services.circulate`, {ci['circulate']['n']} instances of "
            f"{ci['unit']}) | {trio(ci['circulate'])} ({verdict(ci['circulate']['p95'], TARGETS['circulate'])} "
            f"p95 ≤ 500 ms) | the {ci['rows']} rows alone (`bulk_create` in a transaction): {trio(ci['floor'])} | "
            f"p95 {fmt(ci['circulate']['p95'] / ci['floor']['p95'], 1)}× |")
    if "engine" in f:
        lines += ["", "Where a submit's time goes in the ten-step flow (engine alone, in memory, p50 of "
                  f"{FLOOR_REPEATS} per step; the stored state is the serializer's dict without the spec):", "",
                  "| step | state before → after (KB) | load_state | complete | dump_state | submit p50 / p95 |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for e in f["engine"]:
            s = {str(k): v for k, v in f["latency"]["steps"].items()}[str(e["step"])]
            lines.append(f"| {e['step']} | {fmt(e['before_kb'])} → {fmt(e['after_kb'])} | {fmt(e['load']['p50'], 2)} "
                         f"ms | {fmt(e['complete']['p50'], 2)} ms | {fmt(e['dump']['p50'], 2)} ms | "
                         f"{fmt(s['p50'], 1)} / {fmt(s['p95'], 1)} ms |")
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(f["latency"]["sql"]["kinds"].items(), key=lambda x: -x[1]))
        lat, sf = f["latency"]["all"], f["sql_floor"]
        engine_ms = sum(e["load"]["p50"] + e["complete"]["p50"] + e["dump"]["p50"] for e in eng) / len(eng)
        serial_ms = sum(e["load"]["p50"] + e["dump"]["p50"] for e in eng) / len(eng)
        rest = lat["p50"] - engine_ms - sf["p50"]
        lines += [
            "",
            f"Where the time goes: a submit's p50 is {fmt(lat['p50'])} ms; the engine alone takes {fmt(engine_ms, 2)} ms "
            f"of it ({fmt(serial_ms, 2)} ms of which is SpiffWorkflow's serialization: `load_state` + `dump_state`), "
            f"the transaction's bare SQL {fmt(sf['p50'], 2)} ms; the remaining ~{fmt(rest, 0)} ms are the service's "
            f"other statements and the ORM around them: one submit issues {f['latency']['sql']['total']} SQL "
            f"statements ({kinds}) — the task re-read under the lock, the assignment rule's identity query, the AB岗 "
            "delegation query, the projection's open-row read, the trail row, the audit record (chain head locked, "
            f"SM3) — each a round trip to the database on the same CPUs. The submitting process itself spends "
            f"{fmt(f['latency']['cpu']['p50'], 1)} ms of CPU per submit (p50; `time.process_time`), the database "
            "its share on top: with 2 CPUs for both (and for whatever else runs, see the load average), that CPU cost "
            "bounds the throughput rows above "
            f"(2 CPUs ÷ ~{fmt(f['latency']['cpu']['p50'], 0)} ms ≈ "
            f"{fmt(2000 / f['latency']['cpu']['p50'], 0)}/s before the database's own work).",
            "",
            "The 会签 submit resolves the node's candidate rule for the chosen signers only (the rule and `id IN` the "
            "100 chosen in one query — before 2026-11-26 all 375 members of 全市收发员 were built as model instances, "
            "p95 96 ms), then inserts 100 rows; a signer's submit is an ordinary submit on a 47 KB state. Each "
            "service locks only the instance row (`select_for_update(of=self)`): before, the joined definition row "
            "was locked too, so every submit of one flow version queued on it (2 workers 41/s, 4 workers 31/s).",
            "",
            "Serialization: in a linear flow SpiffWorkflow predicts the whole path at the start, so the stored "
            f"state stays at ~{fmt(f['state_kb']['0'] if '0' in f['state_kb'] else f['state_kb'][0])} KB at every "
            f"step; the spec ({fmt(f.get('spec_kb'))} KB serialized) is not in it: `engine.dump_state` strips "
            "`spec` / `subprocess_specs`, and `engine.load_state` puts back the version's spec, serialized once per "
            "process and cached by (definition id, SM3) (`engine._spec_json`; docs/flow-design.md), so no submit parses "
            "BPMN XML. What is left per load is `json.loads` of that cached string and SpiffWorkflow rebuilding the spec "
            "objects (`from_dict`) — most of `load_state`. Serialization shows where a state is big: in the "
            "100-signer 会签 every instance task carries its own copy of the data, and load + dump is a visible share "
            "of a signer's submit (rows above).",
        ]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == "--throughput-worker":
        throughput_worker(sys.argv[2])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
