"""Full-text search benchmark (issue #4 §8): `zhengtong.core.search` over a synthetic corpus of 公文 —
1,000,000 documents on PostgreSQL, 100,000 on SQLite — with a realistic readable set, 200 queries whose answers
are known by substring match, recall and server-side latency, each with a floor measured in the same run.

    .venv/bin/python bench/search_bench.py --backend postgresql [--size 1000000] [--workers 2] [--no-write]
    .venv/bin/python bench/search_bench.py --backend sqlite [--size 100000]

Standalone (not part of `make bench`): PostgreSQL uses the scratch database `zt_searchbench` on
postgres://postgres@127.0.0.1:5432 (SEARCH_BENCH_PG to change it; dropped and recreated), SQLite a fresh file
under /tmp. Results replace the `search` block of docs/PERFORMANCE.md (per backend).

The corpus (document(i) below) is a pure function of i: titles = issuing body + 关于 + subject + kind, numbers
机关代字〔year〕n号, bodies of 300–1,500 characters from a bank of government prose, 375 units, and each document
sent to 0–4 other units. The readable set of a user is what `documents.selectors.readable_ids` has in shape: the
documents of the user's unit plus those received by it (a `bench_access` table), given to search() as a QuerySet,
with the user's reader keys (documents.selectors.caller_reader_keys) beside it.

Loading: worker processes build the documents and segment them with core.search's own `entry_fields` (jieba
cut_for_search). jieba cuts each run of Han characters/digits between punctuation independently, so the workers
memoise segmentation per run — the tokens are identical to segmenting the whole text (checked on a sample every
run) and the real per-document cost of `index()` is measured separately on a sample. PostgreSQL rows go in by
COPY (the generated tsvector is computed by the server on insert) with the GIN index built afterwards; SQLite by
executemany into the entry table and the FTS5 table.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SQLITE_DIR = "/tmp/zt-searchbench-sqlite"

# --- the corpus ----------------------------------------------------------------------------------------------


SEED = 20261127
UNITS = 375  # the demo city's size (MISSION.md)
ISSUERS = [
    ("示范市人民政府", "示政发"), ("示范市人民政府办公室", "示政办发"), ("示范市教育局", "示教发"),
    ("示范市财政局", "示财发"), ("示范市应急管理局", "示应急发"), ("示范市生态环境局", "示环发"),
    ("示范市农业农村局", "示农发"), ("示范市卫生健康委员会", "示卫健发"), ("示范市自然资源和规划局", "示自然资发"),
    ("示范市住房和城乡建设局", "示建发"), ("示范市交通运输局", "示交发"), ("示范市公安局", "示公发"),
    ("示范市民政局", "示民发"), ("示范市人力资源和社会保障局", "示人社发"), ("示范市市场监督管理局", "示市监发"),
    ("示范市水利局", "示水发"), ("示范市林业局", "示林发"), ("示范市商务局", "示商发"),
    ("示范市文化广电新闻出版旅游局", "示文旅发"), ("示范市审计局", "示审发"), ("示范市统计局", "示统发"),
    ("示范市司法局", "示司发"), ("示范市发展和改革委员会", "示发改发"), ("示范市工业和信息化局", "示工信发"),
    ("示范市科学技术局", "示科发"), ("示范市退役军人事务局", "示退役军人发"), ("示范市医疗保障局", "示医保发"),
    ("示范市城市管理局", "示城管发"), ("示范市数据局", "示数据发"), ("示范市信访局", "示信访发"),
    ("东湖区人民政府", "东府发"), ("西山区人民政府", "西府发"), ("南岭县人民政府", "南府发"),
    ("北河县人民政府办公室", "北府办发"), ("青石镇人民政府", "青府发"),
]
SUBJECTS = [
    "冬季安全生产", "森林防灭火", "防汛抗旱", "安全生产大检查", "城镇燃气安全排查整治", "优化营商环境",
    "政务服务一网通办", "乡村振兴", "高标准农田建设", "耕地保护", "食品安全", "药品安全监管", "校园安全",
    "学生资助", "义务教育优质均衡发展", "职业教育产教融合", "医疗保障", "城乡居民基本养老保险", "就业创业",
    "保障农民工工资支付", "生态环境保护", "大气污染防治", "河长制湖长制", "生活垃圾分类", "城市更新",
    "老旧小区改造", "保障性住房建设", "消防安全", "道路交通安全", "地质灾害防治", "政务公开", "数字政府建设",
    "数据安全", "网络安全", "信访工作", "矛盾纠纷排查化解", "常态化扫黑除恶", "禁毒", "统计执法检查",
    "审计发现问题整改", "财政预算管理", "政府采购", "国有资产管理", "招商引资", "重点项目建设", "科技创新",
    "专精特新中小企业培育", "全国文明城市创建", "全民健身", "文化和旅游消费", "疫苗接种", "爱国卫生运动",
    "重大活动安全保障", "节能降碳", "粮食安全", "非洲猪瘟防控", "秸秆禁烧", "退役军人服务保障", "双拥",
    "经济普查", "法治政府建设", "公文处理", "保密工作", "档案管理", "政务值班", "突发事件应急预案",
    "城乡低保", "残疾人两项补贴", "未成年人保护", "妇女儿童发展规划", "民营经济发展", "中小企业纾困",
    "减税降费", "高层次人才引进", "住房公积金", "春运", "元旦春节期间", "汛期", "高温天气防范", "冬春火灾防控",
    "危险化学品安全", "自建房安全专项整治", "电动自行车安全隐患整治", "农村饮水安全", "水土保持",
    "森林资源保护", "野生动物保护", "商品房预售资金监管", "物业服务管理", "农村人居环境整治", "农产品质量安全",
]
KINDS = ["通知", "通报", "意见", "决定", "批复", "函", "报告", "请示", "纪要"]
TITLES = {
    "通知": ["关于做好{year}年{subject}工作的通知", "关于印发《示范市{subject}实施方案》的通知",
           "关于开展{subject}专项检查的通知", "关于进一步做好{subject}工作的紧急通知",
           "关于召开{year}年{subject}工作会议的通知"],
    "通报": ["关于{year}年{subject}工作情况的通报", "关于{subject}督查发现问题的通报"],
    "意见": ["关于加强{subject}工作的实施意见", "关于推进{subject}高质量发展的意见"],
    "决定": ["关于表彰{year}年度{subject}先进集体和先进个人的决定"],
    "批复": ["关于{subject}有关事项的批复"],
    "函": ["关于商请支持{subject}工作的函", "关于征求《{subject}管理办法（征求意见稿）》意见的函"],
    "报告": ["关于{year}年{subject}工作情况的报告"],
    "请示": ["关于申请{subject}专项资金的请示"],
    "纪要": ["{subject}工作专题会议纪要"],
}
OPENINGS = [
    "为深入贯彻落实党中央、国务院和省委、省政府关于{subject}的决策部署，切实做好{year}年{subject}工作，经{issuer}同意，现就有关事项通知如下。",
    "根据上级有关文件精神，结合我市实际，{issuer}制定了{subject}工作方案，现印发给你们，请认真抓好贯彻落实。",
    "近期，{subject}工作面临新的形势和任务，为确保各项措施落到实处，现将有关要求明确如下。",
    "按照市委、市政府工作安排，{year}年以来，我市{subject}工作稳步推进，取得了阶段性成效，现将有关情况报告如下。",
]
HEADINGS = ["一、提高思想认识", "二、压实工作责任", "三、突出工作重点", "四、强化督促检查", "五、加强组织保障",
            "六、做好信息报送"]
SENTENCES = [
    "各地各部门要切实提高政治站位，充分认识做好{subject}工作的重要性和紧迫性。",
    "坚持人民至上、生命至上，统筹发展和安全，压紧压实属地管理责任、部门监管责任和企业主体责任。",
    "要全面排查整治各类风险隐患，建立问题清单、责任清单和整改清单，实行闭环管理。",
    "对排查发现的问题，要明确整改责任人、整改措施和整改时限，确保按期整改到位。",
    "各县区人民政府要加强组织领导，主要负责同志亲自研究部署，分管负责同志具体抓好落实。",
    "市直有关部门要按照职责分工，密切协作配合，形成工作合力，共同推进{subject}工作。",
    "要加强宣传引导，充分利用报刊、广播电视和新媒体平台，营造全社会共同参与的良好氛围。",
    "严格落实24小时值班值守和领导带班制度，确保信息畅通、反应迅速、处置得当。",
    "对工作不力、推诿扯皮、造成严重后果的，依规依纪依法严肃追究相关人员责任。",
    "要强化资金保障，统筹用好中央、省级补助资金和本级财政预算资金，提高资金使用效益。",
    "各单位要于每月5日前将上月{subject}工作进展情况报送市{office}，遇有重大情况随时报告。",
    "要坚持问题导向和目标导向，聚焦薄弱环节，精准施策，推动{subject}工作提质增效。",
    "加快推进数字化转型，依托一体化政务服务平台，推动数据共享和业务协同。",
    "健全完善长效机制，推动{subject}工作制度化、规范化、常态化。",
    "市{office}将会同有关部门适时开展督导检查，督查结果纳入年度综合考核。",
    "要认真总结经验做法，及时发现和推广典型案例，以点带面推动面上工作。",
    "严格执行中央八项规定及其实施细则精神，力戒形式主义、官僚主义，切实减轻基层负担。",
    "{year}年，全市共投入资金{money}万元，完成年度目标任务的{percent}%，同比增长{growth}个百分点。",
    "截至{month}月底，全市累计排查各类场所{count}处，发现问题隐患{issues}项，已整改{fixed}项。",
    "要把{subject}与{other}结合起来，统筹谋划，一体推进，确保取得实效。",
    "加强与{other}相关部门的沟通衔接，建立会商研判机制，及时解决工作推进中的困难和问题。",
    "各地要结合实际，制定具体实施方案，细化工作措施，明确时间节点，确保各项任务落地见效。",
    "要加强队伍建设，开展业务培训，提升基层工作人员依法履职能力和服务水平。",
    "对群众反映强烈的突出问题，要主动回应社会关切，依法依规及时妥善处理。",
    "请各单位高度重视，认真组织实施，确保{subject}各项工作任务按时保质完成。",
    "联系人：{person}，联系电话：0790-{phone}，电子邮箱：{email}@shifan.gov.cn。",
    "本{kind}自印发之日起施行，由{issuer}负责解释。",
]
OFFICES = ["应急管理局", "政府办公室", "发展和改革委员会", "财政局", "教育局", "农业农村局", "生态环境局",
           "住房和城乡建设局", "市场监督管理局", "政务服务管理局"]
PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐强", "孙丽"]
START = datetime(2019, 1, 1, tzinfo=UTC)


def document(i: int) -> dict:
    """Document i (1-based): unit, title, number, body, created_at, recipients (other units that received it)."""
    rnd = random.Random(SEED * 1_000_003 + i)
    unit = 1 + rnd.randrange(UNITS)
    issuer, code = ISSUERS[unit % len(ISSUERS)]
    subject = rnd.choice(SUBJECTS)
    kind = rnd.choice(KINDS)
    created = START + timedelta(seconds=rnd.randrange(8 * 365 * 86400))
    year = created.year
    title = issuer + rnd.choice(TITLES[kind]).format(year=year, subject=subject)
    number = f"{code}〔{year}〕{1 + rnd.randrange(300)}号"
    values = dict(subject=subject, year=year, issuer=issuer, kind=kind)
    target = rnd.randint(300, 1500)
    parts = [rnd.choice(OPENINGS).format(**values)]
    length = len(parts[0])
    headings = iter(HEADINGS)
    while length < target:
        if rnd.random() < 0.18:
            heading = next(headings, None)
            if heading:
                parts.append("\n" + heading + "\n")
        sentence = rnd.choice(SENTENCES).format(
            **values, other=rnd.choice(SUBJECTS), office=rnd.choice(OFFICES), money=rnd.randint(100, 90000),
            percent=rnd.randint(60, 130), growth=rnd.randint(1, 30), month=rnd.randint(1, 12),
            count=rnd.randint(100, 20000), issues=rnd.randint(10, 3000), fixed=rnd.randint(5, 2000),
            person=rnd.choice(PEOPLE), phone=rnd.randint(1000000, 9999999), email=f"zt{rnd.randint(100, 999)}")
        parts.append(sentence)
        length += len(sentence)
    body = "".join(parts)[:1500]
    recipients = sorted({1 + rnd.randrange(UNITS) for _ in range(rnd.randint(0, 4))} - {unit})
    return {"id": i, "unit_id": unit, "title": title, "number": number, "body": body, "created_at": created,
            "recipients": recipients, "code": code, "subject": subject}


# --- segmentation in the workers ------------------------------------------------------------------------------
RUN = None  # jieba's block pattern, set in the worker
_memo: dict[str, str] = {}


def _fast_joined(text: str) -> str:
    """search._joined(text), memoised per run of Han characters/digits (jieba cuts those independently)."""
    from zhengtong.core import search

    out = []
    for piece in RUN.split(text or ""):
        if not piece or not RUN.fullmatch(piece):
            continue
        joined = _memo.get(piece)
        if joined is None:
            if len(_memo) > 400_000:
                _memo.clear()
            joined = _memo[piece] = search._joined(piece)
        if joined:
            out.append(joined)
    return " ".join(out)


def _worker_init() -> None:
    global RUN
    import jieba

    from zhengtong.core import search

    search._jieba()
    RUN = jieba.re_han_default


STAFF = 20  # identities per unit taking part in flows (drafter, reviewers, signers…)


def reader_keys(d: dict) -> list[str]:
    """The keys documents.search.reader_keys gives a document: "c<unit>" for the owning and the receiving units'
    收发员, "i<identity>" for the drafter and 3–6 flow participants of the owning unit."""
    rnd = random.Random(SEED * 7 + d["id"])
    staff = {d["unit_id"] * 100 + rnd.randrange(STAFF) for _ in range(rnd.randint(4, 7))}
    return [f"c{u}" for u in [d["unit_id"], *d["recipients"]]] + [f"i{p}" for p in sorted(staff)]


def user_keys(unit: int) -> list[str]:
    """A unit's 收发员: the clerk key of the unit and the clerk's own identity."""
    return [f"c{unit}", f"i{unit * 100}"]


def _entry_row(i: int) -> tuple:
    from zhengtong.core import search

    d = document(i)
    snippet_source = d["body"][:4000]
    return (i, "document", i, d["unit_id"], d["title"][:300], d["number"], snippet_source, _fast_joined(d["title"]),
            _fast_joined(d["number"]), _fast_joined(d["body"]), "", d["created_at"],
            search.readers_text(reader_keys(d))), d["recipients"]


ENTRY_COLUMNS = ("id", "kind", "object_id", "unit_id", "title", "number", "snippet_source", "title_tokens",
                 "number_tokens", "body_tokens", "attachment_tokens", "created_at", "readers")


def _pg_chunk(args: tuple) -> int:
    """Build documents [lo, hi) and COPY them (entries, bench_doc, bench_access) on this worker's connection."""
    lo, hi, dsn = args
    import psycopg

    rows = [_entry_row(i) for i in range(lo, hi)]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY core_searchentry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy:
            for entry, _ in rows:
                copy.write_row(entry)
        with cur.copy("COPY bench_doc (id, unit_id) FROM STDIN") as copy:
            for entry, _ in rows:
                copy.write_row((entry[0], entry[3]))
        with cur.copy("COPY bench_access (unit_id, doc_id) FROM STDIN") as copy:
            for entry, recipients in rows:
                for unit in recipients:
                    copy.write_row((unit, entry[0]))
    return hi - lo


