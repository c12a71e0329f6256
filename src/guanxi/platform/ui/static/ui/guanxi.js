// guanxi — keyboard shortcuts and small behaviours. No inline scripts, so a strict CSP can apply.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (event.key === "/") {
      var search = document.querySelector("[data-search-input]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "n") {
      var url = document.body.getAttribute("data-new-url");
      if (url) { event.preventDefault(); window.location.href = url; }
    } else if (event.key === "Escape") {
      var box = document.getElementById("search-suggest");
      if (box) box.innerHTML = "";
    }
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var open = document.body.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("input[data-row-select]").forEach(function (box) { box.checked = all.checked; });
    }
    var confirmEl = event.target.closest && event.target.closest("[data-confirm]");
    if (confirmEl && !window.confirm(confirmEl.getAttribute("data-confirm"))) { event.preventDefault(); }
  });
})();
