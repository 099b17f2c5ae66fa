// Forms: when a page comes back with errors, move the focus to the "There is a problem" box
// (templates/includes/form_errors.html; or another box marked data-focus-on-load, such as
// "This work may already be in your catalogue") so a keyboard or screen-reader user starts
// there and a sighted one sees it without scrolling; a link in the box focuses its field.
(function () {
  "use strict";

  function focusField(id) {
    var field = document.getElementById(id);
    if (!field) {
      return false;
    }
    var label = document.querySelector('label[for="' + id + '"]');
    var fieldset = field.closest("fieldset");
    var legend = fieldset ? fieldset.querySelector("legend") : null;
    var shown = legend || label || field;
    if (!field.matches("input, select, textarea, button")) {
      // A group drawn by hand (a fieldset of boxes): focus its first box.
      field = field.querySelector("input, select, textarea") || field;
    }
    shown.scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
    return true;
  }

  function init() {
    var summary = document.querySelector("[data-error-summary], [data-focus-on-load]");
    if (!summary) {
      return;
    }
    summary.focus(); // scrolls it into view only if it is not already
    summary.addEventListener("click", function (event) {
      var link = event.target.closest('a[href^="#"]');
      if (link && focusField(decodeURIComponent(link.getAttribute("href").slice(1)))) {
        event.preventDefault();
        if (history.replaceState) {
          history.replaceState(null, "", link.getAttribute("href"));
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
