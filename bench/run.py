"""`make bench`: measure the demo city seed, people search, login + /me throughput and the audit chain.

Each figure comes with a floor measured in the same run, so it reads as a ratio:
- seed_demo: the time of `migrate` on the same fresh database (what any empty start costs anyway);
- people search (org.selectors.search_people, in process = server side): the equivalent raw LIKE query
  through a database cursor;
- login + /api/v1/me over HTTP against gunicorn (2 workers): GET /healthz (one `SELECT 1`) on the
  same server, and one password-hash verification in process (a login cannot be faster than that);
- audit.verify.verify_chain over 100,000 chained records: a raw cursor fetch of the same columns in the same
  seq batches, and SM3 over the same canonical contents; the auditor console's first list page
  (audit.selectors.page + capped_count): the same page and count as plain SQL.

Runs against SQLite always and PostgreSQL when DATABASE_URL is set (a scratch database
`<name>_bench` is created next to the one named, and dropped afterwards). Results replace the
backend's block in docs/PERFORMANCE.md; the other backend's block is kept. Never part of `make test`.
The process engine's benchmarks (worklists over 1,000,000 tasks, completing tasks, 会签, 传阅) are in
bench/flow_bench.py and have their own "流程引擎" block per backend.

    .venv/bin/python bench/run.py [--backend sqlite|postgres|all] [--no-http] [--no-audit] [--no-flow]
                                  [--only flow] [--no-write]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "PERFORMANCE.md"
SEARCH_QUERIES = 300
SEARCH_LIMIT = 20
SEARCH_TARGET_MS = 20.0
CONCURRENCY = 8
LOGINS = 160
ME_REQUESTS = 1500
HEALTH_REQUESTS = 1500
PHASE_SECONDS = 60  # bound on each HTTP phase, whatever the request count
AUDIT_RECORDS = 100_000
AUDIT_INSERT_BATCH = 1000  # rows per INSERT of the synthetic chain
AUDIT_RUNS = 3  # verify_chain and its floors: the median of this many walks
CONSOLE_CALLS = 50
# the synthetic trail's mix (action, category, outcome, weight): a working day's trail is mostly logins
AUDIT_MIX = (
    ("auth.login", "security", "success", 34),
    ("auth.logout", "security", "success", 18),
    ("auth.token_issued", "security", "success", 8),
    ("auth.idle_timeout", "security", "success", 6),
    ("auth.login_failed", "security", "failure", 5),
    ("org.person_updated", "business", "success", 14),
    ("org.unit_updated", "business", "success", 3),
    ("calendar.day_set", "business", "success", 2),
    ("accounts.password_changed", "security", "success", 6),
    ("accounts.unlocked", "security", "success", 2),
    ("permission.denied", "security", "denied", 2),
)
CONSOLE_FILTERS = (("", "no filter"), ("auth.", "action prefix `auth.` (common: ~70 %)"),
                   ("permission.", "action prefix `permission.` (rare: ~2 %)"))


# --- helpers ---------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
            "max": max(ms) if ms else float("nan"), "mean": sum(ms) / len(ms) if ms else float("nan")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def base_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY"}}
    env.update({"DJANGO_SETTINGS_MODULE": "zhengtong.settings.dev", "DEBUG": "false", "DATA_DIR": str(data_dir),
                "PYTHONPATH": str(REPO / "src"), "PYTHONUNBUFFERED": "1"})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def manage(env: dict[str, str], *args: str) -> tuple[float, str]:
    env = {**env, "DEBUG": "true"}  # seed_demo refuses to run with DEBUG off outside the test settings
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


# --- machine ---------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    info = {"nproc": str(os.cpu_count()), "python": platform.python_version(), "os": platform.platform()}
    try:
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        info["memory"] = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        info["memory"] = "?"
    try:
        info["cpu"] = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1).strip()
    except (OSError, AttributeError):
        info["cpu"] = platform.processor() or "?"
    import sqlite3

    import django

    info["django"] = django.get_version()
    info["sqlite"] = sqlite3.sqlite_version
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        info["commit"] = "?"
    info["date"] = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    try:
        info["load"] = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        info["load"] = "?"
    return info


# --- PostgreSQL scratch database ---------------------------------------------------------------------
def scratch_postgres(url: str) -> tuple[str, str, str]:
    """(scratch URL, admin URL, scratch name): a fresh `<db>_bench` database beside the one in `url`."""
    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "postgres") + "_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def drop_postgres(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- search worker (runs in a subprocess with Django set up for one backend) ---------------------------------
def make_queries(people: list[tuple[str, str, str]], n: int) -> list[tuple[str, str]]:
    """Realistic look-ups: initials (zs, wjh), full-pinyin prefixes (zhang, wangjian), Chinese fragments."""
    rng = random.Random(2026)
    queries = []
    for i, (name, full, initials) in enumerate(rng.sample(people, n)):
        kind = ("initials", "pinyin", "chinese")[i % 3]
        if kind == "initials":
            key = initials.split(" ")[0]
            q = key[:rng.choice((2, 3))]
        elif kind == "pinyin":
            key = full.split(" ")[0]
            q = key[:rng.randint(min(3, len(key)), len(key))]
        else:
            q = rng.choice((name[:1], name[:2], name, name[1:]))
        queries.append((kind, q))
    return queries


def search_worker() -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import check_password, make_password
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zhengtong.accounts.models import User
    from zhengtong.org.models import Person

    out: dict = {"people": Person.objects.count(), "vendor": connection.vendor}
    rng = random.Random(7)
    users = list(User.objects.filter(person__isnull=False, otp_exempt=False).order_by("id")
                 .values_list("username", flat=True))
    out["login_users"] = rng.sample(users, min(LOGINS, len(users)))
    encoded = make_password("Demo@2026")
    times = []
    for _ in range(5):
        started = time.perf_counter()
        check_password("Demo@2026", encoded)
        times.append(time.perf_counter() - started)
    out["hash_verify_ms"] = percentile([t * 1000 for t in times], 50)
    out["hasher"] = encoded.split("$", 1)[0]

    people = list(Person.objects.filter(active=True).values_list("name", "pinyin", "initials"))
    queries = make_queries(people, min(SEARCH_QUERIES, len(people)))
    out["queries"] = len(queries)
    out["examples"] = [q for _, q in queries[:12]]

    table = Person._meta.db_table
    floor_sql = (f"SELECT id, name FROM {table} WHERE active = %s AND (name LIKE %s OR pinyin LIKE %s OR pinyin "
                 f"LIKE %s OR initials LIKE %s OR initials LIKE %s) ORDER BY pinyin LIMIT {SEARCH_LIMIT}")

    def floor(q: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, [True, f"%{q}%", f"{q}%", f"% {q}%", f"{q}%", f"% {q}%"])
            return len(cursor.fetchall())

    def timed(fn) -> dict:
        for _, q in queries[:30]:  # warm-up: caches, statement preparation
            fn(q)
        per_kind: dict[str, list[float]] = {}
        every = []
        for kind, q in queries:
            started = time.perf_counter()
            fn(q)
            elapsed = time.perf_counter() - started
            every.append(elapsed)
            per_kind.setdefault(kind, []).append(elapsed)
        return {"all": stats_ms(every), **{k: stats_ms(v) for k, v in per_kind.items()}}

    out["floor"] = timed(floor)
    try:
        from zhengtong.org.selectors import search_people
    except ImportError as exc:
        out["missing"] = f"org.selectors.search_people is not available ({exc})"
        print(json.dumps(out))
        return

    def search(q: str) -> int:
        return len(list(search_people(q, limit=SEARCH_LIMIT)))

    hits = {q: search(q) for _, q in queries}
    out["zero_hits"] = sum(1 for v in hits.values() if v == 0)
    # the bench itself checks the acceptance example: 'zs' and 'zhangsan' both find 张三
    with CaptureQueriesContext(connection) as captured:
        for _, q in queries[:20]:
            search(q)
    out["sql_per_search"] = len(captured.captured_queries) / 20
    out["search"] = timed(search)
    print(json.dumps(out))


# --- audit worker (a subprocess too): the SM3 chain walk and the auditor console at 100,000 records -----------
def synthetic_trail(n: int, start_seq: int, prev_hash: str, users: list, units: list) -> tuple[list, list, str]:
    """`n` chained AuditRecord objects after (`start_seq` - 1, `prev_hash`), with realistic field sizes.

    Returns (records, the hashed bytes of each, the last hash): content_hash is the audit code's own
    hashing, so verify_chain accepts the chain only if it is built exactly as record() builds it.
    """
    from django.utils import timezone

    from zhengtong.audit.models import AuditRecord
    from zhengtong.audit.services import HASHED_FIELDS, content_hash
    from zhengtong.core.crypto import canonical_json

    rng = random.Random(2027)
    actions = rng.choices(AUDIT_MIX, weights=[m[3] for m in AUDIT_MIX], k=n)
    end = timezone.now()
    step = dt.timedelta(days=30) / n  # a month of a city's trail, oldest first
    titles = ("科员", "副科长", "科长", "副主任", "主任", "局长", "收发员")
    records, contents = [], []
    for i, (action, category, outcome, _) in enumerate(actions):
        user_id, username, name = rng.choice(users)
        unit_id, unit_name = rng.choice(units)
        fields = {
            "seq": start_seq + i, "time": end - step * (n - i) + dt.timedelta(microseconds=rng.randrange(1_000_000)),
            "actor_id": user_id, "actor_username": username, "actor_name": name, "identity_id": None,
            "unit_id": unit_id, "unit_name": unit_name,
            "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "channel": rng.choice(("web", "web", "web", "api")), "action": action, "category": category,
            "object_type": "accounts.user", "object_id": str(user_id), "object_repr": username,
            "outcome": outcome, "changes": {}, "detail": {},
        }
        if action == "auth.login":
            fields["detail"] = {"method": "password", "second_factor": rng.choice(("", "totp")),
                                "otp_enrollment_required": False, "password_change_due": False}
        elif action == "auth.token_issued":
            fields["detail"] = {"name": "移动办公", "expires": (fields["time"] + dt.timedelta(days=30)).isoformat()}
        elif action == "auth.idle_timeout":
            fields["detail"] = {"idle_minutes": 30}
        elif action == "auth.login_failed":
            fields.update(actor_id=None, actor_name="", unit_id=None, unit_name="", object_id="",
                          detail={"reason": "wrong_password", "failures": rng.randint(1, 4)})
        elif action == "org.person_updated":
            fields.update(object_type="org.person", object_id=str(rng.randrange(1, 9000)), object_repr=name,
                          changes={"phone": [f"0790-{rng.randrange(10**7):07d}", f"1{rng.randrange(10**10):010d}"],
                                   "title": [rng.choice(titles), rng.choice(titles)]})
        elif action == "org.unit_updated":
            fields.update(object_type="org.unit", object_id=str(unit_id), object_repr=unit_name,
                          changes={"short_name": [unit_name[:4], unit_name[:6]], "sort_order": [10, 20]})
        elif action == "calendar.day_set":
            day = (fields["time"] + dt.timedelta(days=rng.randrange(60))).date().isoformat()
            fields.update(object_type="calendar.day", object_id=day, object_repr=day,
                          changes={"kind": ["workday", "holiday"]}, detail={"note": "国庆节调休"})
        elif action == "permission.denied":
            fields.update(object_type="", object_id="", object_repr="", detail={"needs": "auditor"})
        digest = content_hash(fields, prev_hash)
        content = {name: fields[name] for name in HASHED_FIELDS}
        content["time"] = content["time"].isoformat()
        contents.append(prev_hash.encode() + canonical_json(content))  # what content_hash hashed
        records.append(AuditRecord(prev_hash=prev_hash, hash=digest, **fields))
        prev_hash = digest
    return records, contents, prev_hash


def audit_worker() -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count

    from zhengtong.accounts.models import User
    from zhengtong.audit import selectors
    from zhengtong.audit.models import AuditChainHead, AuditRecord
    from zhengtong.audit.services import HASHED_FIELDS
    from zhengtong.audit.verify import BATCH, FIELDS, verify_chain
    from zhengtong.core.crypto import canonical_json, sm3_hex
    from zhengtong.org.models import Unit

    out: dict = {"vendor": connection.vendor, "records": AUDIT_RECORDS}
    users = [(pk, username, (name or "")[:50]) for pk, username, name in
             User.objects.filter(person__isnull=False).values_list("id", "username", "person__name")]
    units = list(Unit.objects.values_list("id", "name"))

    # 1. the chain, built in Python with the audit code's own hashing and appended with bulk INSERTs under
    # the locked head, as record() would one by one (the table's triggers refuse UPDATE and DELETE only)
    started = time.perf_counter()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        out["seeded_records"] = head.seq
        out["synthetic"] = AUDIT_RECORDS - head.seq  # the chain holds AUDIT_RECORDS in all
        records, contents, last_hash = synthetic_trail(out["synthetic"], head.seq + 1, head.hash, users, units)
        for rec in AuditRecord.objects.filter(seq__lte=head.seq).order_by("seq"):  # for the hashing floor
            content = {name: getattr(rec, name) for name in HASHED_FIELDS}
            content["time"] = content["time"].isoformat()
            contents.append(rec.prev_hash.encode() + canonical_json(content))
        out["build_s"] = time.perf_counter() - started
        AuditRecord.objects.bulk_create(records, batch_size=AUDIT_INSERT_BATCH)
        AuditChainHead.objects.filter(pk=1).update(seq=AUDIT_RECORDS, hash=last_hash)
    out["insert_s"] = time.perf_counter() - started - out["build_s"]
    del records
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give a table this size
            cursor.execute(f"ANALYZE {AuditRecord._meta.db_table}")
    out["mix"] = {row["action"]: row["n"] for row in
                  AuditRecord.objects.values("action").annotate(n=Count("pk")).order_by("-n")}

    # 2. verify_chain(): the walk `manage.py verify_audit` and the daily task do; floors in the same run
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f) for f in FIELDS)
    fetch_sql = f"SELECT {columns} FROM {table} WHERE seq >= %s ORDER BY seq LIMIT {BATCH}"

    def raw_fetch() -> int:  # the same columns in the same seq batches, without turning rows into values
        rows, lower = 0, 0
        with connection.cursor() as cursor:
            while True:
                cursor.execute(fetch_sql, [lower])
                batch = cursor.fetchall()
                rows += len(batch)
                if len(batch) < BATCH:
                    return rows
                lower = batch[-1][1] + 1

    def hashing(contents: list[bytes]) -> int:
        for content in contents:
            sm3_hex(content)
        return len(contents)

    walks, fetches, hashes = [], [], []
    for _ in range(AUDIT_RUNS):
        report = verify_chain()
        if not report.ok:
            raise RuntimeError(f"the synthetic chain does not verify: {report.summary()}")
        walks.append(report.seconds)
        began = time.perf_counter()
        out["fetched"] = raw_fetch()
        fetches.append(time.perf_counter() - began)
        began = time.perf_counter()
        out["hashed"] = hashing(contents)
        hashes.append(time.perf_counter() - began)
    out["checked"] = report.checked
    out["verify_s"], out["fetch_s"], out["hash_s"] = (sorted(x)[len(x) // 2] for x in (walks, fetches, hashes))
    out["verify_range_s"] = [min(walks), max(walks)]
    out["hash_bytes"] = sum(len(c) for c in contents) / len(contents)
    del contents

    # 3. the auditor console's first page at that size: the selectors its list view calls (a page of 50,
    # newest first, and the count capped at 10,000), the auditor's role check included
    auditor = User.objects.get(username="auditor")
    page_sql = f"SELECT {columns} FROM {table} {{where}} ORDER BY seq DESC LIMIT {selectors.PAGE_SIZE + 1}"
    count_sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} {{where}} LIMIT {selectors.COUNT_CAP + 1}) AS capped"
    out["console"], out["count_cap"] = [], selectors.COUNT_CAP
    for prefix, label in CONSOLE_FILTERS:
        flt = selectors.RecordFilter(action=prefix)

        def console_page(flt=flt):
            result = selectors.page(auditor, flt)
            return len(result.rows), selectors.capped_count(selectors.filtered(auditor, flt))

        def floor_page(prefix=prefix):  # the same two statements, written plainly
            with connection.cursor() as cursor:
                where, params = ("WHERE action LIKE %s", [prefix + "%"]) if prefix else ("", [])
                cursor.execute(page_sql.format(where=where), params)
                rows = len(cursor.fetchall())
                cursor.execute(count_sql.format(where=where), params)
                return rows, cursor.fetchone()[0]

        entry = {"prefix": prefix, "label": label}
        for key, fn in (("console", console_page), ("floor", floor_page)):
            for _ in range(5):  # warm-up
                fn()
            times = []
            for _ in range(CONSOLE_CALLS):
                began = time.perf_counter()
                got = fn()
                times.append(time.perf_counter() - began)
            entry[key] = stats_ms(times)
            if key == "console":
                entry["rows"], (entry["count"], entry["more"]) = got
            elif got[0] - entry["rows"] not in (0, 1) or got[1] != entry["count"] + entry["more"]:
                raise RuntimeError(f"the console and its floor disagree for {prefix!r}: {got} vs {entry}")
        out["console"].append(entry)
    print(json.dumps(out))


# --- HTTP ------------------------------------------------------------------------------------------------
def http_call(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    payload = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json"} if payload else {}
    hdrs.update(headers or {})
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        status = resp.status
    except OSError:
        status, data = 0, b""
    finally:
        conn.close()
    return status, data, time.perf_counter() - started


def run_phase(calls: list, concurrency: int = CONCURRENCY) -> dict:
    """Run the calls with `concurrency` client threads; bounded by PHASE_SECONDS."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    results: list = []
    deadline = time.monotonic() + PHASE_SECONDS
    it = iter(calls)
    lock = threading.Lock()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                call = next(it, None)
            if call is None:
                return
            status, data, elapsed = call()
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                results.append((status, data))

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    wall = time.perf_counter() - started
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {**stats_ms(latencies), "wall_s": wall, "rps": ok / wall if wall else 0.0, "ok": ok,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}, "results": results}


