// The body editor (documents/_editor.html): a contenteditable area whose blocks are <p> and <h1>–<h4> (the 公文
// heading levels). The server sanitizes whatever arrives (documents.body.sanitize_html); this only keeps the
// structure pleasant to edit. Without JavaScript the textarea is edited directly.
(function () {
  "use strict";
  const BLOCKS = ["P", "H1", "H2", "H3", "H4"];

  function paragraphsFromText(text) {
    return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
      const p = document.createElement(/^[一二三四五六七八九十]+、/.test(line) ? "h1"
        : /^[（(][一二三四五六七八九十]+[)）]/.test(line) ? "h2"
        : /^\d{1,3}[.．](?!\d)/.test(line) ? "h3"
        : /^[（(]\d{1,3}[)）]/.test(line) ? "h4" : "p");
      p.textContent = line;
      return p;
    });
  }

  function currentBlock(area) {
    const selection = window.getSelection();
    if (!selection.rangeCount) return null;
    let node = selection.getRangeAt(0).startContainer;
    while (node && node !== area) {
      if (node.nodeType === 1 && BLOCKS.includes(node.tagName)) return node;
      node = node.parentNode;
    }
    return null;
  }

  function setup(root) {
    const area = root.querySelector(".doc-editor-area");
    const source = root.querySelector(".doc-editor-source");
    const toolbar = root.querySelector(".doc-editor-toolbar");
    area.innerHTML = source.value || "<p><br></p>";
    area.hidden = false;
    toolbar.hidden = false;
    source.hidden = true;
    const sync = () => { source.value = area.innerHTML; };
    area.addEventListener("input", sync);
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-block]");
      if (!button) return;
      const block = currentBlock(area);
      if (!block) return;
      const replacement = document.createElement(button.dataset.block);
      replacement.innerHTML = block.innerHTML;
      block.replaceWith(replacement);
      sync();
      area.focus();
    });
    area.addEventListener("paste", (event) => {
      event.preventDefault();
      const text = (event.clipboardData || window.clipboardData).getData("text/plain");
      const nodes = paragraphsFromText(text);
      const block = currentBlock(area);
      if (block && nodes.length) {
        let after = block;
        nodes.forEach((node) => { after.after(node); after = node; });
        if (!block.textContent.trim()) block.remove();
      } else {
        nodes.forEach((node) => area.appendChild(node));
      }
      sync();
    });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        // a new paragraph is always body text, whatever the heading above it
        setTimeout(() => {
          const block = currentBlock(area);
          if (block && block.tagName !== "P" && !block.textContent.trim()) {
            const p = document.createElement("p");
            p.innerHTML = "<br>";
            block.replaceWith(p);
            const range = document.createRange();
            range.setStart(p, 0);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
          }
          sync();
        });
      }
    });
    const form = root.closest("form");
    if (form) form.addEventListener("submit", sync);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-doc-editor]").forEach(setup);
  });
})();
