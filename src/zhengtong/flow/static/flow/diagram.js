/* The task page's read-only flow diagram (bpmn-js navigated viewer): current node(s) marked zt-current,
   nodes already handled zt-done. Data: the BPMN XML in a json_script element, ids in data- attributes. */
(function () {
  "use strict";

  function ids(value) {
    try { return JSON.parse(value || "[]"); } catch (e) { return []; }
  }

  function init() {
    var box = document.getElementById("flow-diagram");
    var source = document.getElementById("flow-diagram-xml");
    if (!box || !source || typeof window.BpmnJS !== "function") return;
    var viewer = new window.BpmnJS({ container: box });
    viewer.importXML(JSON.parse(source.textContent))
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        ids(box.dataset.done).forEach(function (id) { if (registry.get(id)) canvas.addMarker(id, "zt-done"); });
        var current = ids(box.dataset.current).filter(function (id) { return registry.get(id); });
        current.forEach(function (id) { canvas.addMarker(id, "zt-current"); });
        // a narrow screen: readable size around the current node instead of the whole flow in miniature
        // (a finished flow has no current node: it stays whole, to show where it went)
        if (current.length && box.clientWidth < 600 && canvas.zoom() < 0.7) {
          canvas.zoom(0.7);
          if (typeof canvas.scrollToElement === "function") {
            canvas.scrollToElement(registry.get(current[0]), { top: 60, bottom: 60, left: 120, right: 120 });
          }
        }
        box.setAttribute("data-state", "ready");
      })
      .catch(function () {
        box.setAttribute("data-state", "failed");
        box.textContent = "流程图无法显示";
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