def _rows_chunk(args: tuple) -> list:
    lo, hi = args
    return [_entry_row(i) for i in range(lo, hi)]


# --- measuring ---------------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def stats_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95), "max": max(ms)}


def log(msg: str) -> None:
    print(f"[search {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def setup_django(backend: str, dsn: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "zhengtong.settings.dev"
    os.environ["DEBUG"] = "false"
    if backend == "postgresql":
        os.environ["DATABASE_URL"] = dsn
        os.environ.setdefault("DATA_DIR", "/tmp/zt-searchbench-pg")
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["DATA_DIR"] = SQLITE_DIR
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()


def fresh_database(backend: str, dsn: str) -> None:
    if backend == "postgresql":
        import psycopg

        admin = dsn.rsplit("/", 1)[0] + "/postgres"
        name = dsn.rsplit("/", 1)[1]
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        shutil.rmtree(SQLITE_DIR, ignore_errors=True)


BENCH_TABLES = [
    "CREATE TABLE bench_doc (id bigint PRIMARY KEY, unit_id integer NOT NULL)",
    "CREATE TABLE bench_access (unit_id integer NOT NULL, doc_id bigint NOT NULL)",
]
BENCH_INDEXES = [
    "CREATE INDEX bench_doc_unit ON bench_doc (unit_id)",
    "CREATE INDEX bench_access_unit ON bench_access (unit_id, doc_id)",
]


def load(backend: str, dsn: str, size: int, workers: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    with connection.cursor() as cur:
        for sql in BENCH_TABLES:
            cur.execute(sql)
        if backend == "postgresql":
            cur.execute("DROP INDEX core_search_match")  # built after the load (as a bulk rebuild would)
    connection.close()
    chunk = 2_000
    spans = [(lo, min(lo + chunk, size + 1)) for lo in range(1, size + 1, chunk)]
    timings = {"migrate_s": migrate_s}
    started = time.perf_counter()
    done = 0
    with multiprocessing.Pool(workers, initializer=_worker_init) as pool:
        if backend == "postgresql":
            for n in pool.imap_unordered(_pg_chunk, [(lo, hi, dsn) for lo, hi in spans]):
                done += n
                if done % 100_000 < chunk:
                    log(f"loaded {done:,} ({time.perf_counter() - started:.0f} s)")
        else:
            for rows in pool.imap(_rows_chunk, spans):
                with connection.cursor() as cur:
                    cur.executemany(f"INSERT INTO core_searchentry ({', '.join(ENTRY_COLUMNS)}) VALUES "
                                    f"({', '.join(['%s'] * len(ENTRY_COLUMNS))})", [r for r, _ in rows])
                    cur.executemany("INSERT INTO core_search_fts (rowid, title, number, body, attachments, readers) "
                                    "VALUES (%s, %s, %s, %s, %s, %s)",
                                    [(r[0], r[7], r[8], r[9], r[10], r[12]) for r, _ in rows])
                    cur.executemany("INSERT INTO bench_doc (id, unit_id) VALUES (%s, %s)", [(r[0], r[3]) for r, _ in rows])
                    cur.executemany("INSERT INTO bench_access (unit_id, doc_id) VALUES (%s, %s)",
                                    [(u, r[0]) for r, rec in rows for u in rec])
                done += len(rows)
                if done % 20_000 < chunk:
                    log(f"loaded {done:,} ({time.perf_counter() - started:.0f} s)")
    timings["rows_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with connection.cursor() as cur:
        if backend == "postgresql":
            cur.execute("SET maintenance_work_mem = '1GB'")
            cur.execute("CREATE INDEX core_search_match ON core_searchentry USING GIN (match)")
            timings["gin_s"] = time.perf_counter() - started
        for sql in BENCH_INDEXES:
            cur.execute(sql)
        if backend == "postgresql":
            cur.execute("SELECT setval(pg_get_serial_sequence('core_searchentry', 'id'), %s)", [size])
            cur.execute("VACUUM ANALYZE core_searchentry" if connection.get_autocommit() else "ANALYZE")
            cur.execute("ANALYZE bench_doc")
            cur.execute("ANALYZE bench_access")
            cur.execute("SELECT pg_total_relation_size('core_searchentry'), pg_relation_size('core_search_match')")
            timings["table_bytes"], timings["gin_bytes"] = cur.fetchone()
        else:
            cur.execute("ANALYZE")
    timings["index_s"] = time.perf_counter() - started
    return timings


def index_path_sample(size: int, n: int = 1_000) -> dict:
    """The real index() (jieba on the whole text, upsert, FTS row) for n documents beyond the corpus, rolled back;
    and the memoised worker segmentation compared with entry_fields on the same documents."""
    from django.db import transaction

    from zhengtong.core import search

    _worker_init()
    docs = [document(size + 1 + k) for k in range(n)]
    mismatches = 0
    for d in docs:
        f = search.entry_fields(title=d["title"], number=d["number"], body=d["body"])
        if (f["title_tokens"], f["number_tokens"], f["body_tokens"]) != (
                _fast_joined(d["title"]), _fast_joined(d["number"]), _fast_joined(d["body"])):
            mismatches += 1
    started = time.perf_counter()
    for d in docs:
        search.entry_fields(title=d["title"], number=d["number"], body=d["body"])
    segment_s = time.perf_counter() - started

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic():
            for d in docs:
                search.index("document", d["id"], unit_id=d["unit_id"], title=d["title"], number=d["number"],
                             body=d["body"], created_at=d["created_at"])
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    chars = sum(len(d["body"]) + len(d["title"]) for d in docs) / n
    return {"n": n, "mismatches": mismatches, "segment_ms": segment_s / n * 1000, "index_ms": elapsed / n * 1000,
            "chars": chars}


def bench_models():
    """Unmanaged stand-ins for Document and its access rows, so `allowed` is a QuerySet as the documents app's."""
    from django.db import models

    class BenchDoc(models.Model):  # noqa: DJ008 - never displayed
        unit_id = models.IntegerField()

        class Meta:
            app_label = "core"
            managed = False
            db_table = "bench_doc"

    class BenchAccess(models.Model):  # noqa: DJ008 - never displayed
        pk = models.CompositePrimaryKey("unit_id", "doc_id")
        unit_id = models.IntegerField()
        doc_id = models.BigIntegerField()

        class Meta:
            app_label = "core"
            managed = False
            db_table = "bench_access"

    return BenchDoc, BenchAccess


PROSE_QUERIES = [
    "风险隐患", "主体责任", "值班值守", "督导检查", "长效机制", "典型案例", "形式主义", "基层负担", "数据共享",
    "资金保障", "业务培训", "领导带班", "闭环管理", "整改清单", "宣传引导", "会商研判", "实施方案", "综合考核",
    "政治站位", "属地管理", "生命至上", "统筹发展和安全", "政务服务平台", "数字化转型", "工作合力", "减轻基层负担",
    "补助资金", "财政预算", "提质增效", "社会关切", "依法履职", "时间节点", "信息畅通", "严肃追究", "以点带面",
    "冬季", "防汛", "消防", "养老", "就业", "审计", "招商", "禁毒", "春运", "汛期", "档案", "保密", "低保", "燃气",
    "耕地", "疫苗", "粮食", "秸秆", "物业", "公积金", "残疾人", "双拥", "表彰", "请示", "批复", "纪要", "通报",
    "专项资金", "征求意见", "先进集体", "工作会议", "专项检查", "高质量发展", "安全生产", "防灭火", "营商环境",
    "一网通办", "乡村振兴", "高标准农田", "食品安全", "校园安全", "学生资助", "垃圾分类", "老旧小区", "城市更新",
    "河长制", "网络安全", "数据安全", "信访", "扫黑除恶", "政府采购", "国有资产", "科技创新", "专精特新",
    "文明城市", "全民健身", "节能降碳", "非洲猪瘟", "法治政府", "应急预案", "未成年人保护", "民营经济", "减税降费",
    "人才引进", "危险化学品", "自建房", "电动自行车", "农村饮水", "水土保持", "野生动物", "预售资金", "人居环境",
    "农产品质量", "应急管理局", "生态环境局", "教育局", "东湖区", "南岭县", "青石镇", "卫生健康", "人力资源",
]
SHORT_QUERIES = ["函", "火", "电", "水", "林", "税", "安全", "环境", "服务", "管理"]


def haystack(d: dict) -> str:
    return d["title"] + "\n" + d["number"] + "\n" + d["body"]


def choose_queries(readable: dict[int, list[dict]], per_unit: int) -> list[tuple[int, str, str, set[int]]]:
    """(unit, category, query, answers) — answers = readable documents whose title, number or body contains q."""
    rnd = random.Random(SEED)
    chosen = []
    for unit, docs in readable.items():
        texts = [(d["id"], haystack(d)) for d in docs]

        def answers(q, texts=texts):
            return {i for i, t in texts if q in t}

        picks = []
        words = PROSE_QUERIES[:]
        rnd.shuffle(words)
        for q in words:
            if len(picks) >= per_unit * 6 // 10:
                break
            a = answers(q)
            if a:
                picks.append((unit, "word", q, a))
        own = [d for d in docs if d["unit_id"] == unit]
        others = [d for d in docs if d["unit_id"] != unit]
        for d in rnd.sample(own, min(3, len(own))) + rnd.sample(others, min(3, len(others))):
            picks.append((unit, "number", d["number"], answers(d["number"])))
        for d in rnd.sample(docs, 2):
            picks.append((unit, "代字", d["code"], answers(d["code"])))
        while len(picks) < per_unit:
            d = rnd.choice(docs)
            q = f"{d['created_at'].year}年{d['subject']}" if rnd.random() < 0.5 else d["subject"]
            if q in d["title"]:
                picks.append((unit, "title phrase", q, answers(q)))
        chosen.extend(picks[:per_unit])
    return chosen


def measure(backend: str, size: int, units: list[int]) -> dict:
    from django.db import connection

    from zhengtong.core import search

    BenchDoc, BenchAccess = bench_models()
    search._jieba()

    def allowed_for(unit):  # the shape of documents.selectors.readable_ids: a UNION ALL of indexed subqueries
        return BenchDoc.objects.filter(unit_id=unit).values("pk").union(
            BenchAccess.objects.filter(unit_id=unit).values("doc_id"), all=True)

    def real(unit):  # what documents.search passes: the exact rule and the caller's reader keys
        return {"allowed": allowed_for(unit), "readers": user_keys(unit)}

    readable = {}
    for unit in units:
        ids = sorted(i for (i,) in allowed_for(unit).values_list("pk"))
        readable[unit] = [document(i) for i in ids]
    queries = choose_queries(readable, 200 // len(units))
    log(f"{len(queries)} queries; readable sets {[len(v) for v in readable.values()]}")

    result = {"size": size, "readable": {u: len(v) for u, v in readable.items()}, "queries": len(queries)}
    # recall / precision over the full result set (matching_ids = what search() pages through)
    per_query = []
    for unit, category, q, answers in queries:
        found = search.matching_ids(q, kinds=["document"], **real(unit))
        per_query.append({"unit": unit, "category": category, "q": q, "answers": len(answers), "found": len(found),
                          "hit": len(found & answers), "extra": len(found - answers)})
    result["per_query"] = per_query

    def timed(shape) -> list[float]:
        out = []
        for unit, _c, q, _a in queries:
            started = time.perf_counter()
            search.search(q, kinds=["document"], limit=20, **shape(unit))
            out.append(time.perf_counter() - started)
        return out

    for _ in range(2):  # warm: the first passes read pages into the cache
        for unit, _c, q, _a in queries:
            search.search(q, kinds=["document"], limit=20, **real(unit))
    # search() itself: total must equal the matching set when not capped
    mismatched_totals = 0
    timings = []
    for row, (unit, _c, q, _a) in zip(per_query, queries, strict=True):
        started = time.perf_counter()
        page = search.search(q, kinds=["document"], limit=20, **real(unit))
        timings.append(time.perf_counter() - started)
        if not page.total_capped and page.total != row["found"]:
            mismatched_totals += 1
        row["ms"] = timings[-1] * 1000
    result["latency"] = stats_ms(timings)
    result["mismatched_totals"] = mismatched_totals
    by_cat = {}
    for row in per_query:
        by_cat.setdefault(row["category"], []).append(row["ms"])
    result["latency_by_category"] = {c: stats_ms([m / 1000 for m in v]) for c, v in by_cat.items()}
    # the same queries without the keys (the exact rule alone, the previous design) and with the keys alone
    result["latency_allowed_only"] = stats_ms(timed(lambda unit: {"allowed": allowed_for(unit)}))
    result["latency_keys_only"] = stats_ms(timed(lambda unit: {"readers": user_keys(unit)}))
    result["latency_unrestricted"] = stats_ms(timed(lambda unit: {}))
    allowed_alone = []
    for unit, _c, _q, _a in queries:
        started = time.perf_counter()
        len(list(allowed_for(unit)))
        allowed_alone.append(time.perf_counter() - started)
    result["floor_allowed"] = stats_ms(allowed_alone)
    # short queries (1–2 characters): recall against substring, separately (the notes' risk)
    short = []
    unit = units[0]
    texts = [(d["id"], haystack(d), d["title"] + "\n" + d["number"]) for d in readable[unit]]
    for q in SHORT_QUERIES:
        answers = {i for i, t, _ in texts if q in t}
        in_title = {i for i, _, t in texts if q in t}
        found = search.matching_ids(q, kinds=["document"], **real(unit))
        short.append({"q": q, "answers": len(answers), "title_answers": len(in_title), "hit": len(found & answers),
                      "title_hit": len(found & in_title), "found": len(found)})
    result["short"] = short
    # floors, same run: 20 rows by primary key; the bare match count (capped) through a cursor
    pk_times, count_times = [], []
    rnd = random.Random(1)
    for unit, _c, q, _a in queries:
        ids = [rnd.randint(1, size) for _ in range(20)]
        started = time.perf_counter()
        with connection.cursor() as cur:
            marks = ", ".join(["%s"] * 20)
            cur.execute(f"SELECT id, title, number, snippet_source FROM core_searchentry WHERE id IN ({marks})", ids)
            cur.fetchall()
        pk_times.append(time.perf_counter() - started)
        plan = search._plan(q, ["document"], None, user_keys(unit))  # the count search() runs first
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM (SELECT 1 {plan.base} LIMIT {search.COUNT_CAP + 1}) c", plan.params)
            cur.fetchone()
        count_times.append(time.perf_counter() - started)
    result["floor_pk"] = stats_ms(pk_times)
    result["floor_count"] = stats_ms(count_times)
    return result


def summarise(r: dict) -> dict:
    rows = r["per_query"]
    answers = sum(x["answers"] for x in rows)
    hit = sum(x["hit"] for x in rows)
    macro = sum(x["hit"] / x["answers"] for x in rows) / len(rows)
    found = sum(x["found"] for x in rows)
    return {"micro": hit / answers, "macro": macro, "answers": answers, "found": found,
            "precision": hit / found if found else float("nan"),
            "imperfect": [x for x in rows if x["hit"] < x["answers"]]}


def machine_line(backend: str) -> str:
    import django
    from django.db import connection

    with connection.cursor() as cur:
        if backend == "postgresql":
            cur.execute("SHOW server_version")
            db = "PostgreSQL " + cur.fetchone()[0]
        else:
            cur.execute("SELECT sqlite_version()")
            db = "SQLite " + cur.fetchone()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"Measured {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC at commit `{commit}` on "
            f"{os.cpu_count()} CPU, {mem:.1f} GiB memory, load average {os.getloadavg()[0]:.1f} at the start of "
            f"the queries; Python {platform.python_version()}, Django {django.get_version()}, {db}, jieba 0.42.1.")


def search_cap() -> int:
    from zhengtong.core import search

    return search.COUNT_CAP


def fmt3(s: dict) -> str:
    return f"{s['p50']:.1f} / **{s['p95']:.1f}** / {s['max']:.1f} ms"


def render(backend: str, r: dict, load: dict, sample: dict, machine: str) -> str:
    s = summarise(r)
    name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    target = " (target p95 ≤ 100 ms: " + ("met" if r["latency"]["p95"] <= 100 else "**not met**") + ")" \
        if backend == "postgresql" else ""
    lines = [f"#### {name}, {r['size']:,} documents", "", machine, ""]
    load_txt = (f"{load['rows_s']:.0f} s to build, segment and insert the rows with {load['workers']} worker processes"
                + (f", GIN index {load['gin_s']:.0f} s" if "gin_s" in load else "")
                + f", other indexes and ANALYZE {load['index_s'] - load.get('gin_s', 0):.0f} s")
    if "table_bytes" in load:
        load_txt += (f"; entry table with TOAST and indexes {load['table_bytes'] / 2**30:.1f} GiB, of which the GIN "
                     f"index {load['gin_bytes'] / 2**30:.2f} GiB")
    if load.get("note"):
        load_txt += f" ({load['note']})"
    lines += [
        "| measurement | figure | floor (same run) |",
        "| --- | --- | --- |",
        f"| load | {load_txt} | `migrate` {load['migrate_s']:.1f} s |",
        f"| `index()` one document (real path: jieba on the whole text, upsert{', FTS5 row' if backend == 'sqlite' else ''}), "
        f"{sample['n']:,} documents of {sample['chars']:.0f} characters on average, rolled back | "
        f"{sample['index_ms']:.2f} ms per document, of which segmentation {sample['segment_ms']:.2f} ms | — |",
        f"| `search(q, kinds, allowed=<readable set as a UNION ALL, the shape of documents.selectors.readable_ids>, "
        f"readers=<the user's reader keys>, limit=20)` — what `documents.search` runs — {r['queries']} queries: "
        f"p50 / p95 / max | "
        f"{fmt3(r['latency'])}{target} | 20 rows by primary key: {fmt3(r['floor_pk'])}; the same match counted "
        f"(capped at {search_cap() + 1:,}) through a cursor: {fmt3(r['floor_count'])} |",
    ]
    for cat, st in sorted(r["latency_by_category"].items()):
        lines.append(f"| … {cat} ({st['n']} queries) | {fmt3(st)} | |")
    lines += [
        f"| the same queries without reader keys (the readable set probed entry by entry: the previous design) | "
        f"{fmt3(r['latency_allowed_only'])} | fetching the readable set alone: {fmt3(r['floor_allowed'])} |",
        f"| the same queries with the reader keys alone (no exact check) | {fmt3(r['latency_keys_only'])} | |",
        f"| the same 200 queries with `allowed=None` (no restriction: tests and benches only) | "
        f"{fmt3(r['latency_unrestricted'])} | |",
        f"| recall over the full result set (micro: answers found / answers; macro: mean per query) | "
        f"**{s['micro']:.4f}** micro, {s['macro']:.4f} macro ({s['answers']:,} answers; "
        f"{len(s['imperfect'])} queries below 1.0) | target ≥ 0.95 |",
        f"| precision (results containing the query as a substring / results) | {s['precision']:.4f} "
        f"({s['found']:,} results) | |",
    ]
    lines += ["", f"Readable sets (unit's own documents + received ones): {', '.join(f'{n:,}' for n in r['readable'].values())} "
              f"documents for units {', '.join(str(u) for u in r['readable'])}. "
              f"search()'s `total` equalled the full matching set for every uncapped query "
              f"({r['mismatched_totals']} mismatches). Memoised segmentation identical to `entry_fields` on "
              f"{sample['n'] - sample['mismatches']:,} of {sample['n']:,} sampled documents."]
    if s["imperfect"]:
        worst = sorted(s["imperfect"], key=lambda x: x["hit"] / x["answers"])[:8]
        lines += ["", "Queries below full recall: " + ", ".join(
            f"`{x['q']}` {x['hit']}/{x['answers']}" for x in worst) + "."]
    lines += ["", "Short queries (one character → substring of title and number only; two characters → tokens), "
                  "recall against substring over title+number+body and over title+number, one readable set: "
              + ", ".join(f"`{x['q']}` {x['hit']}/{x['answers']} (title+number {x['title_hit']}/{x['title_answers']})"
                          for x in r["short"]) + "."]
    return "\n".join(lines)


INTRO = """### 全文检索 (issue #4 §6, §8): `core.search` over synthetic 公文

`bench/search_bench.py` (standalone, not part of `make bench`): 1,000,000 documents on PostgreSQL, 100,000 on SQLite,
built deterministically (titles = issuing body + 关于 + subject + kind, numbers 机关代字〔year〕n号, bodies of
300–1,500 characters from a bank of government prose; 375 units, each document sent to 0–4 other units). Each
document carries the reader keys `documents.selectors.reader_keys` would give it: `c<unit>` for the owning and the
receiving units' 收发员 and `i<identity>` for 4–7 participants of the owning unit. Each query runs as the 收发员 of
one of five units, as `documents.search` calls it: `allowed` = that unit's documents plus those it received (a
UNION ALL of two indexed subqueries, the shape of `documents.selectors.readable_ids`; the exact rule) and
`readers` = the user's keys (`c<unit>`, `i<identity>`), which the index intersects with the words first.
200 queries (40 per unit): 24 words and phrases of the corpus (2–7 characters: 冬季, 风险隐患, 统筹发展和安全, …),
6 full numbers (示教发〔2025〕37号), 2 机关代字, 8 subject phrases as in titles (2025年冬季安全生产). **Answers** of a
query = the readable documents whose title, number or body contains it as a substring (computed in Python on the
raw text). **Recall** = answers found / answers, over the *full* result set (`search.matching_ids`, the same SQL as
`search()` without LIMIT; `search()`'s `total` is checked against it), summed over the 200 queries (micro) and
averaged per query (macro); the full result set is the keys' matches that `allowed` also lets through.
Latency = `search(q, kinds=["document"], allowed=…, readers=…, limit=20)` in process (server side: count + page +
the page's exact check + highlighting), after two warm-up passes. Floors in the same run: 20 rows by primary key, and the
same match counted (capped at COUNT_CAP + 1 = 1,001) through a cursor. Past 1,000 matches `search()` reports "1000+"
and lists the newest first (on PostgreSQL through the month lexemes of the index); up to 1,000 it ranks them.
"""


def write_block(backend: str, text: str) -> None:
    path = REPO / "docs" / "PERFORMANCE.md"
    doc = path.read_text()
    begin, end = "<!-- search:begin -->", "<!-- search:end -->"
    sub_begin, sub_end = f"<!-- search:{backend}:begin -->", f"<!-- search:{backend}:end -->"
    if begin not in doc:
        doc = doc.rstrip() + f"\n\n{begin}\n{INTRO}\n{end}\n"
    head, rest = doc.split(begin, 1)
    block, tail = rest.split(end, 1)
    if sub_begin in block:
        before, after = block.split(sub_begin, 1)
        block = before + sub_begin + "\n" + text + "\n" + sub_end + after.split(sub_end, 1)[1]
    else:
        block = block.rstrip("\n") + f"\n{sub_begin}\n{text}\n{sub_end}\n"
    path.write_text(head + begin + block + end + tail)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], required=True)
    parser.add_argument("--size", type=int)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure an already loaded database")
    args = parser.parse_args()
    size = args.size or (1_000_000 if args.backend == "postgresql" else 100_000)
    dsn = os.environ.get("SEARCH_BENCH_PG", "postgres://postgres@127.0.0.1:5432/zt_searchbench")
    if not args.reuse:
        fresh_database(args.backend, dsn)
    setup_django(args.backend, dsn)
    if args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # migrations added since the load (indexes only)
        load_t = json.loads((Path(os.environ["DATA_DIR"]) / f"search-load-{args.backend}.json").read_text())
    else:
        log(f"loading {size:,} documents on {args.backend}")
        load_t = load(args.backend, dsn, size, args.workers)
        load_t["workers"] = args.workers
        (Path(os.environ["DATA_DIR"]) / f"search-load-{args.backend}.json").write_text(json.dumps(load_t))
    log(f"load {load_t}")
    sample = index_path_sample(size)
    log(f"index path {sample}")
    units = [7, 42, 150, 263, 371]
    r = measure(args.backend, size, units)
    machine = machine_line(args.backend)
    text = render(args.backend, r, load_t, sample, machine)
    print(text)
    (Path(os.environ["DATA_DIR"]) / f"search-result-{args.backend}.json").write_text(
        json.dumps(r, default=str, ensure_ascii=False))
    if not args.no_write:
        write_block(args.backend, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
