// Progressive enhancement for redline pages: j / k jump to the next / previous change.
(function () {
  "use strict";
  var changes = Array.prototype.slice.call(document.querySelectorAll("[data-change]"));
  if (!changes.length) { changes = Array.prototype.slice.call(document.querySelectorAll(".diff-body [id^='c']")); }
  if (!changes.length) { return; }
  var current = -1;
  function go(i) {
    current = Math.max(0, Math.min(changes.length - 1, i));
    var el = changes[current];
    if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    el.scrollIntoView({ block: "center" });
    el.focus({ preventScroll: true });
    if (history.replaceState) { history.replaceState(null, "", "#" + el.id); }
  }
  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) { return; }
    if (e.key === "j") { e.preventDefault(); go(current + 1); }
    else if (e.key === "k") { e.preventDefault(); go(current - 1); }
  });
})();
