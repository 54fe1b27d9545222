"""流程管理 pages (/flows/, issue #3 §1): who may list, open, save and activate which definitions (403 pages audited,
R7.1), saving through services.upload_definition (400 lists every problem, nothing saved), the designer page's
per-view CSP, and the nav link. The browser side is in test_browser_designer.py."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from zhengtong.accounts.models import User
from zhengtong.audit.models import AuditRecord
from zhengtong.flow import designer, engine
from zhengtong.flow.extensions import ZT, parse_user_task
from zhengtong.flow.models import ProcessDefinition
from zhengtong.flow.validation import B, parse_xml
from zhengtong.org.tests.factories import IdentityFactory, UnitFactory, make_sysadmin, make_unit_admin

from .factories import ProcessDefinitionFactory, bpmn, task

pytestmark = pytest.mark.django_db
BUNDLE = (Path(designer.__file__).resolve().parent / "static" / "flow" / "vendor" / "bpmn-js"
          / "bpmn-modeler.production.min.js")


@pytest.fixture
def setup():
    """Platform defaults installed; units A and B each with a 单位系统管理员 and a draft of their own; a plain user."""
    call_command("load_default_flows")
    a, b = UnitFactory(), UnitFactory()
    admin_a, admin_b = make_unit_admin(a), make_unit_admin(b)
    plain = IdentityFactory(unit=a).person.user
    sysadmin = make_sysadmin()
    User.objects.update(otp_exempt=True)
    platform = ProcessDefinition.objects.get(unit=None, business_type="dispatch", status="active")
    draft_a = ProcessDefinitionFactory(unit=a, business_type="dispatch", key="dispatch", version=1)
    draft_b = ProcessDefinitionFactory(unit=b, business_type="dispatch", key="dispatch", version=1)
    return {"a": a, "b": b, "admin_a": admin_a, "admin_b": admin_b, "plain": plain, "sysadmin": sysadmin,
            "platform": platform, "draft_a": draft_a, "draft_b": draft_b}


def denials(user) -> int:
    return AuditRecord.objects.filter(action="permission.denied", actor_id=user.pk).count()


def save(client, user, definition, xml, *, unit=None, name="发文（改）"):
    client.force_login(user)
    return client.post(reverse("flow_designer:save", args=[definition.pk]),
                       json.dumps({"xml": xml, "name": name, "unit": unit}), content_type="application/json")


def changed_dispatch(days: int = 7) -> str:
    """The platform 发文 XML with 起草's deadline changed (what the designer would post)."""
    from zhengtong.flow.services import DEFINITIONS_DIR

    xml = (DEFINITIONS_DIR / "dispatch.bpmn").read_text(encoding="utf-8")
    return xml.replace('<zt:deadline workingDays="3" />', f'<zt:deadline workingDays="{days}" />', 1)


# --- the list -------------------------------------------------------------------------------------------------

def test_unit_admin_lists_own_units_and_the_platform_defaults_grouped_by_business_type(client, setup):
    client.force_login(setup["admin_a"])
    body = client.get(reverse("flow_designer:list")).content.decode()
    assert f'data-definition="{setup["draft_a"].pk}"' in body
    assert f'data-definition="{setup["platform"].pk}"' in body and "平台默认" in body and "（只读）" in body
    assert f'data-definition="{setup["draft_b"].pk}"' not in body
    for label in ("发文", "收文", "签报"):
        assert f">{label}</h2>" in body
    assert "草稿" in body and "启用" in body
    # 新建 for 发文 starts from the unit's own active version if any, else the platform default (a copy)
    platform_receipt = ProcessDefinition.objects.get(unit=None, business_type="receipt", status="active")
    assert f'href="/flows/{platform_receipt.pk}/design/?unit={setup["a"].pk}"' in body
    # 启用 only on the unit's own draft, never on the platform rows
    assert body.count('action="/flows/') == 1 and f'action="/flows/{setup["draft_a"].pk}/activate/"' in body


