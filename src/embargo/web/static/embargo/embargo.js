// Progressive enhancement only: every page works without this file.
// Shows times in the viewer's own time zone (the server writes UTC).
document.querySelectorAll("time[datetime]").forEach(function (el) {
  var d = new Date(el.getAttribute("datetime"));
  if (!isNaN(d)) {
    el.title = el.textContent.trim();
    el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
});
// Ask before actions that cannot be undone.
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
});
