// Small behaviours shared by every page. No inline scripts anywhere (CSP script-src 'self').
document.addEventListener("click", (event) => {
  const confirmable = event.target.closest("[data-confirm]");
  if (confirmable && !window.confirm(confirmable.dataset.confirm)) {
    event.preventDefault();
  }
});
