"""The vendored bpmn-js modeler runs under the app's own Content-Security-Policy (no 'unsafe-inline').

A tiny static page, outside Django, is served by a local http.server with exactly the CSP header the
CSPMiddleware sends (csp.utils.build_policy reads settings.CONTENT_SECURITY_POLICY). The page loads only
the vendored files, imports a small BPMN diagram carrying our zt: extension elements, and the test drives
the editor (select, context pad, direct editing, replace menu, align menu, watermark lightbox) while
collecting every `securitypolicyviolation` event and every CSP console message. See
docs/flow-designer-notes.md.
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests.support import screenshot

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "src" / "zhengtong" / "flow" / "static" / "flow" / "vendor" / "bpmn-js"

PAGE = """<!DOCTYPE html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<title>bpmn-js CSP</title>
<link rel="icon" href="data:,">
<script src="harness.js"></script>
<link rel="stylesheet" href="vendor/assets/diagram-js.css">
<link rel="stylesheet" href="vendor/assets/bpmn-js.css">
<link rel="stylesheet" href="vendor/assets/bpmn-font/css/bpmn.css">
<link rel="stylesheet" href="page.css">
</head>
<body>
<div id="canvas"></div>
<script src="vendor/bpmn-modeler.production.min.js"></script>
<script src="page.js"></script>
</body>
</html>
"""

# The task page's read-only diagram: navigated viewer (zoom and pan only), current node highlighted.
VIEWER_PAGE = PAGE.replace("bpmn-modeler.production.min.js", "bpmn-navigated-viewer.production.min.js").replace(
    "page.js", "viewer.js")
VIEWER_JS = """
var viewer = new BpmnJS({ container: '#canvas' });
window.modeler = viewer;
fetch('diagram.bpmn')
  .then(function (response) { return response.text(); })
  .then(function (xml) { return viewer.importXML(xml); })
  .then(function () {
    viewer.get('canvas').zoom('fit-viewport');
    viewer.get('canvas').addMarker('Task_Draft', 'zt-current');
    document.body.setAttribute('data-state', 'imported');
  })
  .catch(function (error) { document.body.setAttribute('data-state', 'failed: ' + error.message); });
"""

# Loaded first, so it also sees violations caused by the stylesheets and the bundle itself.
HARNESS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.cspViolations.push(event.effectiveDirective + ' blocked ' + event.blockedURI + ' ' + (event.sample || ''));
});
"""

CSS = """html, body, #canvas { height: 100%; margin: 0; }
.zt-current:not(.djs-connection) .djs-visual > :nth-child(1) { stroke: #c00 !important; }
"""

