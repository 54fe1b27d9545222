/* 流程设计器 (/flows/<id>/design/): the vendored bpmn-js modeler + our own properties panel for user tasks.

   - The XML comes from a json_script element (#designer-xml); the zt: moddle descriptor from flow/zt-moddle.json,
     so importXML/saveXML read and write our extension elements (zt:assignment, zt:deadline, zt:operations,
     zt:opinion, zt:form; docs/flow-design.md "Our extensions").
   - The panel writes through modeling.updateProperties / updateLabel: every change is one undoable command.
   - 保存 posts {xml, name, unit} as JSON (X-CSRFToken) to data-save-url; 201 → the new draft's page; 400 → every
     problem listed beside the canvas, its elements marked zt-problem.
   - Read-only (a platform default seen by a unit administrator, or a phone-width screen): the navigated viewer
     instead of the modeler (only one bundle per page: both define window.BpmnJS), the panel disabled.
   No inline script or style anywhere (CSP); the bundle's four style="" icon attributes are hashed by the view. */
(function () {
  "use strict";

  var ZT_TYPES = ["zt:Assignment", "zt:Deadline", "zt:Operations", "zt:Opinion", "zt:Form"];
  var RULE_FIELDS = { identity: ["identity"], duty: ["duty", "relative"], role: ["role"], group: ["group"] };

  // bpmn-js UI strings (palette, context pad, replace menu) in Chinese; anything missing stays English.
  var ZH = {
    "Activate hand tool": "抓手工具（平移画布）",
    "Activate lasso tool": "套索工具（框选）",
    "Activate create/remove space tool": "插入/删除空白",
    "Activate global connect tool": "连线工具",
    "Create start event": "开始事件",
    "Create intermediate/boundary event": "中间事件（不支持）",
    "Create end event": "结束事件",
    "Create gateway": "网关",
    "Create task": "任务（拖入后改为用户任务）",
    "Create data object reference": "数据对象（不支持）",
    "Create data store reference": "数据存储（不支持）",
    "Create expanded sub-process": "子流程（不支持）",
    "Create pool/participant": "泳池（不支持）",
    "Create group": "分组框（不支持）",
    "Append end event": "追加结束事件",
    "Append gateway": "追加网关",
    "Append task": "追加任务",
    "Append intermediate/boundary event": "追加中间事件",
    "Append text annotation": "追加注释",
    "Add text annotation": "添加注释",
    "Change element": "更改类型",
    "Change type": "更改类型",
    "Delete": "删除",
    "Connect to other element": "连接到其他元素",
    "Connect using association": "用关联连接",
    "Search in diagram": "在图中查找",
    "Align elements": "对齐",
    "Distribute elements horizontally": "水平均匀分布",
    "Distribute elements vertically": "垂直均匀分布",
    "Align elements left": "左对齐",
    "Align elements center": "水平居中",
    "Align elements right": "右对齐",
    "Align elements top": "顶端对齐",
    "Align elements middle": "垂直居中",
    "Align elements bottom": "底端对齐",
    "User task": "用户任务",
    "Task": "任务",
    "Start event": "开始事件",
    "End event": "结束事件",
    "Exclusive gateway": "排他网关",
    "Parallel gateway": "并行网关",
    "Parallel multi-instance": "并行多实例（会签）",
    "Sequential multi-instance": "串行多实例",
    "Loop": "循环",
    "Sequence flow": "顺序流",
    "Default flow": "默认流",
    "Conditional flow": "条件流"
  };

  function zhTranslate(template, replacements) {
    var text = ZH[template] || template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : match;
    });
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("无法加载 " + src)); };
      document.head.appendChild(script);
    });
  }

  function $(id) { return document.getElementById(id); }

  function extValues(bo) {
    return bo && bo.extensionElements && bo.extensionElements.values ? bo.extensionElements.values : [];
  }

  function findExt(bo, type) {
    return extValues(bo).filter(function (v) { return v.$type === type; })[0];
  }

  function csrfToken() {
    var input = document.querySelector(".designer-toolbar input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function Designer(box) {
    this.box = box;
    this.narrow = window.matchMedia("(max-width: 720px)").matches;
    this.editable = box.dataset.editable === "true" && !this.narrow;
    this.current = null;
    this.writing = false;
    this.dirty = false;
    document.body.classList.toggle("designer-readonly", !this.editable);
  }

  Designer.prototype.start = function () {
    var self = this;
    var xml = JSON.parse($("designer-xml").textContent);
    var bundle = this.editable ? this.box.dataset.modelerSrc : this.box.dataset.viewerSrc;
    var descriptor = fetch(this.box.dataset.moddleUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); });
    return Promise.all([loadScript(bundle), descriptor])
      .then(function (loaded) {
        self.modeler = new window.BpmnJS({
          container: self.box,
          moddleExtensions: { zt: loaded[1] },
          additionalModules: [{ translate: ["value", zhTranslate] }]
        });
        return self.modeler.importXML(xml);
      })
      .then(function (result) {
        self.canvas = self.modeler.get("canvas");
        self.registry = self.modeler.get("elementRegistry");
        self.fit();
        self.wirePanel();
        if (self.editable) self.wireSave();
        var warnings = (result && result.warnings) || [];
        if (warnings.length) {
          self.showProblems(warnings.map(function (w) {
            return { element_id: (w.element && w.element.id) || "", message: "导入时发现无法识别的内容，保存时将丢失：" + w.message };
          }), "导入提示");
        }
        self.box.setAttribute("data-state", "ready");
      })
      .catch(function (error) {
        self.box.setAttribute("data-state", "failed");
        self.box.textContent = "流程图无法显示：" + error.message;
      });
  };

  // The whole flow in view, centred, at most 100 %, leaving the palette's strip on the left free (modeler only).
  Designer.prototype.fit = function () {
    var viewbox = this.canvas.viewbox();
    var inner = viewbox.inner;
    var outer = viewbox.outer;
    var left = this.editable ? 120 : 20;
    if (!inner.width || !inner.height) return;
    var scale = Math.min((outer.width - left - 30) / inner.width, (outer.height - 60) / inner.height, 1);
    var width = outer.width / scale;
    var height = outer.height / scale;
    var free = outer.width - left - 30 - inner.width * scale;  // screen pixels left over, split on both sides
    var x = inner.x - (left + free / 2) / scale;
    this.canvas.viewbox({ x: x, y: inner.y - (height - inner.height) / 2, width: width, height: height });
  };

  // --- properties panel ----------------------------------------------------------------------------------

  Designer.prototype.wirePanel = function () {
    var self = this;
    this.form = $("props-form");
    this.mainRow = this.newRuleRow(false);
    $("prop-assignment").appendChild(this.mainRow);
    $("props-fieldset").disabled = !this.editable;
    var eventBus = this.modeler.get("eventBus");
    eventBus.on("selection.changed", function (event) {
      var selected = event.newSelection || [];
      self.select(selected.length === 1 ? selected[0] : null);
    });
    if (!this.editable) return;
    eventBus.on("commandStack.changed", function () {
      self.dirty = true;
      if (self.writing) return;
      if (self.current && !self.registry.get(self.current.id)) self.select(null);
      else if (self.current) self.select(self.current);  // undo / redo / label edited on the canvas
    });
    this.form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.id === "prop-name") {
        self.command(function () { self.modeler.get("modeling").updateLabel(self.current, target.value.trim()); });
        return;
      }
      if (target.dataset.field === "rule") self.ruleChanged(target.closest(".rule-row"));
      self.write();
    });
    this.form.addEventListener("submit", function (event) { event.preventDefault(); });
    this.form.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove]");
      if (remove) {
        remove.closest(".rule-row").remove();
        self.write();
      }
    });
    $("prop-add-candidate").addEventListener("click", function () {
      $("prop-candidates").appendChild(self.newRuleRow(true, { rule: "duty" }));
      self.write();
    });
    $("props-to-user-task").addEventListener("click", function () {
      var replaced = self.modeler.get("bpmnReplace").replaceElement(self.current, { type: "bpmn:UserTask" });
      self.modeler.get("selection").select(replaced);
    });
    window.addEventListener("beforeunload", function (event) {
      if (self.dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  };

  Designer.prototype.command = function (fn) {
    if (!this.current || !this.editable) return;
    this.writing = true;
    try { fn(); } finally { this.writing = false; }
  };

  Designer.prototype.newRuleRow = function (candidate, data) {
    var row = $("rule-row-template").content.firstElementChild.cloneNode(true);
    var ruleSelect = row.querySelector("[data-field=rule]");
    if (candidate) {
      row.classList.add("rule-candidate");
      Array.prototype.slice.call(ruleSelect.options).forEach(function (option) {
        if (option.value === "" || option.value === "chosen") option.remove();
      });
    } else {
      row.querySelector("[data-remove]").remove();
    }
    this.fillRule(row, data || { rule: "" });
    return row;
  };

  Designer.prototype.fillRule = function (row, data) {
    row.querySelectorAll("[data-field]").forEach(function (input) {
      var value = data[input.dataset.field];
      value = value === undefined || value === null ? "" : String(value);
      if (input.tagName === "SELECT" && value !== "" &&
          !Array.prototype.some.call(input.options, function (o) { return o.value === value; })) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = "（未知）" + value;
        input.appendChild(option);
      }
      if (input.tagName === "SELECT" && value === "" && input.dataset.field !== "rule") return;  // keep the first choice
      input.value = value;
    });
    this.showRuleFields(row);
  };

  Designer.prototype.showRuleFields = function (row) {
    var rule = row.querySelector("[data-field=rule]").value;
    row.querySelectorAll("[data-for]").forEach(function (label) {
      label.hidden = label.dataset.for !== rule;
    });
    if (row === this.mainRow) $("prop-candidates-box").hidden = rule !== "chosen";
  };

  Designer.prototype.ruleChanged = function (row) {
    this.showRuleFields(row);
    if (row === this.mainRow && row.querySelector("[data-field=rule]").value === "chosen" &&
        !$("prop-candidates").children.length) {
      $("prop-candidates").appendChild(this.newRuleRow(true, { rule: "duty" }));
    }
  };

  Designer.prototype.readRule = function (row) {
    var rule = row.querySelector("[data-field=rule]").value;
    var attrs = { rule: rule };
    (RULE_FIELDS[rule] || []).forEach(function (name) {
      var value = row.querySelector("[data-field=" + name + "]").value.trim();
      if (value) attrs[name] = value;
    });
    return attrs;
  };

  Designer.prototype.select = function (element) {
    var bo = element && element.businessObject;
    var isUserTask = bo && bo.$type === "bpmn:UserTask";
    var isPlainTask = bo && bo.$type === "bpmn:Task";
    this.current = isUserTask || isPlainTask ? element : null;
    $("props-empty").hidden = Boolean(this.current);
    $("props-plain-task").hidden = !isPlainTask || !this.editable;
    if (isPlainTask) $("props-plain-task").querySelector("[data-name]").textContent = bo.name || element.id;
    this.form.hidden = !isUserTask;
    this.form.setAttribute("data-element", isUserTask ? element.id : "");
    if (isUserTask) this.fill(bo);
  };

  Designer.prototype.fill = function (bo) {
    var self = this;
    $("prop-name").value = bo.name || "";
    var assignment = findExt(bo, "zt:Assignment");
    this.fillRule(this.mainRow, assignment || { rule: "" });
    var box = $("prop-candidates");
    box.textContent = "";
    ((assignment && assignment.candidates) || []).forEach(function (candidate) {
      box.appendChild(self.newRuleRow(true, candidate));
    });
    if (!this.editable) box.querySelectorAll("[data-remove]").forEach(function (b) { b.remove(); });
    $("prop-add-candidate").hidden = !this.editable;
    var deadline = findExt(bo, "zt:Deadline");
    $("prop-deadline").value = deadline && deadline.workingDays !== undefined ? deadline.workingDays : "";
    var operations = findExt(bo, "zt:Operations");
    var allowed = ((operations && operations.allowed) || "").split(",").map(function (s) { return s.trim(); });
    this.form.querySelectorAll("input[name=op]").forEach(function (box) {
      box.checked = allowed.indexOf(box.value) !== -1;
    });
    var opinion = findExt(bo, "zt:Opinion");
    $("prop-opinion").checked = Boolean(opinion && (opinion.required === true || opinion.required === "true"));
    var form = findExt(bo, "zt:Form");
    $("prop-fields").value = (form && form.editable) || "";
  };

  Designer.prototype.write = function () {
    var self = this;
    if (!this.current || this.current.businessObject.$type !== "bpmn:UserTask") return;
    var moddle = this.modeler.get("moddle");
    var bo = this.current.businessObject;
    var values = extValues(bo).filter(function (v) { return ZT_TYPES.indexOf(v.$type) === -1; });
    var main = this.readRule(this.mainRow);
    if (main.rule) {
      if (main.rule === "chosen") {
        main.candidates = Array.prototype.map.call($("prop-candidates").children, function (row) {
          return moddle.create("zt:Candidates", self.readRule(row));
        });
      }
      values.push(moddle.create("zt:Assignment", main));
    }
    var days = $("prop-deadline").value.trim();
    if (days !== "" && !isNaN(parseInt(days, 10))) {
      values.push(moddle.create("zt:Deadline", { workingDays: parseInt(days, 10) }));
    }
    var ops = Array.prototype.filter.call(this.form.querySelectorAll("input[name=op]"), function (box) {
      return box.checked;
    }).map(function (box) { return box.value; });
    if (ops.length) values.push(moddle.create("zt:Operations", { allowed: ops.join(",") }));
    if ($("prop-opinion").checked) values.push(moddle.create("zt:Opinion", { required: true }));
    var fields = $("prop-fields").value.split(/[\s,，、]+/).filter(Boolean).join(",");
    if (fields) values.push(moddle.create("zt:Form", { editable: fields }));
    var ext;
    if (values.length) {
      ext = moddle.create("bpmn:ExtensionElements", { values: values });
      ext.$parent = bo;
      values.forEach(function (v) { v.$parent = ext; });
    }
    this.command(function () {
      self.modeler.get("modeling").updateProperties(self.current, { extensionElements: ext });
    });
  };

  // --- saving and problems -------------------------------------------------------------------------------

  Designer.prototype.wireSave = function () {
    var self = this;
    var button = $("designer-save");
    button.disabled = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      self.status("正在检查并保存…");
      self.modeler.saveXML({ format: true })
        .then(function (saved) {
          var unit = self.box.dataset.targetUnit;
          return fetch(self.box.dataset.saveUrl, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
            body: JSON.stringify({ xml: saved.xml, name: $("designer-name").value, unit: unit ? Number(unit) : null })
          });
        })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (data) {
            return { status: response.status, data: data };
          });
        })
        .then(function (result) {
          if (result.status === 201) {
            self.dirty = false;
            self.status("已保存为第 " + result.data.version + " 版（草稿）");
            window.location.assign(result.data.design_url);
            return;
          }
          var problems = result.data.problems || [];
          self.showProblems(problems, result.data.message || ("保存失败（" + result.status + "），请稍后重试"));
          self.status("未保存");
        })
        .catch(function (error) {
          self.showProblems([], "保存失败：" + error.message);
          self.status("未保存");
        })
        .then(function () { button.disabled = false; });
    });
  };

  Designer.prototype.status = function (text) {
    var el = $("designer-status");
    if (el) el.textContent = text;
  };

  Designer.prototype.showProblems = function (problems, title) {
    var self = this;
    var box = $("designer-problems");
    var list = $("designer-problems-list");
    this.registry.getAll().forEach(function (element) { self.canvas.removeMarker(element, "zt-problem"); });
    list.textContent = "";
    $("designer-problems-title").textContent = title;
    problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.className = "designer-problem";
      item.setAttribute("data-kind", problem.kind || "");
      item.textContent = problem.message;
      var ids = String(problem.element_id || "").split(",").filter(function (id) { return id && self.registry.get(id); });
      ids.forEach(function (id) { self.canvas.addMarker(id, "zt-problem"); });
      if (ids.length) {
        item.setAttribute("data-element", ids.join(","));
        var locate = document.createElement("button");
        locate.type = "button";
        locate.className = "link-button designer-locate";
        locate.textContent = "定位";
        locate.addEventListener("click", function () {
          var element = self.registry.get(ids[0]);
          if (typeof self.canvas.scrollToElement === "function") self.canvas.scrollToElement(element);
          self.modeler.get("selection").select(element);
        });
        item.appendChild(document.createTextNode(" "));
        item.appendChild(locate);
      }
      list.appendChild(item);
    });
    box.hidden = false;
  };

  function init() {
    var box = $("flow-designer");
    if (!box) return;
    var designer = new Designer(box);
    window.ztDesigner = designer;  // for the browser test and the console
    designer.start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
