/* Bulk work on the works list (works/bulk.py): a "Select all on this page" box above the
   list, for a page with a bulk form. Without JavaScript each row is ticked by hand, or "All N
   works matching" is chosen — the server runs the list's filters again. No inline script (CSP). */
(function () {
  "use strict";

  function setUp(form) {
    var boxes = Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="work"][form="' + form.id + '"]')
    );
    var list = document.querySelector("[data-bulk-list='" + form.id + "']");
    if (!boxes.length || !list) return;

    var wrap = document.createElement("div");
    wrap.className = "choice-row bulk-page-tools";
    var all = document.createElement("input");
    all.type = "checkbox";
    all.id = form.id + "-page";
    var label = document.createElement("label");
    label.htmlFor = all.id;
    label.textContent = "Select all " + boxes.length + " on this page";
    wrap.appendChild(all);
    wrap.appendChild(label);
    list.parentNode.insertBefore(wrap, list);

    var ticked = form.querySelector('input[name="selection"][value="ticked"]');

    function sync() {
      var on = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = on === boxes.length;
      all.indeterminate = on > 0 && on < boxes.length;
    }

    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      if (all.checked && ticked) ticked.checked = true;
      sync();
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        if (box.checked && ticked) ticked.checked = true;
        sync();
      });
    });
    sync();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk-form]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