def http_bench(env: dict[str, str], usernames: list[str]) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zhengtong.wsgi:application", "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
            if http_call(port, "GET", "/healthz")[0] == 200:
                break
            time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not answer /healthz within 60 s")
        for _ in range(20):  # warm both workers
            http_call(port, "GET", "/healthz")
        out: dict = {"server": "gunicorn, 2 sync workers", "concurrency": CONCURRENCY}
        out["healthz"] = run_phase([lambda: http_call(port, "GET", "/healthz")] * HEALTH_REQUESTS)

        # each simulated client comes from its own address behind the trusted proxy (127.0.0.1), as a
        # city's staff would, so per-address login throttling does not turn the benchmark into a 429 test
        def login(i: int, username: str):
            return lambda: http_call(port, "POST", "/api/v1/auth/token",
                                     {"username": username, "password": "Demo@2026"},
                                     {"X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256 + 1}"})

        probe = http_call(port, "POST", "/api/v1/auth/token", {"username": usernames[0], "password": "Demo@2026"},
                          {"X-Forwarded-For": "10.255.255.1"})
        if probe[0] != 200:
            try:
                detail = json.loads(probe[1])
            except ValueError:
                detail = "not JSON: the token endpoint is not there yet"
            out["missing"] = f"POST /api/v1/auth/token answered {probe[0]} ({detail})"
            return out
        out["login"] = run_phase([login(i, u) for i, u in enumerate(usernames[1:], 1)])
        tokens = []
        for status, data in out["login"]["results"]:
            if status == 200:
                try:
                    tokens.append(json.loads(data)["token"])
                except (ValueError, KeyError):
                    pass
        if not tokens:
            out["missing"] = f"no token obtained; statuses {out['login']['statuses']}"
            return out

        def me(i: int):
            return lambda: http_call(port, "GET", "/api/v1/me", headers={
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "X-Forwarded-For": f"10.1.{i // 256 % 256}.{i % 256 + 1}"})

        out["me"] = run_phase([me(i) for i in range(ME_REQUESTS)])
        first_me = next((d for s, d in out["me"]["results"] if s == 200), b"")
        out["me_sample_bytes"] = len(first_me)
        return out
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# --- one backend ---------------------------------------------------------------------------------------------
def search_phase(env: dict[str, str]) -> dict:
    log("people search")
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--search-worker"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"search worker failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_backend(backend: str, with_http: bool, with_audit: bool = True, with_flow: bool = True,
                  only_flow: bool = False) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix=f"zt-bench-{backend}-"))
    admin = scratch = ""
    url = ""
    result: dict = {"backend": backend, "machine": machine()}
    try:
        if backend == "postgres":
            url, admin, scratch = scratch_postgres(os.environ["DATABASE_URL"])
            import psycopg

            with psycopg.connect(url) as conn:
                result["machine"]["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
        env = base_env(data_dir, url)
        log(f"{backend}: migrate on a fresh database")
        result["migrate_s"], _ = manage(env, "migrate", "--noinput")
        log(f"{backend}: seed_demo")
        result["seed_s"], out = manage(env, "seed_demo")
        found = re.search(r"（([\d.]+) 秒）", out)
        result["seed_inside_s"] = float(found.group(1)) if found else None
        result["seed_output"] = out.strip()
        if only_flow:
            with_http = with_audit = False
        else:
            result["search"] = search_phase(env)
        if with_http:
            log(f"{backend}: login + /me over HTTP")
            result["http"] = http_bench(env, result["search"]["login_users"])
            for phase in ("healthz", "login", "me"):
                result["http"].get(phase, {}).pop("results", None)
        if with_audit:  # after search and HTTP: its 100,000 records would otherwise be under those phases
            log(f"{backend}: audit chain, {AUDIT_RECORDS:,} records")
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--audit-worker"], cwd=REPO,
                                  env=env, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"audit worker failed:\n{done.stderr[-4000:]}")
            result["audit"] = json.loads(done.stdout.strip().splitlines()[-1])
        if with_flow:  # last: its 1,100,000 task rows would otherwise be under the phases above
            import flow_bench

            scope = "full" if backend == "postgres" else "worklist"
            log(f"{backend}: process engine ({scope}; bench/flow_bench.py)")
            result["flow"] = flow_bench.run(env, scope)
        return result
    finally:
        if scratch:
            drop_postgres(admin, scratch)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- report --------------------------------------------------------------------------------------------------