# The zt: moddle descriptor sketched in docs/flow-designer-notes.md, for the elements that
# zhengtong.flow.extensions reads. tagAlias lowerCase maps type "Assignment" to the tag <zt:assignment>.
PAGE_JS = """
var RULE_ATTRIBUTES = ['rule', 'identity', 'duty', 'relative', 'role', 'group'].map(function (name) {
  return { name: name, isAttr: true, type: 'String' };
});
var ZT_MODDLE = {
  name: 'Zhengtong',
  uri: 'https://zhengtong.example/bpmn',
  prefix: 'zt',
  xml: { tagAlias: 'lowerCase' },
  types: [
    { name: 'Assignment', superClass: ['Element'], properties: RULE_ATTRIBUTES.concat([
      { name: 'candidates', isMany: true, type: 'Candidates' }
    ]) },
    { name: 'Candidates', superClass: ['Element'], properties: RULE_ATTRIBUTES },
    { name: 'Deadline', superClass: ['Element'], properties: [
      { name: 'workingDays', isAttr: true, type: 'Integer' }
    ] },
    { name: 'Operations', superClass: ['Element'], properties: [
      { name: 'allowed', isAttr: true, type: 'String' }
    ] },
    { name: 'Opinion', superClass: ['Element'], properties: [
      { name: 'required', isAttr: true, type: 'Boolean' }
    ] },
    { name: 'Form', superClass: ['Element'], properties: [
      { name: 'editable', isAttr: true, type: 'String' }
    ] }
  ]
};

var modeler = new BpmnJS({ container: '#canvas', moddleExtensions: { zt: ZT_MODDLE } });
window.modeler = modeler;

// Reads and writes the zt: extension elements of one BPMN element: what a properties panel does.
window.ztExtensions = function (elementId) {
  var element = modeler.get('elementRegistry').get(elementId);
  var values = (element.businessObject.extensionElements || { values: [] }).values;
  var result = {};
  values.forEach(function (value) { result[value.$type] = Object.assign({}, value.$attrs, value); });
  Object.keys(result).forEach(function (key) {
    delete result[key].$attrs;
    delete result[key].$parent;
    if (result[key].candidates) {
      result[key].candidates = result[key].candidates.map(function (c) { return c.rule + ':' + (c.duty || c.role); });
    }
  });
  return result;
};
window.setDeadline = function (elementId, workingDays) {
  var element = modeler.get('elementRegistry').get(elementId);
  var bo = element.businessObject;
  var moddle = modeler.get('moddle');
  var extensionElements = bo.extensionElements || moddle.create('bpmn:ExtensionElements', { values: [] });
  var deadline = extensionElements.values.find(function (value) { return value.$type === 'zt:Deadline'; });
  if (!deadline) {
    deadline = moddle.create('zt:Deadline');
    extensionElements.values.push(deadline);
  }
  deadline.workingDays = workingDays;
  modeler.get('modeling').updateProperties(element, { extensionElements: extensionElements });
};

fetch('diagram.bpmn')
  .then(function (response) { return response.text(); })
  .then(function (xml) { return modeler.importXML(xml); })
  .then(function (result) {
    window.importWarnings = result.warnings.map(function (warning) { return warning.message; });
    modeler.get('canvas').zoom('fit-viewport');
    document.body.setAttribute('data-state', 'imported');
  })
  .catch(function (error) { document.body.setAttribute('data-state', 'failed: ' + error.message); });
"""

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
    xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
    xmlns:zt="https://zhengtong.example/bpmn"
    id="Definitions_1" targetNamespace="urn:zhengtong:test">
  <bpmn:process id="Process_1" isExecutable="true">
    <bpmn:startEvent id="Start" name="开始">
      <bpmn:outgoing>Flow_1</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="Task_Draft" name="起草">
      <bpmn:extensionElements>
        <zt:assignment rule="chosen">
          <zt:candidates rule="duty" duty="deputy" relative="drafter_unit" />
          <zt:candidates rule="role" role="reviewer" />
        </zt:assignment>
        <zt:deadline workingDays="3" />
        <zt:operations allowed="retract,transfer" />
        <zt:opinion required="true" />
        <zt:form editable="title,body" />
      </bpmn:extensionElements>
      <bpmn:incoming>Flow_1</bpmn:incoming>
      <bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="End" name="办结">
      <bpmn:incoming>Flow_2</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Start" targetRef="Task_Draft" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Draft" targetRef="End" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_1">
    <bpmndi:BPMNPlane id="Plane_1" bpmnElement="Process_1">
      <bpmndi:BPMNShape id="Start_di" bpmnElement="Start">
        <dc:Bounds x="152" y="102" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="158" y="145" width="24" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Task_Draft_di" bpmnElement="Task_Draft">
        <dc:Bounds x="240" y="80" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="End_di" bpmnElement="End">
        <dc:Bounds x="392" y="102" width="36" height="36" />
        <bpmndi:BPMNLabel><dc:Bounds x="398" y="145" width="24" height="14" /></bpmndi:BPMNLabel>
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_1_di" bpmnElement="Flow_1">
        <di:waypoint x="188" y="120" />
        <di:waypoint x="240" y="120" />
      </bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="Flow_2_di" bpmnElement="Flow_2">
        <di:waypoint x="340" y="120" />
        <di:waypoint x="392" y="120" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


