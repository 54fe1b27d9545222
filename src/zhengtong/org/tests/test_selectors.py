"""org.selectors: pinyin search (`zs` and `zhangsan` both find 张三), ranking, the lazy tree."""
from __future__ import annotations

import pytest

from zhengtong.core.errors import ServiceError
from zhengtong.org.models import Duty, Identity, Person
from zhengtong.org.selectors import search_people, search_units, unit_children
from zhengtong.org.tests.factories import DepartmentFactory, IdentityFactory, PersonFactory, UnitFactory, duty

pytestmark = pytest.mark.django_db


def post(name: str, unit, code: str = Duty.CLERK, **fields) -> Identity:
    return IdentityFactory(person=PersonFactory(name=name), unit=unit, duty=duty(code), **fields)


def names(hits) -> list[str]:
    return [h.name for h in hits]


@pytest.mark.parametrize("q", ["zs", "ZS", "zhangsan", "zhangs", "zhang san", "张三", "张", "三"])
def test_zs_and_zhangsan_both_find_zhangsan(zhangsan, q):
    assert "张三" in names(search_people(q))


def test_hit_carries_identities(zhangsan, unit, office):
    hit = search_people("zs")[0]
    assert hit.person_id == zhangsan.person_id
    brief = hit.identities[0]
    assert (brief.id, brief.unit_id, brief.unit_name, brief.department_id, brief.department_name, brief.duty,
            brief.title, brief.is_main) == (zhangsan.pk, unit.pk, unit.name, office.pk, "办公室", "科员", "科员", True)


def test_every_reading_of_a_heteronym_surname_is_found(unit):
    post("曾小明", unit)
    for q in ("zxm", "cxm", "zengxiaoming", "cengxiao", "曾小"):
        assert names(search_people(q)) == ["曾小明"], q


def test_a_surname_is_not_found_by_its_other_dictionary_readings(unit):
    post("董帅", unit)  # 董 has the dictionary reading zhong; nobody is called that
    assert names(search_people("dongshuai")) == ["董帅"]
    assert names(search_people("zs")) == []


def test_ranking_exact_then_prefix_then_pinyin_then_initials_then_substring(unit):
    post("张三丰", unit)  # name prefix of 张三
    post("李张三", unit)  # substring
    post("张三", unit)  # exact
    assert names(search_people("张三")) == ["张三", "张三丰", "李张三"]
    post("章散", unit)  # zhangsan too, initials zs
    post("赵松", unit)  # initials zs only
    post("张山峰", unit)  # zhangshanfeng: prefix of the pinyin, initials zsf
    got = names(search_people("zhangsan"))
    assert set(got[:2]) == {"张三", "章散"} and "赵松" not in got
    got = names(search_people("zs"))
    assert set(got[:3]) == {"张三", "章散", "赵松"}  # initials exact
    assert set(got[3:]) == {"张三丰", "张山峰"}  # initials prefix


def test_same_rank_leaders_first(unit):
    post("王二", unit, Duty.CLERK)
    post("王一", unit, Duty.PRINCIPAL)
    post("王三", unit, Duty.DEPT_HEAD)
    assert names(search_people("王")) == ["王一", "王三", "王二"]


def test_inactive_people_and_posts_are_hidden(zhangsan):
    Person.objects.filter(pk=zhangsan.person_id).update(active=False)
    assert search_people("zs") == []
    assert names(search_people("zs", active_only=False)) == ["张三"]


def test_unit_filter_keeps_people_and_posts_in_those_units(zhangsan, unit, other_unit):
    IdentityFactory(person=zhangsan.person, unit=other_unit, is_main=False, title="兼职")
    post("张思", other_unit)
    hits = search_people("zs", unit_ids=[other_unit.pk])
    assert sorted(names(hits)) == ["张三", "张思"]
    assert all(i.unit_id == other_unit.pk for h in hits for i in h.identities)
    assert names(search_people("zs", unit_ids=[unit.pk])) == ["张三"]
    assert len(search_people("zs")[0].identities) == 2


def test_limit_and_like_wildcards_are_literal(unit):
    for i in range(5):
        post(f"王{'一二三四五'[i]}", unit)
    assert len(search_people("w", limit=3)) == 3
    assert search_people("%") == [] and search_people("_") == [] and search_people("\\") == []


@pytest.mark.parametrize("q", ["", "   ", "x" * 51])
def test_empty_or_long_query_is_refused(q):
    with pytest.raises(ServiceError) as err:
        search_people(q)
    assert err.value.code == "request.invalid" and err.value.status == 422


def test_search_costs_one_query_whatever_the_hits(unit, django_assert_num_queries):
    """No N+1: the ranked hits and all their identities come in one statement."""
    for i in range(15):
        identity = post(f"张{'一二三四五六七八九十甲乙丙丁戊'[i]}", unit)
        IdentityFactory(person=identity.person, unit=UnitFactory(), is_main=False)
    with django_assert_num_queries(1):
        hits = search_people("z")
    assert len(hits) == 15 and all(len(h.identities) == 2 for h in hits)


def test_search_units_by_name_short_name_pinyin_and_initials(unit, other_unit, city):
    child = UnitFactory(name="示范市教育考试院", short_name="市考试院", region=city, parent=unit)
    assert [u.name for u in search_units("jyj")] == ["示范市教育局"]  # inside the initials sfsjyj
    assert [u.name for u in search_units("市财政局")] == ["示范市财政局"]  # short name
    assert [u.name for u in search_units("sfsjy")][:2] == ["示范市教育局", "示范市教育考试院"]
    assert [u.name for u in search_units("示范市教育局")][0] == "示范市教育局"
    hit = search_units("考试院")[0]
    assert (hit.id, hit.parent_id, hit.region_name, hit.kind) == (child.pk, unit.pk, "示范市", "gov_dept")


def test_unit_children_lazy_tree(unit, other_unit, office, zhangsan, city):
    child = UnitFactory(region=city, parent=unit)
    UnitFactory(region=city, parent=child)
    top = unit_children(None)
    assert top.unit is None and {u.id for u in top.units} == {unit.pk, other_unit.pk}
    assert {u.id: u.has_children for u in top.units} == {unit.pk: True, other_unit.pk: False}
    level = unit_children(unit.pk)
    assert level.unit.id == unit.pk and [u.id for u in level.units] == [child.pk] and level.units[0].has_children
    assert [d.name for d in level.departments] == ["办公室"]
    assert [(i.name, i.department) for i in level.identities] == [("张三", "办公室")]


def test_unit_children_leaves_out_ended_posts_and_inactive_departments(unit, office, zhangsan):
    DepartmentFactory(unit=unit, name="已撤销科", active=False)
    Identity.objects.filter(pk=zhangsan.pk).update(active=False)
    level = unit_children(unit.pk)
    assert [d.name for d in level.departments] == ["办公室"] and level.identities == []