def fmt(x: float | None, digits: int = 1) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def data_size(seed_output: str) -> str:
    """"…：375 个单位，1196 个内设机构，8165 人，8233 个身份，8168 个账号。" → English with thousands separators."""
    numbers = [int(n) for n in re.findall(r"(\d+) (?:个单位|个内设机构|人|个身份|个账号)", seed_output)]
    labels = ("units", "departments", "people", "identities (posts)", "accounts")
    if len(numbers) != len(labels):
        return seed_output
    return ", ".join(f"{n:,} {label}" for n, label in zip(numbers, labels, strict=True))


def render(result: dict) -> str:
    m = result["machine"]
    s = result["search"]
    title = {"sqlite": "SQLite (embedded, WAL)", "postgres": "PostgreSQL"}[result["backend"]]
    lines = [
        f"### {title}",
        "",
        f"Measured {m['date']} at commit `{m['commit']}` on {m['nproc']} CPU ({m['cpu']}), {m['memory']} memory"
        + (f", load average {m['load']} at the start" if "load" in m else "") + "; "
        f"Python {m['python']}, Django {m['django']}, "
        + (f"PostgreSQL {m['postgresql']}" if "postgresql" in m else f"SQLite {m['sqlite']}") + ".",
        "",
        f"Data: the demo city — {data_size(result['seed_output'])}"
        + (f"; for the audit rows, its trail is filled up to {result['audit']['records']:,} audit records."
           if "audit" in result else "."),
        "",
        "| measurement | figure | floor (same run) | ratio |",
        "| --- | --- | --- | --- |",
        f"| `seed_demo` on a fresh database (process wall time; inside the command) | {fmt(result['seed_s'])} s; "
        f"{fmt(result['seed_inside_s'])} s | `migrate` on the same database: {fmt(result['migrate_s'])} s | "
        f"{fmt(result['seed_s'] / result['migrate_s'], 2)}× |",
    ]
    floor = s["floor"]["all"]
    if "search" in s:
        got = s["search"]["all"]
        verdict = "meets" if got["p95"] <= SEARCH_TARGET_MS else "MISSES"
        lines.append(
            f"| people search `search_people(q, limit={SEARCH_LIMIT})`, {s['queries']} queries over {s['people']:,} "
            f"people: p50 / p95 / max | {fmt(got['p50'], 2)} / **{fmt(got['p95'], 2)}** / {fmt(got['max'], 2)} ms "
            f"({verdict} the p95 ≤ {SEARCH_TARGET_MS:.0f} ms target) | raw `LIKE` query through a cursor: "
            f"{fmt(floor['p50'], 2)} / {fmt(floor['p95'], 2)} / {fmt(floor['max'], 2)} ms | "
            f"p95 {fmt(got['p95'] / floor['p95'], 1)}× |")
        for kind, label in (("initials", "initials (`zs`, `wjh`)"), ("pinyin", "full-pinyin prefixes (`zhangw`)"),
                            ("chinese", "Chinese fragments (`张`, `王建`)")):
            if kind in s["search"]:
                k, f = s["search"][kind], s["floor"][kind]
                lines.append(f"| … {label}: p50 / p95 | {fmt(k['p50'], 2)} / {fmt(k['p95'], 2)} ms | "
                             f"{fmt(f['p50'], 2)} / {fmt(f['p95'], 2)} ms | p95 {fmt(k['p95'] / f['p95'], 1)}× |")
    else:
        lines.append(f"| people search | not measured: {s.get('missing')} | raw `LIKE` p95 {fmt(floor['p95'], 2)} ms "
                     "| — |")
    h = result.get("http")
    if h:
        hz = h["healthz"]
        lines.append(
            f"| `GET /healthz` ({h['server']}, {h['concurrency']} concurrent clients on the same machine) | "
            f"{fmt(hz['rps'], 0)} req/s, p50 / p95 {fmt(hz['p50'])} / {fmt(hz['p95'])} ms | (this is the floor) | — |")
        if "login" in h:
            lg = h["login"]
            lines.append(
                f"| `POST /api/v1/auth/token` (login, {lg['n']} distinct users) | {fmt(lg['rps'])} logins/s, "
                f"p50 / p95 {fmt(lg['p50'])} / {fmt(lg['p95'])} ms; statuses {lg['statuses']} | one "
                f"`{s['hasher']}` verification in process: {fmt(s['hash_verify_ms'])} ms | p50 "
                f"{fmt(lg['p50'] / s['hash_verify_ms'], 1)}× the hash |")
        if "me" in h:
            me = h["me"]
            lines.append(
                f"| `GET /api/v1/me` with a bearer token | {fmt(me['rps'], 0)} req/s, p50 / p95 {fmt(me['p50'])} / "
                f"{fmt(me['p95'])} ms; statuses {me['statuses']} | `/healthz` {fmt(hz['rps'], 0)} req/s | "
                f"{fmt(me['rps'] / hz['rps'], 2)}× the floor's throughput |")
        if "missing" in h:
            lines.append(f"| login + `/me` | not measured: {h['missing']} | — | — |")
    a = result.get("audit")
    if a:
        floors = a["fetch_s"] + a["hash_s"]
        lines.append(
            f"| `audit.verify.verify_chain()` (what `verify_audit` and the daily check run) over "
            f"{a['checked']:,} audit records: wall time, median of {AUDIT_RUNS} | **{fmt(a['verify_s'], 2)} s**, "
            f"{fmt(a['checked'] / a['verify_s'], 0)} records/s (runs {fmt(a['verify_range_s'][0], 2)}–"
            f"{fmt(a['verify_range_s'][1], 2)} s) | raw fetch of the same columns in seq batches through a cursor: "
            f"{fmt(a['fetch_s'], 2)} s ({a['fetched']:,} rows); SM3 of {a['hashed']:,} canonical contents "
            f"({fmt(a['hash_bytes'], 0)} bytes each on average) in process: {fmt(a['hash_s'], 2)} s | "
            f"{fmt(a['verify_s'] / floors, 1)}× the two floors' sum ({fmt(floors, 2)} s) |")
        for i, entry in enumerate(a["console"]):
            c, f = entry["console"], entry["floor"]
            shown = f"more than {entry['count']:,}" if entry["more"] else f"{entry['count']:,}"
            where = f"`WHERE action LIKE '{entry['prefix']}%'`" if entry["prefix"] else "no `WHERE`"
            what = (f"auditor console's list over {a['checked']:,} audit records, first page (`selectors.page` + "
                    f"`selectors.capped_count`, as the list view calls them), {entry['label']}: p50 / p95 / max "
                    f"of {c['n']} calls" if i == 0 else f"… {entry['label']}: p50 / p95 / max")
            lines.append(
                f"| {what} | {fmt(c['p50'], 2)} / **{fmt(c['p95'], 2)}** / {fmt(c['max'], 2)} ms "
                f"({entry['rows']} rows; count shown: {shown}) | raw `SELECT … ORDER BY seq DESC LIMIT 51` and "
                f"a count of at most {a['count_cap'] + 1:,} rows, {where}, through a cursor: {fmt(f['p50'], 2)} / "
                f"{fmt(f['p95'], 2)} / {fmt(f['max'], 2)} ms | p95 {fmt(c['p95'] / f['p95'], 1)}× |")
    if "sql_per_search" in s:
        lines += ["", f"Search issues {fmt(s['sql_per_search'], 1)} SQL statements per call; "
                      f"{s['zero_hits']} of {s['queries']} queries found nobody (every query is cut from a real "
                      f"name). Example queries: "
                      + ", ".join(f"`{q}`" for q in s["examples"]) + "."]
    if a:
        total = sum(a["mix"].values())
        mix = ", ".join(f"`{action}` {n / total:.0%}" for action, n in a["mix"].items() if n / total >= 0.005)
        lines += ["", f"Audit chain: {a['synthetic']:,} synthetic records (a month of the city's trail over its "
                      f"real accounts and units: {mix}) appended after the {a['seeded_records']:,} already in the "
                      f"trail (written by `seed_demo` and the phases above), hashed with `audit.services.content_hash` ({fmt(a['build_s'], 1)} s) and inserted in "
                      f"batches of {AUDIT_INSERT_BATCH:,} ({fmt(a['insert_s'], 1)} s). The walk found the chain "
                      f"intact in every run. No targets: these figures are tracked against their floors."]
    return "\n".join(lines)


