// The main navigation (templates/includes/header.html): under 700 px the list folds away behind
// a "Menu" button; a staff member's own creator pages fold into "My pages". Each button
// has aria-expanded and aria-controls; Escape closes the open one and returns the focus to it;
// a click elsewhere closes "My pages". Without this script the buttons stay hidden and
// every link is shown (portal.css: .site-nav.js-menu).
(function () {
  "use strict";

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function init() {
    var nav = document.querySelector(".site-nav");
    if (!nav) {
      return;
    }
    var buttons = Array.prototype.slice.call(nav.querySelectorAll("[data-menu-toggle]"));
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        setOpen(button, button.getAttribute("aria-expanded") !== "true");
      });
    });
    nav.classList.add("js-menu");

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      var open = buttons.filter(function (b) {
        return b.getAttribute("aria-expanded") === "true" && b.offsetParent !== null;
      });
      if (!open.length) {
        return;
      }
      var button = open[open.length - 1]; // the innermost one open
      setOpen(button, false);
      button.focus();
    });

    document.addEventListener("click", function (event) {
      nav.querySelectorAll(".nav-group-toggle[aria-expanded='true']").forEach(function (b) {
        if (!b.parentElement.contains(event.target)) {
          setOpen(b, false);
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
