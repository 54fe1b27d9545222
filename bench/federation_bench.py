"""Issue #5 §2 benchmark: 公文交换 between two platform instances on this machine — ≥ 50 envelopes/s sustained,
1 MB PDF each, with the transport and envelope signatures and every file's hash verified.

    .venv/bin/python bench/federation_bench.py [--documents 1000] [--pdf-bytes 1048576] [--no-write]

Two instances as in tests/federation/instances.py, each a separate process tree with its own DATA_DIR and database
(SQLite, or a PostgreSQL database of its own when DATABASE_URL is set), gunicorn (2 sync workers) on a loopback
port and a Huey worker (`run_huey --workers 2`): a county (the sender) and its city (the receiver), linked to each
other. With the county's worker stopped, its office 核发s N sealed 通知 to the city's office (`record_dispatch`:
each outbox row — the envelope signed and written to disk — in the 核发 transaction; one GB/T 9704 PDF rendered
once, padded to 1 MB with an embedded incompressible attachment, its bytes reused). Then the county's worker is
started and drains the outbox: each envelope signed for the transport, POSTed, checked by the city (transport
signature, envelope signature, SHA-256 of every file), stored, mirrored as a document with a delivery in the
收发员's 交换箱, and a 送达 receipt queued at the city, whose worker seals the queued receipts into batches and
sends them back.

Measured: envelopes/s from the worker's start to the last envelope accepted (every outbox row "sent"), and
sustained between the first and the last acceptance (the rows' done_at); the 核发 rate while writing; when the last
receipt was back. Floors in the same run: sealing + signing + verifying + opening one envelope in process (what
the two instances' crypto and hashing cost per envelope, on one core), and the same 1 MB bodies POSTed from two
client threads to a gunicorn with the same two sync workers whose app only reads the body (HTTP and copying).
Writes the block between <!-- federation:<database>:begin --> and <!-- federation:<database>:end --> in
docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET = 50.0
TITLE = "甲县人民政府办公室关于报送年度统计资料的通知"


def sink(environ, start_response):
    """The HTTP floor's app (gunicorn loads it as `federation_bench:sink`): read the body, answer 200."""
    stream, left = environ["wsgi.input"], int(environ.get("CONTENT_LENGTH") or 0)
    while left > 0:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "15")])
    return [b'{"status":"ok"}']


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (gunicorn's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo += children.get(current, [])
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (those still running)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Counter:
    """Counts the county's outbox rows straight from its database (cheap enough to poll while measuring)."""

    def __init__(self, instance):
        url = instance.env.get("DATABASE_URL", "")
        if url:
            import psycopg

            self.conn, self.mark = psycopg.connect(url, autocommit=True), "%s"
        else:
            self.conn = sqlite3.connect(f"file:{instance.data / 'zhengtong.sqlite3'}?mode=ro", uri=True,
                                        isolation_level=None, timeout=20)
            self.mark = "?"

    def count(self, direction: str, kind: str, status: str) -> int:
        m = self.mark
        sql = f"SELECT count(*) FROM federation_envelope WHERE direction = {m} AND kind = {m} AND status = {m}"
        cur = self.conn.execute(sql, (direction, kind, status))
        return cur.fetchone()[0]

    def delivered(self) -> int:
        """送达 receipts applied at the sender (they travel back in batches, several per envelope)."""
        cur = self.conn.execute(f"SELECT count(*) FROM exchange_deliveryevent WHERE kind = {self.mark}", ("delivered",))
        return cur.fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def wait(check, timeout: float, every: float = 0.25) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(every)
    raise SystemExit("timed out")


def at(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def crypto_floor(pdf_bytes: int, runs: int, algorithm: str) -> dict:
    """seal (envelope signature + hashes) + transport signature, then the receiver's transport check and
    open_envelope (signature + every file's hash), in process: ms per envelope."""
    sys.path.insert(0, str(REPO / "src"))
    from zhengtong.exchange.federation import transport
    from zhengtong.exchange.federation.envelope import open_envelope, seal_envelope
    from zhengtong.exchange.federation.identity import generate

    key, me = generate("county-bench", algorithm=algorithm), "city-bench"
    trusted = {key.instance_id: key.certificate}
    pdf = os.urandom(pdf_bytes)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        _, data = seal_envelope(key, kind="document", to_instance=me, sender_unit={"code": "x"},
                                recipients=[{"code": "y"}], document={"title": TITLE},
                                files=[("1.pdf", "sealed_pdf", pdf)])
        headers = transport.sign_request(key, me, data)
        transport.verify_request(headers, data, body_sha256=hashlib.sha256(data).hexdigest(), me=me,
                                 neighbours=trusted)
        open_envelope(data, trusted)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"median_ms": times[len(times) // 2], "size": len(data)}


def http_floor(pdf_bytes: int, count: int, clients: int) -> dict:
    """The same bodies POSTed to a gunicorn (same worker count) that only reads them."""
    from tests.federation.instances import free_port

    port = free_port()
    log = open(os.devnull, "wb")  # noqa: SIM115 — lives as long as the server
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--chdir", str(REPO / "bench"),
                               "federation_bench:sink", "-b", f"127.0.0.1:{port}", "-w", "2"],
                              stdout=log, stderr=subprocess.STDOUT)
    body = os.urandom(pdf_bytes)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                post(port, b"x")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        each = [count // clients] * clients

        def client(n: int) -> None:
            for _ in range(n):
                assert post(port, body) == 200

        threads = [threading.Thread(target=client, args=(n,)) for n in each]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return {"per_s": sum(each) / elapsed, "count": sum(each)}


def post(port: int, body: bytes) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/octet-stream"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def measure(documents: int, pdf_bytes: int, root: Path, *, web_workers: int, huey_workers: int,
            algorithm: str) -> dict:
    from tests.federation.instances import Instance, describe, link

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    county, city = (Instance(role, root, algorithm=algorithm) for role in ("county", "city"))
    try:
        for instance in (county, city):
            instance.manage("migrate", "--noinput")
            instance.manage("load_default_flows")
        county.node("setup", "county")
        city_unit = city.node("setup", "city")["unit"]
        link(county, city, describe(city))
        link(city, county, describe(county))
        for instance in (county, city):
            instance.start_web(web_workers)
        city.start_worker(huey_workers)
        print(f"核发 of {documents} documents …", file=sys.stderr)
        started = time.perf_counter()
        written = county.node("send", city_unit, TITLE, str(documents), "--pdf-bytes", str(pdf_bytes),
                              timeout=3600)
        write_s = time.perf_counter() - started
        counter = Counter(county)
        try:
            assert counter.count("out", "document", "pending") == documents
            load = os.getloadavg()[0]
            print("draining …", file=sys.stderr)
            county.start_worker(huey_workers)
            t0 = time.time()
            roles = {"sender web": county.web.pid, "sender worker": county.worker.pid,
                     "receiver web": city.web.pid, "receiver worker": city.worker.pid}
            trees = {role: process_tree(pid) for role, pid in roles.items()}
            cpu_before = {role: cpu_seconds(pids) for role, pids in trees.items()}
            t_sent = wait(lambda: counter.count("out", "document", "sent") == documents, timeout=1800)
            t_receipts = wait(lambda: counter.delivered() == documents, timeout=600)
            cpu_ms = {role: (cpu_seconds(pids) - cpu_before[role]) * 1000 / documents for role, pids in trees.items()}
            left = {s: counter.count("out", "document", s) for s in ("pending", "dead")}
        finally:
            counter.close()
        timing = county.node("timing", TITLE)
        there = city.node("summary", TITLE)
    finally:
        for instance in (county, city):
            instance.stop()
    assert there["deliveries"] == there["documents"] == documents, there
    assert not any(left.values()), left
    first_done, last_done = at(timing["out"]["first_done"]), at(timing["out"]["last"])
    return {"documents": documents, "pdf": written["pdf_bytes"], "envelope": timing["out"]["bytes"] / documents,
            "write_s": write_s, "drain_s": t_sent - t0, "sustained_s": last_done - first_done,
            "receipts_s": t_receipts - t0, "load": load, "received": there, "db": database(county),
            "web_workers": web_workers, "huey_workers": huey_workers, "cpu_ms": cpu_ms}


def database(instance) -> str:
    url = instance.env.get("DATABASE_URL", "")
    if not url:
        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]


