// 组织机构选择器 (organisation picker) and the organisation browser's lazy tree. No framework, no inline
// script (CSP script-src 'self'). Markup comes from org/_picker.html; see docs/org-picker.md.
//
// Every `[data-org-picker]` gets: a pinyin search box (ARIA combobox + listbox, debounced, arrow keys and
// Enter), a lazily loaded tree (units → child units, departments, people), chips of the selection with
// remove buttons, an optional maximum, and a full-width sheet at phone width. The selected ids live in a
// hidden input as a comma list, so the surrounding form is an ordinary POST.
// Every `[data-org-tree]` (the browser's left column) gets expand/collapse buttons that load children.
(function () {
  "use strict";
  if (window.ZtOrgPicker) return; // loaded twice on one page

  const PHONE = window.matchMedia("(max-width: 720px)");
  const DEBOUNCE_MS = 200;
  let uid = 0;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, val] of Object.entries(attrs || {})) {
      if (val === null || val === undefined || val === false) continue;
      if (key === "className") node.className = val;
      else if (key === "text") node.textContent = val;
      else if (key === "dataset") Object.assign(node.dataset, val);
      else node.setAttribute(key, val === true ? "" : val);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child);
    }
    return node;
  }

  function nameOf(value) {
    if (!value) return "";
    return typeof value === "object" ? value.name || "" : String(value);
  }

  function idOf(value) {
    return value && typeof value === "object" ? value.id : null;
  }

  function postOf(identity) {
    // "市政府办公室 · 秘书科 · 科员"
    const parts = [nameOf(identity.unit), nameOf(identity.department), identity.title || nameOf(identity.duty)];
    return parts.filter(Boolean).join(" · ");
  }

  async function getJSON(url, signal) {
    const response = await fetch(url, {
      credentials: "same-origin", signal, headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      let message = "加载失败，请稍后重试";
      try { message = (await response.json()).message || message; } catch (err) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  }

  // ---------------------------------------------------------------------------------------------
  // The picker
  class Picker {
    constructor(root) {
      this.root = root;
      this.mode = root.dataset.mode || "people"; // units | people | identities | browse
      this.multiple = root.dataset.multiple === "true";
      this.max = parseInt(root.dataset.max || "0", 10) || (this.multiple ? 0 : 1);
      this.api = (root.dataset.api || "/api/v1/org/").replace(/\/?$/, "/");
      this.scopeUnit = root.dataset.unit || "";
      this.browseUrl = root.dataset.browseUrl || "/org/";
      this.input = root.querySelector(".org-picker-value");
      this.search = root.querySelector(".org-picker-search");
      this.results = root.querySelector(".org-picker-results");
      this.chips = root.querySelector(".org-picker-chips");
      this.status = root.querySelector(".org-picker-status");
      this.treeBox = root.querySelector(".org-picker-tree");
      this.treeToggle = root.querySelector(".org-picker-tree-toggle");
      this.count = root.querySelector(".org-picker-count");
      this.options = [];
      this.active = -1;
      this.timer = null;
      this.controller = null;
      this.treeLoaded = false;
      this.selected = new Map();
      this.readInitial();
      this.bind();
      root.classList.add("is-ready");
      this.renderChips();
    }

    readInitial() {
      const labels = new Map();
      this.chips.querySelectorAll(".org-picker-chip").forEach((chip) => {
        labels.set(chip.dataset.id, chip.dataset.label || chip.textContent.trim());
      });
      (this.input ? this.input.value : "").split(",").map((s) => s.trim()).filter(Boolean).forEach((id) => {
        this.selected.set(id, labels.get(id) || `#${id}`);
      });
    }

    bind() {
      this.search.addEventListener("input", () => this.onInput());
      this.search.addEventListener("keydown", (event) => this.onKey(event));
      this.search.addEventListener("focus", () => {
        this.open();
        if (this.options.length) this.showResults(true);
      });
      this.results.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the box
      this.results.addEventListener("click", (event) => {
        const option = event.target.closest("[role=option]");
        if (option) this.pickOption(parseInt(option.dataset.index, 10));
      });
      this.chips.addEventListener("click", (event) => {
        const remove = event.target.closest(".org-picker-remove");
        if (remove) {
          const chip = remove.closest(".org-picker-chip");
          this.unselect(chip.dataset.id);
          this.say(`已移除 ${chip.dataset.label}`);
          this.search.focus({ preventScroll: true });
        }
      });
      if (this.treeToggle) {
        this.treeToggle.addEventListener("click", () => this.toggleTree());
      }
      if (this.treeBox) {
        this.treeBox.addEventListener("click", (event) => this.onTreeClick(event));
      }
      this.root.querySelectorAll(".org-picker-done").forEach((button) => {
        button.addEventListener("click", () => this.close());
      });
      document.addEventListener("click", (event) => {
        if (!this.root.contains(event.target)) this.showResults(false);
      });
      this.root.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && this.root.classList.contains("is-open")) {
          event.preventDefault();
          if (this.results.hidden) this.close();
          else this.showResults(false);
        }
      });
      PHONE.addEventListener("change", () => this.syncSheet());
    }

    // --- sheet (phone width) -----------------------------------------------------------------
    open() {
      this.root.classList.add("is-open");
      this.syncSheet();
    }

    close() {
      this.root.classList.remove("is-open");
      this.showResults(false);
      if (this.treeBox && !this.treeBox.hidden) this.toggleTree(false);
      this.syncSheet();
      if (PHONE.matches) this.root.querySelector(".org-picker-label, .org-picker-chips")?.scrollIntoView?.({ block: "nearest" });
    }

    syncSheet() {
      const sheet = PHONE.matches && this.root.classList.contains("is-open");
      this.root.classList.toggle("is-sheet", sheet);
      document.body.classList.toggle("org-sheet-open", !!document.querySelector(".org-picker.is-sheet"));
    }

    // --- search ------------------------------------------------------------------------------
    onInput() {
      clearTimeout(this.timer);
      const query = this.search.value.trim();
      if (!query) {
        if (this.controller) this.controller.abort();
        this.options = [];
        this.renderResults();
        this.say("");
        return;
      }
      this.timer = setTimeout(() => {
        this.timer = null;
        this.runSearch(query);
      }, DEBOUNCE_MS);
    }

    async runSearch(query) {
      if (this.controller) this.controller.abort();
      this.controller = new AbortController();
      const signal = this.controller.signal;
      const params = (extra) => {
        const qs = new URLSearchParams({ q: query, limit: "20", ...extra });
        if (this.scopeUnit) qs.set("unit", this.scopeUnit);
        return qs.toString();
      };
      this.root.setAttribute("aria-busy", "true");
      try {
        let options = [];
        const wantUnits = this.mode === "units" || this.mode === "browse";
        const wantPeople = this.mode !== "units";
        // the browse box lists people first (a name is what people type most), then units
        const [peopleData, unitData] = await Promise.all([
          wantPeople ? getJSON(`${this.api}people?${params({ limit: this.mode === "browse" ? "8" : "20" })}`, signal) : null,
          wantUnits ? getJSON(`${this.api}units?${params({ limit: this.mode === "browse" ? "5" : "20" })}`, signal) : null,
        ]);
        for (const person of peopleData ? peopleData.items : []) {
          if (this.mode === "identities") {
            for (const identity of person.identities || []) options.push(this.identityOption(person, identity));
          } else {
            options.push(this.personOption(person));
          }
        }
        if (unitData) options = options.concat(unitData.items.map((unit) => this.unitOption(unit)));
        if (this.search.value.trim() !== query) return; // typed on meanwhile
        this.options = options;
        this.active = options.length ? 0 : -1;
        this.renderResults();
        this.say(options.length ? `找到 ${options.length} 项，上下键选择，回车确认` : `没有找到“${query}”`);
      } catch (err) {
        if (err.name === "AbortError") return;
        this.options = [];
        this.renderResults();
        this.say(err.message);
      } finally {
        this.root.removeAttribute("aria-busy");
      }
    }

    unitOption(unit) {
      const sub = [unit.short_name && unit.short_name !== unit.name ? unit.short_name : "", nameOf(unit.region)]
        .filter(Boolean).join(" · ");
      return { kind: "unit", id: String(unit.id), label: unit.name, chip: unit.name, sub,
        href: `${this.browseUrl}?unit=${unit.id}` };
    }

    personOption(person) {
      const identities = person.identities || [];
      const main = identities.find((i) => i.main) || identities[0];
      let sub = main ? postOf(main) : "";
      if (identities.length > 1) sub += `（另有 ${identities.length - 1} 个身份）`;
      const unitId = main ? idOf(main.unit) : null;
      return { kind: "person", id: String(person.id), label: person.name, chip: person.name, sub,
        href: `${this.browseUrl}?${unitId ? `unit=${unitId}&` : ""}person=${person.id}#person-${person.id}` };
    }

    identityOption(person, identity) {
      const where = nameOf(identity.department) || nameOf(identity.unit);
      return { kind: "identity", id: String(identity.id), label: person.name, sub: postOf(identity),
        chip: `${person.name}（${where}${identity.title ? " " + identity.title : ""}）` };
    }

    renderResults() {
      this.results.replaceChildren();
      let group = "";
      this.options.forEach((option, index) => {
        if (this.mode === "browse" && option.kind !== group) {
          group = option.kind;
          this.results.append(el("li", { role: "presentation", className: "org-picker-group",
            text: group === "unit" ? "单位" : "人员" }));
        }
        const selected = this.selected.has(option.id) && this.mode !== "browse";
        const li = el("li", {
          role: "option", id: `${this.results.id}-${index}`, className: "org-picker-option",
          "aria-selected": index === this.active ? "true" : "false",
          dataset: { index: String(index), id: option.id, kind: option.kind },
        },
        el("span", { className: "org-option-main" },
          el("span", { className: "org-option-name", text: option.label }),
          selected ? el("span", { className: "org-option-check", text: "已选" }) : null),
        option.sub ? el("span", { className: "org-option-sub", text: option.sub }) : null);
        if (selected) li.classList.add("is-picked");
        this.results.append(li);
      });
      this.showResults(this.options.length > 0);
      this.updateActive();
    }

    showResults(show) {
      this.results.hidden = !show;
      this.search.setAttribute("aria-expanded", show ? "true" : "false");
      if (!show) this.search.removeAttribute("aria-activedescendant");
    }

    updateActive() {
      this.results.querySelectorAll("[role=option]").forEach((li, index) => {
        li.setAttribute("aria-selected", index === this.active ? "true" : "false");
        li.classList.toggle("is-active", index === this.active);
      });
      const current = this.active >= 0 ? document.getElementById(`${this.results.id}-${this.active}`) : null;
      if (current && !this.results.hidden) {
        this.search.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({ block: "nearest" });
      } else {
        this.search.removeAttribute("aria-activedescendant");
      }
    }

    onKey(event) {
      const count = this.options.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!count) return;
        event.preventDefault();
        if (this.results.hidden) { this.showResults(true); }
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.active = (this.active + step + count) % count;
        this.updateActive();
      } else if (event.key === "Enter") {
        // Enter never submits the surrounding form from the search box.
        event.preventDefault();
        if (this.timer && this.search.value.trim()) {
          // typed faster than the debounce: search now instead of waiting
          clearTimeout(this.timer);
          this.timer = null;
          this.runSearch(this.search.value.trim());
          return;
        }
        if (!this.results.hidden && this.active >= 0) this.pickOption(this.active);
      } else if (event.key === "Backspace" && !this.search.value && this.selected.size && this.mode !== "browse") {
        const last = Array.from(this.selected.keys()).pop();
        const label = this.selected.get(last);
        this.unselect(last);
        this.say(`已移除 ${label}`);
      }
    }

    pickOption(index) {
      const option = this.options[index];
      if (!option) return;
      this.active = index;
      if (this.mode === "browse") {
        window.location.assign(option.href);
        return;
      }
      this.toggle(option.id, option.chip);
      this.renderResults();
    }

    // --- selection ---------------------------------------------------------------------------
    toggle(id, label) {
      if (this.selected.has(id)) {
        this.unselect(id);
        this.say(`已移除 ${label}`);
        return;
      }
      this.select(id, label);
    }

    select(id, label) {
      if (!this.multiple) {
        this.selected.clear();
      } else if (this.max && this.selected.size >= this.max) {
        this.say(`最多只能选择 ${this.max} 项`, true);
        return;
      }
      this.selected.set(id, label);
      this.changed();
      this.say(`已选择 ${label}`);
      if (!this.multiple) {
        this.search.value = "";
        this.options = [];
        this.renderResults();
        if (this.root.classList.contains("is-sheet")) this.close();
      }
    }

    unselect(id) {
      if (this.selected.delete(id)) this.changed();
    }

    changed() {
      this.input.value = Array.from(this.selected.keys()).join(",");
      this.renderChips();
      this.syncTreeButtons();
      this.input.dispatchEvent(new Event("change", { bubbles: true }));
      this.root.dispatchEvent(new CustomEvent("org-picker:change", {
        bubbles: true,
        detail: { ids: Array.from(this.selected.keys()), labels: Array.from(this.selected.values()) },
      }));
    }

    renderChips() {
      if (this.mode === "browse") return;
      this.chips.replaceChildren();
      for (const [id, label] of this.selected) {
        this.chips.append(el("li", { className: "org-picker-chip", dataset: { id, label } },
          el("span", { className: "org-chip-label", text: label }),
          el("button", { type: "button", className: "org-picker-remove", "aria-label": `移除 ${label}`, title: "移除" }, "×")));
      }
      this.chips.hidden = this.selected.size === 0;
      const text = this.selected.size ? `已选 ${this.selected.size}${this.max > 1 ? ` / ${this.max}` : ""} 项` : "未选择";
      if (this.count) this.count.textContent = text;
      this.root.classList.toggle("has-selection", this.selected.size > 0);
    }

    say(text, warn) {
      if (!this.status) return;
      this.status.textContent = text;
      this.status.classList.toggle("is-warning", !!warn);
    }

    // --- tree --------------------------------------------------------------------------------
    toggleTree(force) {
      if (!this.treeBox) return;
      const show = typeof force === "boolean" ? force : this.treeBox.hidden;
      this.treeBox.hidden = !show;
      this.treeToggle.setAttribute("aria-expanded", show ? "true" : "false");
      if (show) {
        this.open();
        this.showResults(false);
        if (!this.treeLoaded) {
          this.treeLoaded = true;
          const rootList = el("ul", { className: "org-tree-list" });
          this.treeBox.replaceChildren(rootList);
          this.loadInto(rootList, this.scopeUnit || "0", true);
        }
      }
    }

    async loadInto(list, unitId, isRoot) {
      list.replaceChildren(el("li", { className: "org-tree-loading muted", text: "加载中…" }));
      let data;
      try {
        data = await getJSON(`${this.api}units/${unitId}/children`);
      } catch (err) {
        list.replaceChildren(el("li", { className: "org-tree-error", text: err.message }));
        return;
      }
      list.replaceChildren();
      if (isRoot && this.mode === "units" && data.unit) {
        // a scoped picker may choose the scope unit itself
        list.append(this.unitNode({ ...data.unit, has_children: false }));
      }
      for (const unit of data.units || []) list.append(this.unitNode(unit));
      if (this.mode !== "units") {
        const byDept = new Map();
        const loose = [];
        for (const identity of data.identities || []) {
          const key = idOf(identity.department) ?? nameOf(identity.department);
          if (key === null || key === "") loose.push(identity);
          else {
            if (!byDept.has(String(key))) byDept.set(String(key), []);
            byDept.get(String(key)).push(identity);
          }
        }
        const unitName = data.unit ? data.unit.name : "";
        for (const identity of loose) list.append(this.leafNode(identity, unitName));
        for (const dept of data.departments || []) {
          const members = byDept.get(String(dept.id)) || byDept.get(dept.name) || [];
          list.append(this.deptNode(dept, members, unitName));
        }
      }
      if (!list.children.length) list.append(el("li", { className: "org-tree-empty muted", text: "（无下级）" }));
      this.syncTreeButtons();
    }

    unitNode(unit) {
      const li = el("li", { className: "org-tree-node", dataset: { unitId: String(unit.id) } });
      const row = el("div", { className: "org-tree-row" });
      const expandable = unit.has_children !== false || this.mode !== "units";
      if (expandable) {
        row.append(el("button", { type: "button", className: "org-twisty", "aria-expanded": "false",
          "aria-label": `展开 ${unit.name}`, dataset: { expand: String(unit.id) } }));
      } else {
        row.append(el("span", { className: "org-twisty-space", "aria-hidden": "true" }));
      }
      if (this.mode === "units") {
        row.append(el("button", { type: "button", className: "org-tree-pick", "aria-pressed": "false",
          dataset: { pickId: String(unit.id), pickLabel: unit.name } }, el("span", { text: unit.name })));
      } else {
        row.append(el("span", { className: "org-tree-label", text: unit.name }));
      }
      li.append(row, el("ul", { className: "org-tree-children", hidden: true }));
      return li;
    }

    deptNode(dept, members, unitName) {
      const li = el("li", { className: "org-tree-node is-dept" });
      const row = el("div", { className: "org-tree-row" },
        el("button", { type: "button", className: "org-twisty", "aria-expanded": "false",
          "aria-label": `展开 ${dept.name}`, dataset: { local: "1" } }),
        el("span", { className: "org-tree-label", text: dept.name }),
        el("span", { className: "org-tree-meta", text: `${members.length} 人` }));
      const children = el("ul", { className: "org-tree-children", hidden: true });
      for (const identity of members) children.append(this.leafNode(identity, unitName));
      if (!members.length) children.append(el("li", { className: "org-tree-empty muted", text: "（无人员）" }));
      li.append(row, children);
      return li;
    }

    leafNode(identity, unitName) {
      const id = String(this.mode === "people" ? identity.person_id : identity.id);
      const where = [nameOf(identity.department) || unitName, identity.title].filter(Boolean).join(" ");
      const label = this.mode === "identities" && where ? `${identity.name}（${where}）` : identity.name;
      const post = identity.title || nameOf(identity.duty);
      return el("li", { className: "org-tree-leaf" },
        el("button", { type: "button", className: "org-tree-pick", "aria-pressed": "false",
          dataset: { pickId: id, pickLabel: label } },
        el("span", { className: "org-tree-person", text: identity.name }),
        post ? el("span", { className: "org-tree-meta", text: post }) : null));
    }

    onTreeClick(event) {
      let twisty = event.target.closest(".org-twisty");
      if (!twisty && event.target.closest(".org-tree-label")) {
        // the name of a unit or department opens it too (a bigger target than the arrow)
        twisty = event.target.closest(".org-tree-row").querySelector(".org-twisty");
      }
      if (twisty) {
        const node = twisty.closest("li");
        const children = node.querySelector(":scope > .org-tree-children");
        const expand = twisty.getAttribute("aria-expanded") !== "true";
        twisty.setAttribute("aria-expanded", expand ? "true" : "false");
        twisty.setAttribute("aria-label", `${expand ? "收起" : "展开"} ${twisty.getAttribute("aria-label").slice(3)}`);
        children.hidden = !expand;
        if (expand && twisty.dataset.expand && !node.dataset.loaded) {
          node.dataset.loaded = "1";
          this.loadInto(children, twisty.dataset.expand, false);
        }
        return;
      }
      const pick = event.target.closest(".org-tree-pick");
      if (pick) this.toggle(pick.dataset.pickId, pick.dataset.pickLabel);
    }

    syncTreeButtons() {
      if (!this.treeBox) return;
      this.treeBox.querySelectorAll(".org-tree-pick").forEach((button) => {
        button.setAttribute("aria-pressed", this.selected.has(button.dataset.pickId) ? "true" : "false");
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The browser's tree: server-rendered links (works without script); here each unit with children
  // gets a button that loads them from the API, so the whole city can be walked without reloading.
  function enhanceTree(tree) {
    const api = (tree.dataset.api || "/api/v1/org/").replace(/\/?$/, "/");
    const href = tree.dataset.browseUrl || "/org/";
    const current = tree.dataset.current || "";

    function node(unit) {
      const li = el("li", { className: "org-tree-node", dataset: { unitId: String(unit.id),
        hasChildren: unit.has_children ? "1" : "" } });
      const link = el("a", { href: `${href}?unit=${unit.id}`, className: "org-tree-link", text: unit.name });
      if (String(unit.id) === current) link.setAttribute("aria-current", "page");
      li.append(el("div", { className: "org-tree-row" }, link));
      addTwisty(li);
      return li;
    }

    function addTwisty(li) {
      const row = li.querySelector(":scope > .org-tree-row");
      if (row.querySelector(".org-twisty, .org-twisty-space")) return;
      if (!li.dataset.hasChildren) {
        row.prepend(el("span", { className: "org-twisty-space", "aria-hidden": "true" }));
        return;
      }
      const name = row.querySelector("a").textContent;
      const open = !!li.querySelector(":scope > .org-tree-children:not([hidden])");
      row.prepend(el("button", { type: "button", className: "org-twisty", "aria-expanded": open ? "true" : "false",
        "aria-label": `${open ? "收起" : "展开"} ${name}` }));
      if (open) li.dataset.loaded = "1";
    }

    async function load(li) {
      let list = li.querySelector(":scope > .org-tree-children");
      if (!list) {
        list = el("ul", { className: "org-tree-children" });
        li.append(list);
      }
      list.replaceChildren(el("li", { className: "org-tree-loading muted", text: "加载中…" }));
      try {
        const data = await getJSON(`${api}units/${li.dataset.unitId}/children`);
        list.replaceChildren(...(data.units || []).map(node));
        if (!list.children.length) list.append(el("li", { className: "org-tree-empty muted", text: "（无下级单位）" }));
      } catch (err) {
        delete li.dataset.loaded;
        list.replaceChildren(el("li", { className: "org-tree-error", text: err.message }));
      }
    }

    tree.querySelectorAll("li.org-tree-node").forEach(addTwisty);
    tree.addEventListener("click", (event) => {
      const twisty = event.target.closest(".org-twisty");
      if (!twisty) return;
      const li = twisty.closest("li");
      const name = li.querySelector(":scope > .org-tree-row a").textContent;
      const expand = twisty.getAttribute("aria-expanded") !== "true";
      twisty.setAttribute("aria-expanded", expand ? "true" : "false");
      twisty.setAttribute("aria-label", `${expand ? "收起" : "展开"} ${name}`);
      const list = li.querySelector(":scope > .org-tree-children");
      if (list) list.hidden = !expand;
      if (expand && !li.dataset.loaded) {
        li.dataset.loaded = "1";
        load(li);
      }
    });
    tree.classList.add("is-ready");
  }

  function init(scope) {
    (scope || document).querySelectorAll("[data-org-picker]:not(.is-ready)").forEach((root) => {
      root.orgPicker = new Picker(root);
    });
    (scope || document).querySelectorAll("[data-org-tree]:not(.is-ready)").forEach(enhanceTree);
  }

  window.ZtOrgPicker = { init, Picker };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => init());
  else init();
  // pickers inside fragments swapped in by HTMX
  document.addEventListener("htmx:afterSettle", (event) => init(event.target));
})();
