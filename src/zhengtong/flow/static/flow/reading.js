// 待阅 box: the "全选" checkbox ticks every row's checkbox; the 标为已阅 button is enabled only when a row is
// ticked and says how many. No inline script (CSP).
(function () {
  "use strict";
  function update(form) {
    const boxes = form.querySelectorAll("input[name=ids]");
    const ticked = form.querySelectorAll("input[name=ids]:checked").length;
    const all = form.querySelector("input[data-select-all]");
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    const button = form.querySelector("button[data-mark-read]");
    if (button) {
      button.disabled = ticked === 0;
      button.textContent = ticked ? `标为已阅（${ticked}）` : "标为已阅";
    }
  }
  function init() {
    document.querySelectorAll("form[data-read-batch]").forEach((form) => {
      form.addEventListener("change", (event) => {
        if (event.target.matches("input[data-select-all]")) {
          form.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = event.target.checked; });
        }
        update(form);
      });
      update(form);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