HEADER = """# Performance

`make bench` (bench/run.py) measures, on a fresh database each time, at the demo city's size (MISSION.md:
375 units, 8,165 people, as in 新余's platform):

1. **`seed_demo`**: building the demo city, target under 60 s on SQLite. Floor: `migrate` on the same
   database.
2. **People search by pinyin** — `org.selectors.search_people(q, limit=20)` called in process (server side,
   no HTTP), a few hundred deterministic queries built from the city's real names: initials (`zs`), full
   pinyin prefixes (`zhangw`), Chinese fragments (`张`, `王建`). Target: **p95 ≤ 20 ms**. Floor: the
   equivalent single `LIKE` query on the people table through a database cursor.
3. **Login + `/api/v1/me` throughput** over HTTP against gunicorn with 2 sync workers, with 8 concurrent
   client threads on the same machine (127.0.0.1; so the client competes with the server for the same
   CPUs). Each simulated client sends its own `X-Forwarded-For` address (127.0.0.1 is the trusted proxy),
   like staff behind the city's reverse proxy. Floors: `GET /healthz` on the same server, and one password
   hash verification in process (argon2 is deliberately slow; a login cannot be faster than one verification
   per core).
4. **The audit trail at 100,000 records** (`--no-audit` skips it). The city's trail is filled up to 100,000
   records forming a valid SM3 chain: a month of synthetic events over the city's real accounts and units
   (logins, logouts, tokens, failed logins, person and unit edits, …, with realistic field sizes), hashed
   with the audit code's own `content_hash` and inserted in batches under the locked chain head (rather than
   100,000 `record()` calls of one transaction each; the table's triggers refuse only UPDATE and DELETE). Then:
   - **`verify_chain()`**, the walk `manage.py verify_audit` and the daily check run, three times (the
     median is reported; the walk must find the chain intact, or the bench fails). Floors: fetching the
     same columns in the same seq batches through a raw cursor, and SM3 over the same canonical contents
     in process. No target: the walk runs in the background (nightly, or on the auditor's request); the
     figure is tracked against its floors. docs/audit.md has the 1,000,000-record figures.
   - **The auditor console's list**: the selectors its list view calls for the first page (50 records,
     newest first, and the count capped at 10,000), with no filter, with a common action prefix (`auth.`)
     and a rare one (`permission.`), 50 calls each. Floor: the same page and capped count as plain SQL
     (`action LIKE 'prefix%'`) through a cursor. No target either.

5. **The process engine** (bench/flow_bench.py; `--no-flow` skips it, `--only flow` runs only it after
   `migrate` + `seed_demo`), issue #3 §7, targets on PostgreSQL with 1,000,000 done and 100,000 open tasks
   over the city's people: the 待办 / 已办 lists' first page with count (`flow.selectors.worklist`) p95 ≤ 20 ms
   for a median and the heaviest holder, and the workspace count (`box_count`); 提交 in a 10-step flow
   (`services.submit_task`, bench/ten_steps.bpmn) p95 ≤ 30 ms and ≥ 200 completions/s with several worker
   processes on the 2 CPUs; the 提交 that opens a 100-signer 会签 ≤ 60 ms, and a signer's 提交 inside it; 传阅
   to 500 readers ≤ 500 ms. Floors: the same worklist SQL through a cursor; the submit transaction's bare SQL;
   the engine alone in memory (`load_state` → complete → `dump_state`, per step, with the state's size);
   the read-copy rows' bare INSERT. On SQLite only the worklists, at a tenth of the size.

SQLite always; PostgreSQL as well when `DATABASE_URL` is set (a scratch database `<name>_bench` is created
and dropped). Each backend's block below is replaced when that backend is measured again. Every phase is
bounded (the audit part takes under a minute per backend), so a run takes a few minutes at most. Benchmarks
are never part of `make test`.

## Results
"""

