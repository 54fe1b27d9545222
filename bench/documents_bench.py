"""Issue #4 §8 benchmarks: GB/T 9704 rendering, 用印 and verification, and full-text search.

    .venv/bin/python bench/documents_bench.py [--only pdf,seal,search] [--search-rows N] [--no-write]
    DATABASE_URL=postgres://… (search on PostgreSQL; a scratch database <name>_docbench is created and dropped)

Each figure comes with a floor measured in the same run:
- render a 3-page 通知 (documents.pdf.render, fonts subset and embedded) — floor: ReportLab drawing the same glyphs
  line by line with no layout (what any PDF of this text costs);
- 用印 (seals.services.seal_pdf: PAdES B-T, visible seal, timestamp) and verification (seals.services.verify_pdf) —
  floors: one ECDSA P-256 signature over a SHA-256 digest, and SHA-256 of the file;
- search (core.search.search with the user's readable set applied in SQL) over N synthetic 公文 — floor: the same
  number of rows fetched by primary key. Recall over 200 queries whose answers are known by substring match on the
  raw text of the documents the user may read.

The synthetic corpus is composed from banks of subjects, kinds and sentences of government prose; each phrase is
segmented by jieba once and a document's tokens are the concatenation of its phrases' tokens (what index() would store,
without re-segmenting a million bodies). Rows go in with COPY / executemany; the searching is the product's code.
Results replace the "公文" block in docs/PERFORMANCE.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
DOC = REPO / "docs" / "PERFORMANCE.md"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def timed(fn, runs):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t))
    return out


def row(name, values, floor, target=""):
    return (f"| {name} | {statistics.median(values):.1f} | {pct(values, 95):.1f} | {statistics.median(floor):.2f} | "
            f"{target} |")


# --- setup --------------------------------------------------------------------------------------------------------

def setup_django(database_url: str | None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengtong.settings.test")
    os.environ["DATA_DIR"] = os.environ.get("BENCH_DATA_DIR", "/tmp/zt-docbench")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.db import connection

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    return connection, name, settings


# --- PDF ----------------------------------------------------------------------------------------------------------

def bench_pdf(runs: int) -> list[str]:
    from zhengtong.documents.pdf import render
    from zhengtong.documents.pdf.layout import BLOCK_H, LEFT, LINE_PITCH, PAGE_H, PAGE_W, TOP
    from zhengtong.documents.tests.pdf_samples import notice

    doc = notice(pages=3)
    result = render(doc)  # fonts registered; warm
    text = [b.text for b in doc.body]

    def floor():
        import io

        from reportlab.pdfgen import canvas

        c = canvas.Canvas(io.BytesIO(), pagesize=(PAGE_W, PAGE_H), initialFontName="fang")
        c.setFont("fang", 16)
        y, page = PAGE_H - TOP, 0
        for paragraph in text:
            for k in range(0, len(paragraph), 28):
                c.drawString(LEFT, y, paragraph[k:k + 28])
                y -= LINE_PITCH
                if y < PAGE_H - TOP - BLOCK_H:
                    c.showPage()
                    c.setFont("fang", 16)
                    y, page = PAGE_H - TOP, page + 1
        c.save()

    values = timed(lambda: render(doc), runs)
    floors = timed(floor, runs)
    return [row(f"排版一件 {result.pages} 页通知为 GB/T 9704 PDF（{len(result.pdf) // 1024} KB，字体子集嵌入）", values,
                floors, "p95 ≤ 500 ms")]


# --- seals --------------------------------------------------------------------------------------------------------

def bench_seal(runs: int) -> list[str]:
    import hashlib

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from zhengtong.accounts.models import AdminRole, AdminRoleGrant
    from zhengtong.accounts.tests.factories import UserFactory
    from zhengtong.documents.pdf import render
    from zhengtong.documents.tests.pdf_samples import notice
    from zhengtong.org.models import Duty
    from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, builtin_duties, duty
    from zhengtong.seals import services

    builtin_duties()
    secadmin = UserFactory()
    AdminRoleGrant.objects.create(user=secadmin, role=AdminRole.SECURITY)
    unit = UnitFactory()
    clerk = IdentityFactory(unit=unit, duty=duty(Duty.DOC_CLERK))
    admin = IdentityFactory(unit=unit, duty=duty(Duty.UNIT_ADMIN))
    seal = services.create_seal(secadmin, unit)
    services.set_seal_holders(admin.person.user, seal, [clerk.pk])
    result = render(notice(pages=3, signature=[unit.name]))
    box = result.seal_boxes[0]
    user = clerk.person.user

    def do_seal():
        return services.seal_pdf(user, seal, result.pdf, page=box.page, box=box.box, reason="bench", reference="b")

    sealed = do_seal()
    assert services.verify_pdf(sealed).valid
    seal_ms = timed(do_seal, runs)
    verify_ms = timed(lambda: services.verify_pdf(sealed), runs)
    key = ec.generate_private_key(ec.SECP256R1())
    sign_floor = timed(lambda: key.sign(hashlib.sha256(result.pdf).digest(), ec.ECDSA(hashes.SHA256())), runs)
    hash_floor = timed(lambda: hashlib.sha256(sealed).digest(), runs)
    return [row(f"用印（PAdES B-T + 可见印章 + 时间戳，{result.pages} 页，{len(sealed) // 1024} KB）", seal_ms, sign_floor,
                "p95 ≤ 200 ms"),
            row("验证用印文件（签名、证书链与吊销列表、时间戳、摘要登记）", verify_ms, hash_floor, "p95 ≤ 100 ms")]


# --- search -------------------------------------------------------------------------------------------------------

UNITS = ["示范市教育局", "示范市公安局", "示范市财政局", "示范市人民政府办公室", "示范市卫生健康委员会", "示范市交通运输局",
         "示范市生态环境局", "示范市住房和城乡建设局", "示范市农业农村局", "示范市应急管理局", "青川县人民政府", "临溪县人民政府"]
SUBJECTS = ["做好冬季安全生产工作", "开展森林防灭火专项检查", "加强校园安全管理", "推进政务服务一网通办", "做好防汛抗旱准备",
            "开展营商环境专项评估", "加强食品安全监管", "做好春节期间值班值守", "推进老旧小区改造", "开展全民国防教育",
            "加强道路交通安全管理", "做好高校毕业生就业", "推进农村人居环境整治", "开展安全生产大检查", "加强耕地保护",
            "做好疫苗接种工作", "推进数字政府建设", "开展扫黑除恶专项斗争", "加强生态环境保护", "做好城市燃气安全排查",
            "规范行政执法行为", "推进乡村振兴", "做好退役军人服务保障", "加强预算绩效管理", "开展节能宣传周活动"]
KINDS = ["通知", "意见", "报告", "请示", "函", "通报", "决定", "纪要"]
SENTENCES = [
    "各单位要切实提高思想认识，加强组织领导，明确责任分工。", "要坚持问题导向，聚焦重点领域和关键环节，扎实推进各项工作。",
    "各县区人民政府要履行属地管理责任，加强统筹协调。", "要建立健全工作台账，实行清单化管理、项目化推进。",
    "严格落实领导带班和24小时值班制度，确保信息畅通。", "加强对重点行业、重点企业的监督检查，及时消除安全隐患。",
    "要充分利用电视、报纸和新媒体平台，广泛开展宣传教育。", "对工作不力、推诿扯皮的单位和个人，依规依纪严肃追责问责。",
    "请于每月5日前将工作进展情况报送市政府办公室。", "各有关部门要密切配合，形成工作合力，确保取得实效。",
    "推动数据共享和业务协同，提高行政效能和服务水平。", "加大财政资金保障力度，规范资金使用管理，提高使用效益。",
    "深入开展调查研究，认真总结经验做法，及时推广典型案例。", "建立健全长效机制，巩固和扩大工作成果。",
    "切实保障人民群众生命财产安全，维护社会大局和谐稳定。", "坚持以人民为中心的发展思想，不断增强群众获得感。",
    "认真贯彻落实上级决策部署，结合本地实际制定实施方案。", "强化督查考核，将工作落实情况纳入年度绩效考核。",
    "加快推进项目建设，确保按期完成年度目标任务。", "做好应急物资储备，完善应急预案，开展应急演练。",
]
QUERY_WORDS = ["安全生产", "森林防灭火", "校园安全", "一网通办", "防汛抗旱", "营商环境", "食品安全", "值班值守", "老旧小区",
               "国防教育", "道路交通", "毕业生就业", "人居环境", "耕地保护", "疫苗接种", "数字政府", "生态环境", "燃气安全",
               "行政执法", "乡村振兴", "退役军人", "预算绩效", "节能宣传", "应急演练", "绩效考核", "数据共享", "财政资金",
               "典型案例", "长效机制", "获得感", "实施方案", "应急物资", "隐患", "追责问责", "新媒体", "工作台账", "属地管理",
               "督查考核", "项目建设", "调查研究"]


class Corpus:
    def __init__(self, seed: int = 4):
        from zhengtong.core import search

        self.rng = random.Random(seed)
        self.tok = {}
        for phrase in UNITS + SUBJECTS + KINDS + SENTENCES + ["关于", "的"]:
            self.tok[phrase] = " ".join(search.tokens(phrase))

    def doc(self, pk: int):
        rng = self.rng
        unit, subject, kind = rng.randrange(len(UNITS)), rng.choice(SUBJECTS), rng.choice(KINDS)
        sentences = [rng.choice(SENTENCES) for _ in range(rng.randint(3, 8))]
        title = f"{UNITS[unit]}关于{subject}的{kind}"
        body = "".join(sentences)
        year, seq = 2020 + pk % 7, 1 + pk % 997
        number = f"示{unit}发〔{year}〕{seq}号"
        title_tokens = " ".join([self.tok[UNITS[unit]], self.tok["关于"], self.tok[subject], self.tok["的"], self.tok[kind]])
        body_tokens = " ".join(self.tok[s] for s in sentences)
        number_tokens = f"示 {unit} 发 {year} {seq} 号"
        return (pk, unit, title, number, body, title_tokens, number_tokens, body_tokens)


def load_corpus(connection, rows: int, corpus: Corpus) -> float:
    started = time.perf_counter()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    batch = 20_000
    with connection.cursor() as cursor:
        for start in range(1, rows + 1, batch):
            docs = [corpus.doc(pk) for pk in range(start, min(rows + 1, start + batch))]
            values = [("document", pk, unit, title, number, body, tt, nt, bt, "", now - dt.timedelta(minutes=pk))
                      for pk, unit, title, number, body, tt, nt, bt in docs]
            columns = ("kind, object_id, unit_id, title, number, snippet_source, title_tokens, number_tokens, "
                       "body_tokens, attachment_tokens, created_at")
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY core_searchentry ({columns}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            else:
                cursor.executemany(f"INSERT INTO core_searchentry ({columns}) VALUES ({', '.join(['%s'] * 11)})",
                                   values)
        if connection.vendor == "sqlite":
            cursor.execute("INSERT INTO core_search_fts (rowid, title, number, body, attachments) "
                           "SELECT id, title_tokens, number_tokens, body_tokens, attachment_tokens FROM core_searchentry")
        else:
            cursor.execute("ANALYZE core_searchentry")
    connection.commit() if not connection.get_autocommit() else None
    return time.perf_counter() - started


def bench_search(connection, rows: int, queries: int = 200) -> list[str]:
    from zhengtong.core import search
    from zhengtong.core.models import SearchEntry

    corpus = Corpus()
    load_seconds = load_corpus(connection, rows, corpus)
    readable_unit = 0
    allowed = SearchEntry.objects.filter(kind="document", unit_id=readable_unit).values("object_id")
    # ground truth on the readable set, by substring on the raw text
    readable = list(SearchEntry.objects.filter(kind="document", unit_id=readable_unit)
                    .values_list("object_id", "title", "number", "snippet_source"))
    rng = random.Random(11)
    words = [rng.choice(QUERY_WORDS) for _ in range(queries)]
    recalls, latencies, open_latencies = [], [], []
    for word in words:
        truth = {pk for pk, title, number, body in readable if word in title or word in number or word in body}
        found: set[int] = set()
        offset = 0
        t = time.perf_counter()
        page = search.search(word, kinds=["document"], allowed=allowed, limit=20)
        latencies.append(1000 * (time.perf_counter() - t))
        found.update(h.object_id for h in page.hits)
        while len(page.hits) == 20 and offset < 5000:
            offset += 100
            page = search.search(word, kinds=["document"], allowed=allowed, limit=100, offset=offset - 80)
            found.update(h.object_id for h in page.hits)
        if truth:
            recalls.append(len(found & truth) / len(truth))
    for word in words[:50]:
        t = time.perf_counter()
        search.search(word, kinds=["document"], limit=20)
        open_latencies.append(1000 * (time.perf_counter() - t))
    ids = [rng.randrange(1, rows) for _ in range(20)]

    def floor():
        list(SearchEntry.objects.filter(kind="document", object_id__in=ids).values_list("pk", "title"))

    floors = timed(floor, 100)
    backend = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    recall = statistics.mean(recalls) if recalls else 0.0
    return [
        row(f"全文检索 {rows:,} 件（{backend}，限本人可阅 {len(readable):,} 件，每页 20）", latencies, floors,
            "p95 ≤ 100 ms" if backend == "PostgreSQL" else ""),
        row(f"全文检索 {rows:,} 件（{backend}，不限范围）", open_latencies, floors, ""),
        f"| 查全率（{len(recalls)} 个有答案的检索词，答案按原文子串确定） | {recall:.3f} | min {min(recalls):.3f} | — | "
        f"≥ 0.95 |",
        f"| 语料装载（{rows:,} 行，COPY/批量插入 + 建索引） | {load_seconds:.0f} s | | | |",
    ]


def write(lines: list[str], backend: str) -> None:
    key = "postgresql" if backend == "PostgreSQL" else "sqlite"
    BEGIN, END = f"<!-- documents-{key}:begin -->", f"<!-- documents-{key}:end -->"  # noqa: N806
    text = DOC.read_text()
    block = "\n".join([BEGIN, "", f"### 公文（{backend}，{dt.date.today().isoformat()}，{os.cpu_count()} CPU）", "",
                       "| 测量 | p50 ms | p95 ms | 同轮基线 ms | 目标 |", "| --- | --- | --- | --- | --- |",
                       *lines, "", END])
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="issue #4 benchmarks")
    parser.add_argument("--only", default="pdf,seal,search")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--search-rows", type=int, default=0, help="default: 1,000,000 on PostgreSQL, 100,000 SQLite")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if url:
        url = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1].split("?")[0] + "_docbench"
    connection, name, _settings = setup_django(url or None)
    only = set(args.only.split(","))
    lines = []
    try:
        if "pdf" in only:
            lines += bench_pdf(args.runs)
            print(lines[-1], flush=True)
        if "seal" in only:
            lines += bench_seal(max(30, args.runs // 2))
            print("\n".join(lines[-2:]), flush=True)
        if "search" in only:
            rows = args.search_rows or (1_000_000 if connection.vendor == "postgresql" else 100_000)
            lines += bench_search(connection, rows)
            print("\n".join(lines[-4:]), flush=True)
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)
    backend = "PostgreSQL" if url else "SQLite"
    if not args.no_write:
        write(lines, backend)
    return 0


if __name__ == "__main__":
    sys.exit(main())
