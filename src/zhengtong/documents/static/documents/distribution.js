// 分发名单 on the drafting form: choose a list (各县区人民政府, 市直各部门, the unit's own) and add its units to the
// 主送 or 抄送 picker in one step. The lists come from GET /api/v1/exchange/distribution-lists (the session
// authenticates it); the pickers are org/picker.js instances (element.orgPicker).
(function () {
  "use strict";

  function picker(name) {
    const box = document.getElementById("picker-" + name + "-box");
    return box && box.orgPicker;
  }

  async function setUp(root) {
    const select = root.querySelector("select");
    const status = root.querySelector(".doc-lists-status");
    let lists = [];
    try {
      const response = await fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      lists = await response.json();
    } catch (error) {
      status.textContent = "分发名单暂时无法读取";
      return;
    }
    lists.forEach((list, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = `${list.name}（${list.units.length} 个单位）`;
      select.appendChild(option);
    });
    root.hidden = lists.length === 0;
    root.querySelectorAll("button[data-target]").forEach((button) => {
      button.addEventListener("click", () => {
        const list = lists[Number(select.value)];
        const target = picker(button.dataset.target);
        if (!list || !target) return;
        const before = target.selected.size;
        list.units.forEach((unit) => target.select(String(unit.id), unit.name));
        const added = target.selected.size - before;
        status.textContent = `已将“${list.name}”中的 ${added} 个单位加入${button.textContent.replace("加入", "")}`;
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-distribution-lists]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