def test_platform_sysadmin_lists_every_definition(client, setup):
    client.force_login(setup["sysadmin"])
    body = client.get(reverse("flow_designer:list")).content.decode()
    for d in ProcessDefinition.objects.all():
        assert f'data-definition="{d.pk}"' in body
    assert "新建平台版本" in body


def test_plain_user_gets_a_chinese_403_page_audited_r7_1(client, setup):
    plain = setup["plain"]
    client.force_login(plain)
    for url in (reverse("flow_designer:list"), reverse("flow_designer:design", args=[setup["platform"].pk])):
        before = denials(plain)
        response = client.get(url)
        assert response.status_code == 403 and "无权访问" in response.content.decode()
        assert "已记入审计日志" in response.content.decode()
        assert denials(plain) == before + 1
    response = save(client, plain, setup["draft_a"], changed_dispatch())
    assert response.status_code == 403 and response.json()["code"] == "flow.not_your_definition"
    response = client.post(reverse("flow_designer:activate", args=[setup["draft_a"].pk]))
    assert response.status_code == 403
    assert ProcessDefinition.objects.get(pk=setup["draft_a"].pk).status == "draft"


def test_nav_link_only_for_definition_admins(client, setup):
    for user, shown in ((setup["admin_a"], True), (setup["sysadmin"], True), (setup["plain"], False)):
        client.force_login(user)
        body = client.get(reverse("org:browser")).content.decode()
        assert ('href="/flows/"' in body) is shown, user


# --- permission on open, save, activate -------------------------------------------------------------------------

def test_unit_admin_of_a_cannot_open_save_or_activate_unit_bs_definitions_r7_1(client, setup):
    """403 each time, recorded as a security event; B's draft stays as it was and nothing is added."""
    admin_a, draft_b = setup["admin_a"], setup["draft_b"]
    client.force_login(admin_a)
    rows = ProcessDefinition.objects.count()

    before = denials(admin_a)
    response = client.get(reverse("flow_designer:design", args=[draft_b.pk]))
    assert response.status_code == 403 and "其他单位的流程" in response.content.decode()
    assert denials(admin_a) == before + 1

    before = denials(admin_a)
    response = save(client, admin_a, draft_b, changed_dispatch())
    assert response.status_code == 403
    assert denials(admin_a) == before + 1

    before = denials(admin_a)  # copying the platform default into B
    response = save(client, admin_a, setup["platform"], changed_dispatch(), unit=setup["b"].pk)
    assert response.status_code == 403
    assert denials(admin_a) == before + 1
    response = client.get(reverse("flow_designer:design", args=[setup["platform"].pk]) + f"?unit={setup['b'].pk}")
    assert response.status_code == 403 and denials(admin_a) == before + 2

    before = denials(admin_a)
    response = client.post(reverse("flow_designer:activate", args=[draft_b.pk]))
    assert response.status_code == 403
    assert denials(admin_a) == before + 1
    assert ProcessDefinition.objects.get(pk=draft_b.pk).status == "draft"
    assert ProcessDefinition.objects.count() == rows


def test_unit_admin_sees_the_platform_default_read_only_and_cannot_save_over_it(client, setup):
    admin_a, platform = setup["admin_a"], setup["platform"]
    client.force_login(admin_a)
    body = client.get(reverse("flow_designer:design", args=[platform.pk])).content.decode()
    assert 'data-editable="false"' in body and "只能查看" in body and 'id="designer-save"' not in body
    assert f'href="/flows/{platform.pk}/design/?unit={setup["a"].pk}"' in body
    before = denials(admin_a)
    response = save(client, admin_a, platform, changed_dispatch())  # no unit: a new platform version
    assert response.status_code == 403 and denials(admin_a) == before + 1
    response = client.post(reverse("flow_designer:activate", args=[platform.pk]))
    assert response.status_code == 403


