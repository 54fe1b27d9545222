"""core.search on the test database's backend (SQLite FTS5 or PostgreSQL GIN): Chinese recall, numbers, the allowed
restriction applied in SQL, escaping, paging, and queries that must never reach the database as syntax."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhengtong.core import search
from zhengtong.core.errors import ServiceError
from zhengtong.core.models import SearchEntry

pytestmark = pytest.mark.django_db

DOCS = {
    1: ("关于做好2026年冬季安全生产工作的通知", "示政办发〔2026〕12号", "各单位要压实安全生产责任，做好冬季防火防冻工作。"),
    2: ("关于印发《示范市政务服务一网通办工作方案》的通知", "示政发〔2026〕3号", "推进政务服务标准化、规范化、便利化。"),
    3: ("关于开展森林防灭火专项检查的通知", "示林发〔2025〕7号", "进入冬春季森林防火关键期，严格管控野外火源。"),
    4: ("关于<script>alert(1)</script>的函", "", "正文里提到安全生产。"),
}


@pytest.fixture
def corpus():
    for pk, (title, number, body) in DOCS.items():
        search.index("document", pk, unit_id=1, title=title, number=number, body=body)


def found(q, **kwargs) -> list[int]:
    return [h.object_id for h in search.search(q, kinds=["document"], **kwargs).hits]


def test_chinese_words_and_sub_words_are_found(corpus):
    assert set(found("安全生产")) == {1, 4}
    assert set(found("冬季")) == {1}
    assert set(found("生产")) == {1, 4}
    assert set(found("森林防火")) == {3}
    assert set(found("一网通办")) == {2}
    assert found("安全生产 冬季") == [1]  # every term must match


def test_numbers_are_searchable(corpus):
    assert found("示政办发〔2026〕12号") == [1]
    assert set(found("2026")) == {1, 2}
    assert found("示林发") == [3]


def test_title_matches_rank_above_body_matches(corpus):
    assert found("安全生产")[0] == 1


def test_single_character_queries_fall_back_to_titles_and_numbers(corpus):
    assert set(found("函")) == {4}


def test_allowed_restricts_results_and_total():
    for pk in range(1, 31):
        search.index("document", pk, unit_id=pk % 2, title=f"关于第{pk}次安全检查的通知", body="安全检查")
    allowed = SearchEntry.objects.filter(kind="document", unit_id=1).values("object_id")
    page = search.search("安全检查", kinds=["document"], allowed=allowed, limit=10)
    assert page.total == 15 and len(page.hits) == 10
    assert all(h.object_id % 2 == 1 for h in page.hits)
    second = search.search("安全检查", kinds=["document"], allowed=allowed, limit=10, offset=10)
    assert len(second.hits) == 5 and not {h.object_id for h in page.hits} & {h.object_id for h in second.hits}


def test_highlights_are_escaped(corpus):
    [hit] = search.search("函", kinds=["document"]).hits
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<mark>函</mark>" in hit.title_html
    [hit] = search.search("冬季", kinds=["document"]).hits
    assert "<mark>冬季</mark>" in hit.snippet_html and "<mark>冬季</mark>" in hit.title_html


def test_upsert_and_remove(corpus):
    search.index("document", 1, unit_id=1, title="关于调整会议安排的通知", body="会议改期。")
    assert found("冬季") == [] and found("会议") == [1]
    search.remove("document", 1)
    assert found("会议") == []
    assert SearchEntry.objects.filter(object_id=1).count() == 0


@pytest.mark.parametrize("q", ["", "   ", "，。！", "x" * 101])
def test_invalid_queries_are_refused_with_a_message(q):
    with pytest.raises(ServiceError) as exc:
        search.search(q, kinds=["document"])
    assert exc.value.code == "search.invalid_query"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(alphabet=st.sampled_from(list('"*:&|!()-^~<>\'\\;ANDORNEAR 安全生产 2026〔〕%_')), min_size=1,
                 max_size=30))
def test_query_syntax_never_reaches_the_database(corpus, q):
    try:
        search.search(q, kinds=["document"])
    except ServiceError as exc:
        assert exc.code == "search.invalid_query"
