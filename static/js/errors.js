// A refused form comes back with an error summary at its top (templates/_macros/forms.html
// error_summary). A long page reloads at its top, so on load bring the summary into view and put the
// focus on the first wrong field when it is on the screen too (else on the summary: the signature box,
// a field far below); the summary's links move the focus to their field with its label in view.
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

/* Bring the page's error summary into view and focus its first field (also after precheck.js). */
export function showErrorSummary() {
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
  if (focusable(target) && target.getBoundingClientRect().bottom <= window.innerHeight) {
    // The field is on the screen below the summary: the focus (and the phone's keyboard) goes there.
    target.focus({ preventScroll: true });
  } else {
    // Far below (or the signature box): the summary keeps the screen and the focus; its links lead on.
    summary.focus({ preventScroll: true });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", showErrorSummary);
} else {
  showErrorSummary();
}
