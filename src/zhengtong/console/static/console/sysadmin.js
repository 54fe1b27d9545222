// 系统管理员 console, calendar page: choosing a day in the month grids fills the "录入或修改一天" form.
(function () {
  function choose(cell) {
    const form = document.getElementById("set-day");
    if (!form) return;
    form.querySelector("#id_date").value = cell.dataset.date;
    const kind = cell.dataset.kind === "holiday" || cell.dataset.kind === "weekend" ? "workday" : "holiday";
    // suggest the opposite of what the day is now; an entered day keeps its own values
    form.querySelector("#id_kind").value = cell.dataset.override ? cell.dataset.overrideKind : kind;
    form.querySelector("#id_name").value = cell.dataset.name || "";
    form.scrollIntoView({ behavior: "smooth", block: "start" });
    form.querySelector("#id_name").focus({ preventScroll: true });
  }
  document.addEventListener("click", (event) => {
    const cell = event.target.closest("td.day[data-date]");
    if (cell) choose(cell);
  });
  document.addEventListener("keydown", (event) => {
    const cell = event.target.closest && event.target.closest("td.day[data-date]");
    if (cell && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      choose(cell);
    }
  });
})();