def render(r: dict, crypto: dict, sink_floor: dict, algorithm: str) -> str:
    import gunicorn
    import huey

    n = r["documents"]
    rate, sustained = n / r["drain_s"], (n - 1) / r["sustained_s"]
    met, met_sustained = ("met" if x >= TARGET else "**not met**" for x in (rate, sustained))
    mb = r["pdf"] / 1e6
    return "\n".join([
        "### 公文交换 between instances (issue #5 §2): `bench/federation_bench.py`"
        + (" — 国密 mode (`--algorithm sm2`)" if algorithm == "sm2" else ""),
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC on {os.cpu_count()} CPU, load average "
        f"{r['load']:.1f} when the drain started; Python {platform.python_version()}, {r['db']} (one database per "
        f"instance), gunicorn {gunicorn.__version__} ({r['web_workers']} sync workers per instance), Huey "
        f"{huey.__version__} ({r['huey_workers']} worker threads per instance, so as many drains post at once). Both "
        "instances — web workers, Huey workers, the databases — and the floors share the same CPUs.",
        "",
        f"Data: {n:,} sealed 通知 from the county's office to the city's office, each a {mb:.2f} MB PDF (the rendered "
        f"GB/T 9704 通知 with an embedded incompressible attachment), envelope {r['envelope'] / 1e6:.2f} MB; "
        + ("SM2 signatures with SM3 (envelope and transport; SM2 certificates), SM3 of every file and of each "
           "request body (SHA-256 of the body as well, which the receiver keeps)." if algorithm == "sm2" else
           f"{ {'ecdsa-p256': 'ECDSA P-256', 'ed25519': 'Ed25519'}[algorithm]} signatures (envelope and transport), "
           "SHA-256 of every file."),
        "",
        "| measurement | figure | floor (same run) | target |",
        "| --- | --- | --- | --- |",
        f"| {n:,} envelopes from the outbox to accepted by the receiver (every outbox row \"sent\": transport "
        f"signature, envelope signature and file hash checked, stored, mirrored with its delivery, 送达 receipt "
        f"written), from the worker's start | {r['drain_s']:.1f} s = **{rate:.1f} envelopes/s** "
        f"({rate * r['envelope'] / 1e6:.1f} MB/s) | 1 MB POSTs from 2 client threads to a gunicorn with 2 sync "
        f"workers that only reads the body: {sink_floor['per_s']:.1f}/s ({sink_floor['count']} requests) | "
        f"≥ {TARGET:.0f} envelopes/s ({met}) |",
        f"| … sustained, first to last acceptance (done_at) | **{sustained:.1f} envelopes/s** | seal + transport "
        f"sign + transport verify + open (signature, hash) of one envelope in process: "
        f"{crypto['median_ms']:.1f} ms median = {1000 / crypto['median_ms']:.0f}/s on one core | "
        f"≥ {TARGET:.0f} envelopes/s sustained ({met_sustained}) |",
        f"| every 送达 receipt applied at the sender (the city's worker seals queued receipts in batches) | "
        f"{r['receipts_s']:.1f} s after the worker's start | | |",
        f"| writing the outbox: {n:,} 核发 (`record_dispatch`, envelope sealed and written in its transaction; "
        f"the PDF rendered once) | {r['write_s']:.1f} s = {n / r['write_s']:.1f}/s (process wall time) | | |",
        "",
        "Where the time goes (CPU per envelope during the drain, from /proc, each role's processes; a PostgreSQL server's own processes are not included): "
        + ", ".join(f"{role} {ms:.1f} ms" for role, ms in r["cpu_ms"].items())
        + f" — {sum(r['cpu_ms'].values()):.0f} ms of CPU per envelope in all, so {os.cpu_count()} CPUs shared by "
        f"both instances allow at most {os.cpu_count() * 1000 / sum(r['cpu_ms'].values()):.0f} envelopes/s. Of "
        f"that, signatures and hashes are {crypto['median_ms']:.1f} ms and HTTP {2000 / sink_floor['per_s']:.1f} ms "
        "(the floors); the rest is the application's work per document: at the receiver the transaction that "
        "stores the envelope, mirrors the document (its search entry, the delivery, the audit record) and queues "
        "the 送达 receipt; at the sender the outbox bookkeeping and applying the receipts that come back in "
        "batches. Each instance on a server of its own would have the CPUs to itself: "
        f"the receiver's share alone ({r['cpu_ms']['receiver web'] + r['cpu_ms']['receiver worker']:.0f} ms) "
        f"would allow about {os.cpu_count() * 1000 / (r['cpu_ms']['receiver web'] + r['cpu_ms']['receiver worker']):.0f}"
        " envelopes/s on the same CPUs — an estimate from the measured CPU, not a measurement.",
        "",
        f"Checked: the receiver holds {r['received']['deliveries']:,} deliveries of {r['received']['documents']:,} "
        "distinct documents, no envelope pending or dead. The receiver's web workers do the most work per envelope "
        "(two signature checks, SHA-256 of the body and of each file, the PDF and the envelope's head written to "
        "disk before the transaction, then the mirror document, its search entry, the delivery, the audit record "
        "and the 送达 receipt queued — the worker seals queued receipts in batches); the sender reads, signs and "
        "posts. The first figure counts from the worker's start (its first claim and connection included); the "
        "target is read on both. "
        + ("国密 mode: both instances' identities are SM2 (tongsuopy, the `gm` extra; `federation.identity`)."
           if algorithm == "sm2" else "国密 mode is measured with `--algorithm sm2` (its own block below)."),
    ])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--pdf-bytes", type=int, default=1024 * 1024)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--huey-workers", type=int, default=2, help="Huey worker threads per instance")
    parser.add_argument("--algorithm", default="ecdsa-p256", choices=("ecdsa-p256", "ed25519", "sm2"),
                        help="both instances' exchange identity; sm2 = 国密 mode (own block in PERFORMANCE.md)")
    args = parser.parse_args()
    root = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/zt-fedbench"))
    crypto = crypto_floor(args.pdf_bytes, 50, args.algorithm)
    sink_floor = http_floor(args.pdf_bytes, 400, 2)
    result = measure(args.documents, args.pdf_bytes, root, web_workers=args.web_workers,
                     huey_workers=args.huey_workers, algorithm=args.algorithm)
    text = render(result, crypto, sink_floor, args.algorithm)
    print(text)
    if not args.no_write:
        from exchange_bench import write  # the same block writer, under the "federation" markers

        write(text, "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite",
              "federation-gm" if args.algorithm == "sm2" else "federation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
