// A refused form comes back with an error summary at its top (templates/_macros/forms.html
// error_summary). A long page reloads at its top, so on load bring the summary into view and put the
// focus on the first wrong field (or on the summary when that field cannot take focus, like the
// signature box); the summary's links move the focus to their field with its label in view.
(function () {
  "use strict";

  function focusable(element) {
    return element && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(element.tagName) && element.type !== "hidden";
  }

  function labelOf(element) {
    var label = element.id ? document.querySelector('label[for="' + element.id + '"]') : null;
    return label || element.closest("label, fieldset, .field") || element;
  }

  function goTo(element, summary) {
    if (focusable(element)) {
      // Scroll the label into view first: focusing the input alone would leave its label under the edge.
      labelOf(element).scrollIntoView({ block: "center" });
      element.focus({ preventScroll: true });
    } else if (element) {
      element.scrollIntoView({ block: "center" });
      if (element.tabIndex >= -1 && element.hasAttribute("tabindex")) { element.focus({ preventScroll: true }); }
    } else if (summary) {
      summary.focus();
    }
  }

  function start() {
    var summary = document.querySelector(".error-summary");
    if (!summary) { return; }
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-field]");
      if (!link) { return; }
      event.preventDefault();
      goTo(document.getElementById(link.getAttribute("data-field")), summary);
    });
    var first = summary.querySelector("a[data-field]");
    var target = first ? document.getElementById(first.getAttribute("data-field")) : null;
    summary.scrollIntoView({ block: "start" });
    if (focusable(target)) {
      // The field sits below the summary: keep the summary at the top of the screen while the
      // focus (and the phone's keyboard) goes to the field.
      target.focus({ preventScroll: true });
      var rect = target.getBoundingClientRect();
      if (rect.bottom > window.innerHeight) { target.scrollIntoView({ block: "end" }); }
    } else {
      summary.focus({ preventScroll: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