FOOTER = """
## Reading the figures

- Percentiles are nearest-rank over every request/query of the run, after a short warm-up.
- The ratio column says how far a figure is from what the database or the password hash costs anyway; a
  ratio that grows between runs points at the application code, an absolute figure that grows with an
  unchanged ratio points at the machine.
- Login throughput is bounded by argon2 (Django's default parameters: 100 MiB memory per verification):
  on 2 cores that is roughly 2 ÷ (one verification) logins per second. That is the intended cost of
  R7.1's password protection; tokens and sessions then make every later request cheap (`/me`).
- The chain walk's floors are what no walk can avoid: reading the rows and hashing them. The walk also turns
  rows into Python values (JSON, datetimes), rebuilds each record's canonical JSON and compares; docs/audit.md
  measured it at 2–4 times the floors' sum on a quiet machine. The machine line of each block gives the load
  average when the run started: other work on the same 2 cores slows the Python-bound walk and the HTTP
  phases more than the floors.
"""


def render_flow(result: dict) -> str:
    import flow_bench

    m = result["machine"]
    line = (f"Measured {m['date']} at commit `{m['commit']}` on {m['nproc']} CPU ({m['cpu']}), {m['memory']} memory"
            + (f", load average {m['load']} at the start" if "load" in m else "") + "; "
            f"Python {m['python']}, Django {m['django']}, "
            + (f"PostgreSQL {m['postgresql']}" if "postgresql" in m else f"SQLite {m['sqlite']}") + ".")
    return flow_bench.render(result["flow"], line)


