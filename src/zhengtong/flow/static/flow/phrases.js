// 常用语: a click on a phrase button inserts its text into the opinion textarea named by the group's
// data-phrase-target (at the cursor, or at the end), then puts the cursor after it. No inline script (CSP).
(function () {
  "use strict";
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-phrase]");
    if (!button) return;
    const group = button.closest("[data-phrase-target]");
    const area = group && document.getElementById(group.dataset.phraseTarget);
    if (!area) return;
    event.preventDefault();
    const text = button.dataset.phrase;
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    const max = area.maxLength > 0 ? area.maxLength : Infinity;
    const value = area.value.slice(0, start) + text + area.value.slice(end);
    if (value.length > max) return;
    area.value = value;
    area.focus();
    area.setSelectionRange(start + text.length, start + text.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
