// Redline editor: live preview, size counter and an unsaved-changes guard for the draft form.
// Progressive enhancement only: without this file the Save and "Save and review changes" buttons do everything.
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var body = form.querySelector("textarea[name=body]");
  var pane = document.getElementById("live-preview");
  var target = document.getElementById("live-preview-body");
  var sizeLine = document.getElementById("body-size");
  var token = form.querySelector("input[name=csrf_token]");
  var limit = parseInt(form.getAttribute("data-limit"), 10) || 0;
  var url = form.getAttribute("data-preview-url");
  var saved = body.value;
  var timer = null;
  var inflight = null;
  var encoder = window.TextEncoder ? new TextEncoder() : null;

  function bytes(text) {
    return encoder ? encoder.encode(text.replace(/\r\n/g, "\n")).length : text.length;
  }

  function showSize() {
    var n = bytes(body.value);
    var over = limit && n > limit;
    sizeLine.textContent = n.toLocaleString() + " of " + limit.toLocaleString() + " bytes" +
      (over ? ": too large to save. Shorten the text." : "");
    sizeLine.classList.toggle("size-over", !!over);
    return !over;
  }

  function refresh() {
    if (inflight) { inflight.abort(); }
    inflight = window.AbortController ? new AbortController() : null;
    var data = new FormData();
    data.append("body", body.value);
    fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
      signal: inflight ? inflight.signal : undefined
    }).then(function (response) {
      return response.json();
    }).then(function (json) {
      if (json.error) {
        target.replaceChildren();
        var p = document.createElement("p");
        p.className = "field-error";
        p.textContent = json.error;
        target.appendChild(p);
      } else {
        // Our own renderer's output: Markdown with raw HTML switched off on the server.
        target.innerHTML = json.html;
      }
    }).catch(function () { /* a newer request replaced this one, or we are offline */ });
  }

  pane.hidden = false;
  showSize();
  refresh();
  body.addEventListener("input", function () {
    clearTimeout(timer);
    if (showSize()) { timer = setTimeout(refresh, 350); }
  });
  form.addEventListener("submit", function (event) {
    if (!showSize()) {
      event.preventDefault();
      body.focus();
      return;
    }
    saved = body.value;
  });
  window.addEventListener("beforeunload", function (event) {
    if (body.value !== saved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}());
