// The body editor (documents/_editor.html): a contenteditable area of paragraphs, each body text or one of the four
// 公文 heading levels (a data-level attribute while editing, <h1>–<h4> in what is submitted). The server sanitizes
// whatever arrives (documents.body.sanitize_html); this only keeps the structure pleasant to edit. Without
// JavaScript the textarea is edited directly.
(function () {
  "use strict";
  const LEVELS = { H1: "1", H2: "2", H3: "3", H4: "4" };

  function levelOf(line) {
    if (/^[一二三四五六七八九十]+、/.test(line)) return "1";
    if (/^[（(][一二三四五六七八九十]+[)）]/.test(line)) return "2";
    if (/^\d{1,3}[.．](?!\d)/.test(line)) return "3";
    if (/^[（(]\d{1,3}[)）]/.test(line)) return "4";
    return "";
  }

  function paragraph(text, level) {
    const p = document.createElement("p");
    p.textContent = text;
    if (level) p.dataset.level = level;
    return p;
  }

  function toEditing(html) {
    const holder = document.createElement("div");
    holder.innerHTML = html || "";
    const out = document.createElement("div");
    holder.childNodes.forEach((node) => {
      if (node.nodeType !== 1) return;
      const p = document.createElement("p");
      p.innerHTML = node.innerHTML;
      if (LEVELS[node.tagName]) p.dataset.level = LEVELS[node.tagName];
      out.appendChild(p);
    });
    return out.innerHTML || "<p><br></p>";
  }

  function fromEditing(area) {
    const out = document.createElement("div");
    area.querySelectorAll(":scope > p, :scope > div").forEach((block) => {
      const level = block.dataset.level;
      const node = document.createElement(level ? "h" + level : "p");
      node.innerHTML = block.innerHTML;
      out.appendChild(node);
    });
    return out.innerHTML;
  }

  function currentBlock(area) {
    const selection = window.getSelection();
    if (!selection.rangeCount) return null;
    let node = selection.getRangeAt(0).startContainer;
    while (node && node.parentNode !== area) node = node.parentNode;
    return node && node.nodeType === 1 ? node : null;
  }

  function setup(root) {
    const area = root.querySelector(".doc-editor-area");
    const source = root.querySelector(".doc-editor-source");
    const toolbar = root.querySelector(".doc-editor-toolbar");
    area.innerHTML = toEditing(source.value);
    area.hidden = false;
    toolbar.hidden = false;
    source.hidden = true;
    const sync = () => { source.value = fromEditing(area); };
    area.addEventListener("input", (event) => {
      if (event.inputType === "insertParagraph") {  // a new paragraph after a heading is body text
        const block = currentBlock(area);
        if (block && block.dataset.level && !block.textContent.trim()) delete block.dataset.level;
      }
      sync();
    });
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-level]");
      if (!button) return;
      const block = currentBlock(area);
      if (!block) return;
      if (button.dataset.level === "0") delete block.dataset.level;
      else block.dataset.level = button.dataset.level;
      sync();
      area.focus();
    });
    area.addEventListener("paste", (event) => {
      event.preventDefault();
      const text = (event.clipboardData || window.clipboardData).getData("text/plain");
      const nodes = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map((l) => paragraph(l, levelOf(l)));
      const block = currentBlock(area);
      let after = block;
      nodes.forEach((node) => {
        if (after) { after.after(node); } else { area.appendChild(node); }
        after = node;
      });
      if (block && !block.textContent.trim() && nodes.length) block.remove();
      sync();
    });
    const form = root.closest("form");
    if (form) form.addEventListener("submit", sync);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-doc-editor]").forEach(setup);
  });
})();