def test_platform_sysadmin_may_open_save_and_activate_any(client, setup):
    sysadmin = setup["sysadmin"]
    client.force_login(sysadmin)
    for d in (setup["draft_a"], setup["draft_b"], setup["platform"]):
        response = client.get(reverse("flow_designer:design", args=[d.pk]))
        assert response.status_code == 200 and 'data-editable="true"' in response.content.decode()
    response = save(client, sysadmin, setup["draft_b"], changed_dispatch())
    assert response.status_code == 201, response.content
    created = ProcessDefinition.objects.get(pk=response.json()["id"])
    assert (created.unit, created.version, created.status) == (setup["b"], 2, "draft")
    response = client.post(reverse("flow_designer:activate", args=[created.pk]))
    assert response.status_code == 302
    assert ProcessDefinition.objects.get(pk=created.pk).status == "active"


def test_unknown_definition_is_404(client, setup):
    client.force_login(setup["sysadmin"])
    assert client.get(reverse("flow_designer:design", args=[999999])).status_code == 404
    assert save(client, setup["sysadmin"], ProcessDefinition(pk=999999), "<x/>").status_code == 404
    assert client.post(reverse("flow_designer:activate", args=[999999])).status_code == 404


# --- saving ------------------------------------------------------------------------------------------------------

def test_unit_admin_copies_the_platform_default_as_a_new_draft_of_the_unit_then_activates(client, setup):
    admin_a, a = setup["admin_a"], setup["a"]
    client.force_login(admin_a)
    page = client.get(reverse("flow_designer:design", args=[setup["platform"].pk]) + f"?unit={a.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-editable="true"' in body and f'data-target-unit="{a.pk}"' in body and "新建：" in body
    response = save(client, admin_a, setup["platform"], changed_dispatch(7), unit=a.pk, name="发文（本局）")
    assert response.status_code == 201, response.content
    created = ProcessDefinition.objects.get(pk=response.json()["id"])
    assert (created.unit, created.key, created.version, created.status, created.name) == (
        a, "dispatch", 2, "draft", "发文（本局）")  # v1 is the factory draft of A
    assert response.json()["design_url"] == f"/flows/{created.pk}/design/"
    assert AuditRecord.objects.filter(action="flow.definition_uploaded", object_id=str(created.pk)).exists()
    draft = parse_xml(created.bpmn_xml.encode()).find(f".//{B}userTask[@id='draft']")
    ext, problems = parse_user_task(draft)
    assert problems == [] and ext.deadline_days == 7
    response = client.post(reverse("flow_designer:activate", args=[created.pk]), follow=True)
    assert "已启用“发文（本局）”第 2 版" in response.content.decode()
    assert ProcessDefinition.objects.get(pk=created.pk).status == "active"
    assert ProcessDefinition.objects.get(pk=setup["platform"].pk).status == "active"  # the platform's is untouched


def test_save_with_an_invalid_diagram_is_400_listing_every_problem_and_saves_nothing(client, setup):
    xml = bpmn(task("a", "拟稿", ext=""), task("b", "审核", ext='<zt:deadline workingDays="0"/>'),
               process_id="dispatch")
    rows = ProcessDefinition.objects.count()
    response = save(client, setup["admin_a"], setup["draft_a"], xml)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "flow.invalid_definition" and "未保存" in body["message"]
    kinds = {(p["kind"], p["element_id"]) for p in body["problems"]}
    assert ("assignment_missing", "a") in kinds and ("assignment_missing", "b") in kinds
    assert ("invalid_extension", "b") in kinds  # workingDays 0
    assert all(re.search(r"[\u4e00-\u9fff]", p["message"]) for p in body["problems"])
    assert ProcessDefinition.objects.count() == rows


def test_save_refuses_a_malformed_request_without_a_500(client, setup):
    client.force_login(setup["admin_a"])
    url = reverse("flow_designer:save", args=[setup["draft_a"].pk])
    for payload in ("not json", json.dumps({"name": "x"}), json.dumps(["xml"])):
        response = client.post(url, payload, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "flow.invalid_request"
    response = save(client, setup["admin_a"], setup["draft_a"], "<not-xml")
    assert response.status_code == 400 and response.json()["problems"][0]["kind"] == "invalid_xml"


def test_activating_an_active_version_says_so(client, setup):
    client.force_login(setup["sysadmin"])
    response = client.post(reverse("flow_designer:activate", args=[setup["platform"].pk]), follow=True)
    assert "该版本已经启用" in response.content.decode()


# --- the designer page ---------------------------------------------------------------------------------------------

def test_designer_page_offers_duties_roles_and_the_units_identities_from_the_database(client, setup):
    from zhengtong.org.tests.factories import DutyFactory, GroupFactory, RoleFactory

    DutyFactory(code="archivist", name="档案员")
    RoleFactory(code="reviewer", name="审核员", unit=setup["a"])
    RoleFactory(code="other_unit_role", name="他单位角色", unit=setup["b"])
    GroupFactory(name="应急小组", unit=setup["a"])
    person = IdentityFactory(unit=setup["a"], title="科长").person
    client.force_login(setup["admin_a"])
    body = client.get(reverse("flow_designer:design", args=[setup["draft_a"].pk])).content.decode()
    assert '<option value="archivist">档案员（archivist）</option>' in body
    assert '<option value="dept_head">处室负责人（dept_head）</option>' in body
    assert '<option value="reviewer">审核员（reviewer）</option>' in body and "other_unit_role" not in body
    assert '<option value="应急小组">应急小组</option>' in body
    assert person.name in body
    for label in ("办理人规则", "办理时限（工作日）", "允许的操作", "必须填写意见", "可编辑字段", "退回", "撤回", "加签",
                  "转办", "委派", "传阅"):
        assert label in body
    assert 'id="designer-xml" type="application/json"' in body and "<script>" not in body
    assert 'style="' not in body


def test_the_designer_view_alone_adds_the_four_style_attribute_hashes():
    """The hashes in designer.py are exactly those of the bundle's style="" strings (see test_vendor_bpmn_js)."""
    bundle = BUNDLE.read_text(encoding="utf-8")
    values = set(re.findall(r'style="([^"$]*)"', bundle))
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(v.encode()).digest()).decode()}'" for v in values}
    assert set(designer.BPMN_JS_STYLE_ATTR) == {"'unsafe-hashes'", *hashes}