def write_doc(results: list[dict]) -> None:
    existing = DOC.read_text() if DOC.exists() else ""
    blocks = {}
    for backend in ("sqlite", "postgres"):
        found = re.search(rf"<!-- bench:{backend}:start -->\n(.*?)<!-- bench:{backend}:end -->", existing, re.S)
        if found:
            blocks[backend] = found.group(1)
    for backend in ("flow-postgres", "flow-sqlite"):
        found = re.search(rf"<!-- bench:{backend}:start -->\n(.*?)<!-- bench:{backend}:end -->", existing, re.S)
        if found:
            blocks[backend] = found.group(1)
    for result in results:
        if "search" in result:
            blocks[result["backend"]] = render(result) + "\n"
        if "flow" in result:
            blocks["flow-" + result["backend"]] = render_flow(result) + "\n"
    body = HEADER
    for backend in ("sqlite", "postgres", "flow-postgres", "flow-sqlite"):
        if backend in blocks:
            body += f"\n<!-- bench:{backend}:start -->\n{blocks[backend]}<!-- bench:{backend}:end -->\n"
    if not blocks:
        body += "\nNo figures yet: run `make bench`.\n"
    DOC.write_text(body + FOOTER)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "all"], default="all",
                        help="all = SQLite, and PostgreSQL when DATABASE_URL is set")
    parser.add_argument("--no-http", action="store_true", help="skip the login + /me throughput part")
    parser.add_argument("--no-audit", action="store_true",
                        help=f"skip the audit chain part ({AUDIT_RECORDS:,} records, verify_chain, console list)")
    parser.add_argument("--no-flow", action="store_true",
                        help="skip the process-engine part (bench/flow_bench.py: 1,100,000 tasks, submits, 会签, 传阅)")
    parser.add_argument("--only", choices=["flow"], help="run only this part (after migrate + seed_demo)")
    parser.add_argument("--no-write", action="store_true", help="print results, leave docs/PERFORMANCE.md alone")
    parser.add_argument("--search-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--audit-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_worker:
        search_worker()
        return 0
    if args.audit_worker:
        audit_worker()
        return 0
    backends = ["sqlite"] if args.backend in ("sqlite", "all") else []
    if args.backend in ("postgres", "all") and os.environ.get("DATABASE_URL", "").startswith("postgres"):
        backends.append("postgres")
    elif args.backend == "postgres":
        parser.error("--backend postgres needs DATABASE_URL=postgres://…")
    sys.path.insert(0, str(REPO / "src"))
    started = time.perf_counter()
    results = []
    for backend in backends:
        result = bench_backend(backend, with_http=not args.no_http, with_audit=not args.no_audit,
                               with_flow=not args.no_flow, only_flow=args.only == "flow")
        results.append(result)
        if "search" in result:
            print(render(result), flush=True)
        if "flow" in result:
            print(render_flow(result), flush=True)
    if not args.no_write:
        write_doc(results)
        log(f"wrote {DOC.relative_to(REPO)}")
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
