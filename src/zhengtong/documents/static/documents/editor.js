// The body editor (documents/_editor.html): a contenteditable area whose blocks are <p> (正文) and <h1>–<h4>, the four
// 公文 heading levels of GB/T 9704 (一、 （一） 1. （1）). Styles are applied with the browser's own editing commands
// so that Ctrl+Z / Ctrl+Y (and the 撤销/重做 buttons) undo them like typing. Pasted content arrives as plain paragraphs,
// headings recognised by their numbering. The textarea always holds the structure as HTML; the server sanitizes it
// again (documents.body.sanitize_html). Without JavaScript the textarea itself is edited.
// The headings stay real <h1>–<h4> while editing, so a screen reader lists them and jumps between them inside the
// 正文 textbox, at the level the toolbar names (一级标题 = level 1); keep them so (test_editor_browser.outline).
(function () {
  "use strict";
  const INLINE = { STRONG: "strong", B: "strong", EM: "em", I: "em", U: "u" };
  const SKIP = /^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|IFRAME|OBJECT|EMBED|SVG|MATH|IMG|VIDEO|AUDIO|CANVAS|HEAD|TITLE|META|LINK|BUTTON|INPUT|SELECT|TEXTAREA)$/;
  const BLOCK = /^(P|DIV|H[1-6]|LI|UL|OL|DL|DT|DD|BLOCKQUOTE|SECTION|ARTICLE|HEADER|FOOTER|ASIDE|MAIN|NAV|PRE|ADDRESS|FIGURE|FIGCAPTION|TABLE|CAPTION|THEAD|TBODY|TFOOT|TR|TD|TH|HR|FORM|FIELDSET|CENTER)$/;

  function levelOf(text) {
    if (/^[一二三四五六七八九十百]+、/.test(text)) return 1;
    if (/^[（(][一二三四五六七八九十百]+[)）]/.test(text)) return 2;
    if (/^[0-9０-９]{1,3}[.．](?![0-9０-９])/.test(text)) return 3;
    if (/^[（(][0-9０-９]{1,3}[)）]/.test(text)) return 4;
    return 0;
  }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function tagOf(level) {
    return level ? "h" + level : "p";
  }

  // The blocks under `root`, whatever markup the browser or a paste left there: [{level, html, text}]. Only text and
  // <strong>/<em>/<u> survive inside a block; any other block element ends one; scripts and the like are dropped.
  function collect(root) {
    const out = [];
    let pending = null;
    const flush = () => {
      if (pending && pending.text.trim()) out.push({ level: pending.level, html: pending.html.trim(), text: pending.text.trim() });
      pending = null;
    };
    const inline = (node) => {
      let html = "";
      let text = "";
      node.childNodes.forEach((child) => {
        if (child.nodeType === 3) {
          const t = child.data.replace(/[ \t\r\n\u00a0]+/g, " ");
          html += escapeHtml(t);
          text += t;
        } else if (child.nodeType === 1 && !SKIP.test(child.tagName)) {
          const inner = inline(child);
          const tag = INLINE[child.tagName];
          html += tag && inner.text.trim() ? "<" + tag + ">" + inner.html + "</" + tag + ">" : inner.html;
          text += inner.text;
        }
      });
      return { html, text };
    };
    const walk = (node, level) => {
      node.childNodes.forEach((child) => {
        if (child.nodeType === 3) {
          pending = pending || { level, html: "", text: "" };
          const t = child.data.replace(/[ \t\r\n\u00a0]+/g, " ");
          pending.html += escapeHtml(t);
          pending.text += t;
          return;
        }
        if (child.nodeType !== 1 || SKIP.test(child.tagName)) return;
        const tag = child.tagName;
        if (tag === "BR") {
          flush();
        } else if (BLOCK.test(tag)) {
          flush();
          walk(child, /^H[1-4]$/.test(tag) ? Number(tag[1]) : 0);
          flush();
        } else {
          pending = pending || { level, html: "", text: "" };
          const inner = inline(child);
          const inlineTag = INLINE[tag];
          pending.html += inlineTag && inner.text.trim() ? "<" + inlineTag + ">" + inner.html + "</" + inlineTag + ">" : inner.html;
          pending.text += inner.text;
        }
      });
    };
    walk(root, 0);
    flush();
    return out;
  }

  function toHtml(blocks) {
    return blocks.map((b) => "<" + tagOf(b.level) + ">" + b.html + "</" + tagOf(b.level) + ">").join("");
  }

  // Parsed in an inert document: nothing in it runs or loads. Event-handler and style attributes and <style> elements
  // are renamed first only so that parsing them does not log a (harmless, blocked) CSP violation each.
  function parse(html) {
    let text = (html || "").replace(/<(\/?)style\b/gi, "<$1template");
    for (let before = ""; before !== text;) {
      before = text;
      text = text.replace(/(<[a-z][^>]*?[\s/"'])(on[a-z]+|style)(?=\s*=)/gi, "$1data-x-$2");
    }
    return new DOMParser().parseFromString(text, "text/html").body;
  }

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "1";
    const area = root.querySelector(".doc-editor-area");
    const source = root.querySelector(".doc-editor-source");
    const toolbar = root.querySelector(".doc-editor-toolbar");
    const levelButtons = Array.from(toolbar.querySelectorAll("button[data-level]"));
    let saved = null;  // the last selection inside the area, for a toolbar used after the caret left it

    area.innerHTML = toHtml(collect(parse(source.value))) || "<p><br></p>";
    area.hidden = false;
    toolbar.hidden = false;
    source.hidden = true;
    document.execCommand("defaultParagraphSeparator", false, "p");
    document.execCommand("styleWithCSS", false, false);  // no style attributes (the CSP refuses inline styles)

    const sync = () => {
      source.value = toHtml(collect(area));
    };
    const currentBlock = () => {
      const selection = window.getSelection();
      if (!selection.rangeCount) return null;
      let node = selection.getRangeAt(0).startContainer;
      if (!area.contains(node)) return null;
      while (node && node.parentNode !== area) node = node.parentNode;
      return node && node.nodeType === 1 ? node : null;
    };
    const showLevel = () => {
      const block = currentBlock();
      const level = block && /^H[1-4]$/.test(block.tagName) ? block.tagName[1] : "0";
      levelButtons.forEach((b) => b.setAttribute("aria-pressed", String(Boolean(block) && b.dataset.level === level)));
    };
    const restoreSelection = () => {
      const selection = window.getSelection();
      const inside = selection.rangeCount && area.contains(selection.getRangeAt(0).startContainer);
      area.focus();
      if (!inside && saved) {
        selection.removeAllRanges();
        selection.addRange(saved);
      }
    };

    document.addEventListener("selectionchange", () => {
      const selection = window.getSelection();
      if (selection.rangeCount && area.contains(selection.getRangeAt(0).startContainer)) {
        saved = selection.getRangeAt(0).cloneRange();
        showLevel();
      }
    });
    area.addEventListener("input", () => {
      if (!area.firstElementChild) document.execCommand("formatBlock", false, "p");  // never bare text at the top
      sync();
    });
    // Keep the caret in the area when a toolbar button is pressed with the mouse or a finger.
    toolbar.addEventListener("mousedown", (event) => {
      if (event.target.closest("button")) event.preventDefault();
    });
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      restoreSelection();
      if (button.dataset.level !== undefined) {
        document.execCommand("formatBlock", false, tagOf(Number(button.dataset.level)));
      } else if (button.dataset.command === "undo" || button.dataset.command === "redo") {
        document.execCommand(button.dataset.command);
      }
      sync();
      showLevel();
    });
    area.addEventListener("paste", (event) => {
      event.preventDefault();
      const data = event.clipboardData || window.clipboardData;
      const plain = data.getData("text/plain");  // Word, WPS and browsers all offer it: a line per paragraph
      const lines = plain ? plain.split(/\r?\n/) : collect(parse(data.getData("text/html"))).map((b) => b.text);
      const texts = lines.map((l) => l.replace(/[\s\u00a0\u3000]+/g, " ").trim()).filter(Boolean);
      if (texts.length === 1) {
        document.execCommand("insertText", false, texts[0]);
      } else if (texts.length > 1) {
        const blocks = texts.map((t) => ({ level: levelOf(t), html: escapeHtml(t) }));
        document.execCommand("insertHTML", false, toHtml(blocks));
      }
      sync();
    });
    area.addEventListener("drop", (event) => event.preventDefault());  // dropped files or markup: paste instead
    const form = root.closest("form");
    if (form) form.addEventListener("submit", sync);
    sync();
  }

  function start() {
    document.querySelectorAll("[data-doc-editor]").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
