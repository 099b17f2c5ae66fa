// Copy buttons (templates/includes/copy_button.html): <button type="button" data-copy="ID">
// beside an API key, a signing secret, a snippet or a hash, where ID is the element holding the
// text. The buttons are hidden until this script runs (without it, the text is selected and
// copied by hand as before). A click copies the element's text with navigator.clipboard and says
// "Copied" beside the button, in a status region that screen readers announce; if the clipboard
// is refused or missing, it selects the text instead and says how to copy it.
(function () {
  "use strict";

  var MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent || "");

  function textOf(target) {
    return "value" in target && target.tagName !== "BUTTON" ? target.value : target.textContent;
  }

  function select(target) {
    if (typeof target.select === "function") {
      target.focus();
      target.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, words) {
    var status = button.parentNode.querySelector(".copy-status");
    if (!status) {
      return;
    }
    clearTimeout(button._copyTimer);
    // Empty first, so that the same words twice are announced twice.
    status.textContent = "";
    setTimeout(function () {
      status.textContent = words;
    }, 50);
    button._copyTimer = setTimeout(function () {
      status.textContent = "";
    }, 6000);
  }

  function refused(button, target) {
    select(target);
    say(button, "Selected: press " + (MAC ? "⌘C" : "Ctrl+C") + " to copy");
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) {
      return;
    }
    var text = textOf(target);
    if (!navigator.clipboard || !window.isSecureContext) {
      refused(button, target);
      return;
    }
    navigator.clipboard.writeText(text).then(
      function () {
        say(button, "Copied");
      },
      function () {
        refused(button, target);
      }
    );
  }

  function init() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-copy]");
      if (button) {
        copy(button);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
