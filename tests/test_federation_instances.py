"""公文交换 between three platform instances (issue #5 §2, §3): a county, its city and the province, each a separate
process with its own database, web server (gunicorn) and worker on a loopback port. The county's office sends to
乙县, a county of another city whose units are on the province's platform: the envelope goes county → city →
province, the province's 收发员 signs for it (its 收文 flow starts) or refuses it, and the receipts come back the
same way; a 撤回 from the county is decided at the province."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.x509 import load_pem_x509_certificate

from tests.federation.instances import Instance, describe, link, wait_for
from zhengtong.exchange.federation.identity import algorithm_of


@pytest.fixture(scope="module")
def platforms(tmp_path_factory):
    root = tmp_path_factory.mktemp("federation")
    # three signature algorithms on one route: the county in 国密 mode (SM2/SM3), the city ECDSA, the province
    # Ed25519 — each verifies the others' envelopes and receipts
    county, city, province = (Instance(role, root, algorithm=algorithm) for role, algorithm in (
        ("county", "sm2"), ("city", "ecdsa-p256"), ("province", "ed25519")))
    everyone = (county, city, province)

    def prepare(instance: Instance) -> dict:
        instance.manage("migrate", "--noinput")
        instance.manage("load_default_flows")
        return instance.node("setup", instance.role)

    with ThreadPoolExecutor(3) as pool:
        codes = {i.role: unit for i, unit in zip(everyone, pool.map(prepare, everyone), strict=True)}
    # the city is in the middle: it links both, then each links the city (and learns the other through it)
    cards = {instance.role: describe(instance) for instance in (county, province)}
    assert {role: algorithm_of(load_pem_x509_certificate(card["certificate"].encode()))
            for role, card in cards.items()} == {"county": "sm2", "province": "ed25519"}
    link(city, county, cards["county"])
    link(city, province, cards["province"])
    middle = describe(city)
    link(county, city, middle)
    link(province, city, middle)
    try:
        for instance in everyone:
            instance.start_web()
            instance.start_worker()
        yield county, city, province, {role: c["unit"] for role, c in codes.items()}
    finally:
        for instance in everyone:
            instance.stop()


def status_of(instance: Instance, title: str, wanted: str):
    rows = instance.node("deliveries", title)
    return rows if rows and rows[-1]["status"] == wanted else None


def test_a_county_document_reaches_another_citys_county_through_city_and_province_and_receipts_return(platforms):
    county, city, province, codes = platforms
    title = "甲县人民政府办公室关于联合开展汛期安全检查的通知"
    county.node("send", codes["province"], title)

    # it arrives in 乙县's 交换箱 on the province's platform, once
    [arrived] = wait_for(lambda: province.node("deliveries", title), what="the delivery at the province")
    assert arrived["status"] == "pending" and arrived["unit"] == codes["province"]
    signed = province.node("sign", title)
    assert signed["flow_started"] and signed["receipt_number"]

    # the receipts come back: 已发往外平台 → 已送达 → 已签收 (by whom, with the 收文号)
    [back] = wait_for(lambda: status_of(county, title, "signed"), what="the 签收 receipt at the county")
    kinds = [kind for kind, _ in back["events"]]
    assert kinds == ["sent_remote", "delivered", "signed"], back["events"]
    assert "乙县收发员" in back["events"][-1][1] and signed["receipt_number"] in back["events"][-1][1]

    # the city relayed it and kept nothing of the document itself: no delivery, no mirror
    assert city.node("deliveries", title) == []
    # 送达 and 签收 on their way back: one receipt envelope or two (receipts queued within 2 s travel together);
    # the city marks its relay sent just after the county accepted it, so wait for that
    relayed = wait_for(lambda: (e := city.node("envelopes")).get("out/receipt/sent") == e.get("in/receipt/accepted")
                       and e, what="the city's relays marked sent")
    assert relayed.get("in/document/accepted") == 1 and relayed.get("out/document/sent") == 1
    assert relayed["in/receipt/accepted"] >= 1
    assert province.node("envelopes").get("in/document/accepted") == 1


def test_a_refusal_comes_back_with_its_reason(platforms):
    county, _, province, codes = platforms
    title = "甲县人民政府办公室关于报送防汛物资清单的通知"
    county.node("send", codes["province"], title)
    wait_for(lambda: status_of(province, title, "pending"), what="the delivery at the province")
    assert province.node("refuse", title)["status"] == "refused"
    [back] = wait_for(lambda: status_of(county, title, "refused"), what="the 退文 at the county")
    assert back["reason"] == "文号有误，请核对"


def test_a_recall_is_decided_where_the_document_is(platforms):
    county, _, province, codes = platforms
    title = "甲县人民政府办公室关于调整会议时间的通知"
    county.node("send", codes["province"], title)
    wait_for(lambda: status_of(province, title, "pending"), what="the delivery at the province")
    assert county.node("recall", title)["status"] == "pending"  # asked; the province decides
    wait_for(lambda: status_of(province, title, "recalled"), what="the 撤回 at the province")
    [back] = wait_for(lambda: status_of(county, title, "recalled"), what="the confirmation at the county")
    assert [k for k, _ in back["events"]][-2:] == ["recall_req", "recalled"]