def test_csp_header_designer_page_has_style_src_attr_hashes_other_pages_do_not(client, setup):
    client.force_login(setup["admin_a"])
    csp = client.get(reverse("flow_designer:design", args=[setup["draft_a"].pk]))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["style-src-attr"] == " ".join(designer.BPMN_JS_STYLE_ATTR)
    assert directives["style-src"] == "'self'" and "unsafe-inline" not in csp
    assert directives["script-src"] == "'self'" and directives["connect-src"] == "'self'"
    listing = client.get(reverse("flow_designer:list"))["Content-Security-Policy"]
    assert "style-src-attr" not in listing and "unsafe-hashes" not in listing


def test_moddle_descriptor_declares_every_extension_element_the_server_reads():
    """An undeclared zt: element would be dropped by saveXML (docs/flow-designer-notes.md)."""
    descriptor = json.loads((BUNDLE.parent.parent.parent / "zt-moddle.json").read_text(encoding="utf-8"))
    assert descriptor["uri"] == ZT[1:-1] and descriptor["prefix"] == "zt"
    types = {t["name"]: {p["name"] for p in t["properties"]} for t in descriptor["types"]}
    assert types == {
        "Assignment": {"rule", "identity", "duty", "relative", "role", "group", "candidates"},
        "Candidates": {"rule", "identity", "duty", "relative", "role", "group"},
        "Deadline": {"workingDays"}, "Operations": {"allowed"}, "Opinion": {"required"}, "Form": {"editable"},
    }


def test_platform_default_flow_refuses_the_transfer_the_unit_added():
    """The control for test_browser_designer's done criterion: 起草 in the platform 发文 flow does not allow 转办."""
    call_command("load_default_flows")
    platform = ProcessDefinition.objects.get(unit=None, business_type="dispatch", status="active")
    spec, _ = engine.load_spec(engine.parse_xml(platform.bpmn_xml.encode()))
    draft = spec.task_specs["draft"]
    ext = engine.node_extensions(draft)
    assert "transfer" not in ext.operations and ext.deadline_days == 3
