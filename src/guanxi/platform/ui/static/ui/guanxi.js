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
  // The organisation picker of the customer form: a suggestion sets the hidden id; "Clear" empties it.
  function pickOrganisation(picker, id, name) {
    var search = picker.querySelector("[data-organisation-search]");
    picker.querySelector("[data-organisation-value]").value = id;
    picker.querySelector("[data-organisation-chosen-name]").textContent = name;
    picker.querySelector("[data-organisation-chosen]").hidden = !id;
    picker.querySelector("[data-organisation-options]").innerHTML = "";
    search.hidden = !!id;
    search.value = "";
    if (id) { picker.querySelector("[data-organisation-clear]").focus(); } else { search.focus(); }
  }
  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("[data-organisation-pick]");
    var clear = event.target.closest && event.target.closest("[data-organisation-clear]");
    var picker = (option || clear) && (option || clear).closest("[data-organisation-picker]");
    if (picker) {
      pickOrganisation(picker, option ? option.getAttribute("data-organisation-pick") : "",
                       option ? option.getAttribute("data-label") : "");
    }
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