# style-src-attr hashes of the four style="" values in the align/distribute icons (see the notes).
ALIGN_ICON_STYLE_HASHES = (
    "'sha256-YYsquP+xqomqgdAIk5J+Ecd2u1EqIWPCaE4ltXAtPYE='",  # stroke:currentColor;stroke-width:100;stroke-linecap:round;
    "'sha256-yCTUeVKU6CD7LMSHPoB5JSg4Cl/BZ8jCyNCepX770PY='",  # fill:none;stroke:currentColor;stroke-width:100;
    "'sha256-d2xoiruNEGKe7tm8eQYZ4wZfl8lYgb2Sr9xKlvmCmcU='",  # fill:currentColor;…;opacity:.5;
    "'sha256-HXhQM6ELrVUcZms/DLHL1dH06lIksex0j+VgqIIlSmM='",  # fill:none;…;stroke-linejoin:round;
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    csp = ""

    def end_headers(self):
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture
def app_csp():
    """The header value the CSPMiddleware sends for every response."""
    from csp.utils import build_policy

    return build_policy()


@pytest.fixture
def serve_page(tmp_path):
    """serve_page(csp) → the URL of the test page served with that Content-Security-Policy header."""
    for name, text in {"index.html": PAGE, "harness.js": HARNESS, "page.css": CSS, "page.js": PAGE_JS,
                       "diagram.bpmn": DIAGRAM, "viewer.html": VIEWER_PAGE, "viewer.js": VIEWER_JS}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "vendor").symlink_to(VENDOR, target_is_directory=True)
    servers = []

    def _serve(csp: str) -> str:
        handler = type("Handler", (_QuietHandler,), {"csp": csp})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(handler, directory=str(tmp_path)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/index.html"

    yield _serve
    for server in servers:
        server.shutdown()
        server.server_close()


def open_modeler(page, url: str) -> list[str]:
    """Load the page and wait for the import; returns the live list of CSP console messages."""
    console = []
    page.on("console", lambda message: console.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(url)
    page.wait_for_selector("body[data-state]")
    assert page.get_attribute("body", "data-state") == "imported"
    return console


def open_align_menu(page) -> None:
    page.evaluate("""() => {
        const registry = modeler.get('elementRegistry');
        modeler.get('selection').select([registry.get('Start'), registry.get('Task_Draft'), registry.get('End')]);
    }""")
    page.click(".djs-context-pad.open .entry[data-action=align-elements]")
    page.wait_for_selector(".djs-popup")


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_app_csp_has_no_unsafe_inline(app_csp):
    """The browser tests are only meaningful under the strict policy: no inline scripts or styles."""
    assert directives(app_csp)["script-src"] == "'self'"
    assert directives(app_csp)["style-src"] == "'self'"
    assert "unsafe" not in app_csp


def test_vendored_files_match_version_txt():
    """VERSION.txt (written by scripts/vendor-bpmn-js.sh) lists every vendored file with its sha256."""
    import hashlib

    listed = {}
    for line in (VENDOR / "VERSION.txt").read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64 and name:
            listed[name] = digest
    present = {str(p.relative_to(VENDOR)): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in VENDOR.rglob("*") if p.is_file() and p.name != "VERSION.txt"}
    assert "bpmn-modeler.production.min.js" in present
    assert listed == present


def test_vendored_css_loads_nothing_from_the_internet():
    """Fonts are relative paths; the only http string is the SVG namespace inside a data: image."""
    import re

    for path in VENDOR.rglob("*.css"):
        text = path.read_text(encoding="utf-8")
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert url.startswith(("../font/", "data:")), f"{path.name}: {url[:80]}"


@pytest.mark.browser
def test_modeler_renders_and_edits_under_the_app_csp(page, serve_page, app_csp):
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    console = open_modeler(page, serve_page(app_csp))
    assert page.evaluate("window.importWarnings") == []

    # rendered as SVG, the Chinese labels included
    labels = page.locator("#canvas svg text").all_text_contents()
    assert "起草" in labels and "开始" in labels and "办结" in labels
    assert page.locator(".djs-element[data-element-id=Task_Draft] rect").count() >= 1
    # the palette's icons come from the vendored bpmn font file (font-src 'self')
    assert page.locator(".djs-palette .entry.bpmn-icon-task").count() == 1
    statuses = page.evaluate("""document.fonts.ready.then(() =>
        [...document.fonts].filter(font => font.family.includes('bpmn')).map(font => font.status))""")
    assert "loaded" in statuses

    # our extension elements are read through the moddle descriptor
    extensions = page.evaluate("ztExtensions('Task_Draft')")
    assert extensions["zt:Assignment"]["rule"] == "chosen"
    assert extensions["zt:Assignment"]["candidates"] == ["duty:deputy", "role:reviewer"]
    assert extensions["zt:Deadline"]["workingDays"] == 3
    assert extensions["zt:Operations"]["allowed"] == "retract,transfer"
    assert extensions["zt:Opinion"]["required"] is True
    assert extensions["zt:Form"]["editable"] == "title,body"

    # select → context pad → replace menu; double click → direct editing (a contenteditable box)
    page.click(".djs-element[data-element-id=Task_Draft]")
    page.click(".djs-context-pad.open .entry[data-action=replace]")
    page.wait_for_selector(".djs-popup")
    page.keyboard.press("Escape")
    page.dblclick(".djs-element[data-element-id=Task_Draft]")
    page.locator(".djs-direct-editing-parent").wait_for(state="visible")
    page.keyboard.press("Control+A")
    page.keyboard.type("处室核稿")
    page.click("#canvas", position={"x": 900, "y": 600})
    assert "处室核稿" in page.locator("#canvas svg text").all_text_contents()

    # append a task from the context pad
    page.click(".djs-element[data-element-id=Task_Draft]")
    page.click(".djs-context-pad.open .entry[data-action='append.append-task']")
    page.keyboard.press("Escape")
    assert page.locator(".djs-element.djs-shape[data-element-id^=Activity_]").count() == 1

    # writing an extension element and saving keeps it in the XML
    page.evaluate("setDeadline('Task_Draft', 5)")
    xml = page.evaluate("modeler.saveXML({ format: true }).then(result => result.xml)")
    assert 'xmlns:zt="https://zhengtong.example/bpmn"' in xml
    assert '<zt:deadline workingDays="5" />' in xml
    assert 'name="处室核稿"' in xml
    # …and the flow app's validator reads the modeler's output without a problem
    from lxml import etree

    from zhengtong.flow.extensions import parse_user_task

    task = etree.fromstring(xml.encode()).find(".//{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    node, problems = parse_user_task(task)
    assert problems == []
    assert node.deadline_days == 5
    assert node.operations == {"retract", "transfer"}
    assert node.opinion_required is True
    assert [c.rule for c in node.assignment.candidates] == ["duty", "role"]

    # the bpmn.io watermark (licence: must stay visible) opens its lightbox on click
    page.click(".bjs-powered-by")
    page.wait_for_selector(".bjs-powered-by-lightbox")
    screenshot(page, "vendor-bpmn-js-desktop")

    assert page.evaluate("window.cspViolations") == []
    assert console == []
    assert failed == []


def test_the_bundles_style_attributes_are_the_four_hashed_ones():
    """The only style="" attributes in the bundle are the align/distribute icons' four values."""
    import base64
    import hashlib
    import re

    bundle = (VENDOR / "bpmn-modeler.production.min.js").read_text(encoding="utf-8")
    values = set(re.findall(r'style="([^"$]*)"', bundle))
    digests = (base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() for value in values)
    hashes = {f"'sha256-{digest}'" for digest in digests}
    assert hashes == set(ALIGN_ICON_STYLE_HASHES)


@pytest.mark.browser
def test_align_menu_icons_need_style_src_attr_hashes(page, serve_page, app_csp):
    """The align/distribute popup's inline-SVG icons carry style="" attributes.

    Under the app CSP they are blocked (style-src-attr violations, the icons lose their fill/stroke but the
    menu still works); adding style-src-attr 'unsafe-hashes' with the four hashes, and nothing else, makes
    the menu clean. That is the per-view addition recommended for the designer page.
    """
    console = open_modeler(page, serve_page(app_csp))
    open_align_menu(page)
    violations = page.evaluate("window.cspViolations")
    assert violations and all(v.startswith("style-src-attr blocked inline") for v in violations)
    assert all("style-src" in text for text in console)
    first_rect = ".djs-popup .entry svg rect"
    assert page.evaluate(f"getComputedStyle(document.querySelector('{first_rect}')).fill") != "none"

    # what @csp_update({"style-src-attr": [...]}) on the designer view sends
    from csp.utils import build_policy

    designer_csp = build_policy(update={"style-src-attr": ["'unsafe-hashes'", *ALIGN_ICON_STYLE_HASHES]})
    added = " ".join(["'unsafe-hashes'", *ALIGN_ICON_STYLE_HASHES])
    assert directives(designer_csp) == {**directives(app_csp), "style-src-attr": added}
    console = open_modeler(page, serve_page(designer_csp))
    open_align_menu(page)
    page.click(".djs-popup .entry[data-id=align-elements-top]")
    assert page.evaluate("window.cspViolations") == []
    assert console == []
    open_align_menu(page)
    assert page.evaluate(f"getComputedStyle(document.querySelector('{first_rect}')).fill") == "none"
    assert page.evaluate("window.cspViolations") == []


@pytest.mark.browser
def test_navigated_viewer_highlights_the_current_node_under_the_app_csp(page, serve_page, app_csp):
    """The task page's diagram: the lighter viewer bundle, a marker class on the current node, zoom by wheel."""
    console = open_modeler(page, serve_page(app_csp).replace("index.html", "viewer.html"))
    assert "起草" in page.locator("#canvas svg text").all_text_contents()
    assert page.locator(".djs-palette").count() == 0
    current = page.locator(".djs-element.zt-current[data-element-id=Task_Draft] .djs-visual rect").first
    assert current.evaluate("rect => getComputedStyle(rect).stroke") == "rgb(204, 0, 0)"
    before = page.evaluate("modeler.get('canvas').zoom()")
    page.mouse.move(400, 300)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    page.wait_for_function(f"modeler.get('canvas').zoom() != {before}")
    assert page.evaluate("window.cspViolations") == []
    assert console == []
