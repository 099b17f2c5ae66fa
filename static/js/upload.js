// Uploads (forms marked data-upload): progress, time left, drag and drop.
//
// Without this script the form is a plain multipart post, as it always was. With it:
// - the form is sent with XMLHttpRequest, and a <progress> with the percentage and the time
//   left (from the rate measured so far) appears above the form's buttons; a status line
//   (role="status") says the same to screen readers, at most every tenth of the way;
// - the server's answer is followed: a redirect (the X-Upload-Redirect header, see
//   works/views/progress.py) is navigated to; a page (errors, "too many uploads", the results
//   of several files) replaces this one, as a plain post would have shown it;
// - each file field becomes a drop zone: files dropped on it are put in the field as if chosen
//   (the field itself stays, for keyboard users).
(function () {
  "use strict";

  var counter = 0;

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function timeLeft(seconds) {
    if (!isFinite(seconds)) {
      return "";
    }
    if (seconds < 60) {
      return "about " + plural(Math.max(1, Math.round(seconds)), "second") + " left";
    }
    return "about " + plural(Math.round(seconds / 60), "minute") + " left";
  }

  function progressBox(form) {
    var box = form.querySelector(".upload-progress");
    if (box) {
      return box;
    }
    counter += 1;
    var id = "upload-progress-" + counter;
    box = document.createElement("div");
    box.className = "upload-progress";
    box.innerHTML =
      '<label for="' + id + '">Uploading</label>' +
      '<progress id="' + id + '" max="100" value="0">0%</progress>' +
      '<p class="upload-progress-text" role="status"></p>';
    var actions = form.querySelector(".form-actions");
    form.insertBefore(box, actions);
    return box;
  }

  function show(form, response) {
    var go = response.getResponseHeader("X-Upload-Redirect");
    if (go) {
      window.location.assign(go);
      return;
    }
    if (response.responseURL && response.responseURL !== window.location.href) {
      history.replaceState(null, "", response.responseURL);
    }
    // The page as a plain post would have shown it: its scripts run again (forms.js focuses
    // "There is a problem"; this file enhances the new form).
    document.open();
    document.write(response.responseText);
    document.close();
  }

  function send(form, submitter) {
    var data = new FormData(form, submitter || undefined);
    var box = progressBox(form);
    var bar = box.querySelector("progress");
    var text = box.querySelector(".upload-progress-text");
    var buttons = form.querySelectorAll("button[type=submit], input[type=submit]");
    var started = Date.now();
    var spoken = -1;
    var xhr = new XMLHttpRequest();

    function settle() {
      form.removeAttribute("aria-busy");
      delete form.dataset.sending;
      buttons.forEach(function (b) {
        b.disabled = false;
      });
    }

    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable || !event.total) {
        return;
      }
      var percent = Math.floor((event.loaded / event.total) * 100);
      var elapsed = (Date.now() - started) / 1000;
      var rate = elapsed > 0 ? event.loaded / elapsed : 0;
      var left = rate > 0 ? (event.total - event.loaded) / rate : Infinity;
      bar.value = percent;
      bar.textContent = percent + "%";
      var words = percent + "% uploaded" + (percent < 100 && elapsed > 0.5 ? ", " + timeLeft(left) : "");
      bar.setAttribute("aria-valuetext", words);
      if (Math.floor(percent / 10) !== spoken) {
        spoken = Math.floor(percent / 10);
        text.textContent = words;
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      text.textContent = "Uploaded. Checking the file…";
    });
    xhr.addEventListener("load", function () {
      show(form, xhr);
    });
    xhr.addEventListener("error", function () {
      settle();
      text.textContent = "The upload did not finish: check your connection and try again.";
    });
    xhr.addEventListener("abort", settle);

    form.dataset.sending = "1";
    form.setAttribute("aria-busy", "true");
    buttons.forEach(function (b) {
      b.disabled = true;
    });
    text.textContent = "Uploading…";
    xhr.open((form.getAttribute("method") || "post").toUpperCase(), form.action);
    xhr.setRequestHeader("X-Upload-Progress", "1");
    xhr.send(data);
  }

  function dropZone(input) {
    var zone = input.closest(".field") || input.parentElement;
    if (!zone || zone.classList.contains("drop-zone")) {
      return;
    }
    counter += 1;
    var hint = document.createElement("p");
    hint.className = "drop-hint";
    hint.id = "drop-hint-" + counter;
    hint.textContent = input.multiple
      ? "Or drag and drop the files here."
      : "Or drag and drop the file here.";
    var chosen = document.createElement("p");
    chosen.className = "drop-chosen";
    chosen.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", hint);
    hint.insertAdjacentElement("afterend", chosen);
    zone.classList.add("drop-zone");
    zone.setAttribute("role", "group");
    var label = zone.querySelector("label[for='" + input.id + "']");
    zone.setAttribute("aria-label", "Drop zone for " + (label ? label.textContent.trim() : "files"));
    zone.setAttribute("aria-describedby", hint.id);

    function describe() {
      var names = Array.prototype.map.call(input.files, function (f) {
        return f.name;
      });
      chosen.textContent = names.length ? "Chosen: " + names.join(", ") : "";
    }

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("drop-active");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      zone.addEventListener(type, function () {
        zone.classList.remove("drop-active");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("drop-active");
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) {
        return;
      }
      var list = new DataTransfer();
      var n = input.multiple ? dropped.length : 1;
      for (var i = 0; i < n; i += 1) {
        list.items.add(dropped[i]);
      }
      input.files = list.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    input.addEventListener("change", describe);
  }

  function init() {
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      form.querySelectorAll("input[type=file]").forEach(dropZone);
      form.addEventListener("submit", function (event) {
        if (form.dataset.sending) {
          event.preventDefault();
          return;
        }
        var files = form.querySelectorAll("input[type=file]");
        var any = Array.prototype.some.call(files, function (input) {
          return input.files && input.files.length;
        });
        if (!any || !window.FormData || !window.XMLHttpRequest) {
          return; // nothing to upload: a plain post
        }
        event.preventDefault();
        send(form, event.submitter);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
