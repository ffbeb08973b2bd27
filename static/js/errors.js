// A refused form comes back with an error summary at its top (templates/_macros/forms.html
// error_summary). A long page reloads at its top, so on load bring the summary into view and put the
// focus on the first wrong field when it is on the screen too (else on the summary: the signature box,
// a field far below); the summary's links move the focus to their field with its label in view.
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
    if (focusable(target) && target.getBoundingClientRect().bottom <= window.innerHeight) {
      // The field is on the screen below the summary: the focus (and the phone's keyboard) goes there.
      target.focus({ preventScroll: true });
    } else {
      // Far below (or the signature box): the summary keeps the screen and the focus; its links lead on.
      summary.focus({ preventScroll: true });
    }
  }

  /* A form that goes through the outbox (the delivery receipt) is recorded on the phone first and sent
     after: a refusal would land in the outbox, not in front of the customer. So the obvious gaps (no
     name, box unticked, no signature, a quantity out of range) are found here first, with the same
     summary and the server's words (data attributes); the server still checks everything. */
  function mark(form, target, message, problems) {
    var element = document.getElementById(target);
    if (!element) { return; }
    var id = target + "-err";
    element.setAttribute("aria-invalid", "true");
    element.setAttribute("aria-describedby", id);
    var field = element.closest(".field") || element.parentNode;
    if (field.classList) { field.classList.add("invalid"); }
    if (!document.getElementById(id)) {
      var note = document.createElement("p");
      note.className = "error";
      note.id = id;
      note.setAttribute("data-precheck-note", "");
      note.textContent = message;
      field.appendChild(note);
    }
    var label = document.querySelector('label[for="' + target + '"]');
    var legend = element.closest("fieldset") && element.closest("fieldset").querySelector("legend");
    var name = element.getAttribute("data-label") || (label ? label.textContent.trim() : "");
    if (legend && element.hasAttribute("data-max")) { name = name + " · " + legend.textContent.split(" · ")[0].trim(); }
    problems.push({ target: target, text: form.getAttribute("data-label-format").replace("%(label)s", name).replace("%(value)s", message) });
  }

  function clearMarks(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-precheck-note]"), function (note) { note.remove(); });
    var old = form.querySelector(".error-summary");
    if (old) { old.remove(); }
  }

  function number(text) {
    var plain = text.replace(/[\s,，]/g, "");
    return /^\d+(\.\d+)?$/.test(plain) ? parseFloat(plain) : NaN;
  }

  function precheck(event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-precheck")) { return; }
    clearMarks(form);
    var problems = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[data-max]"), function (input) {
      var value = number(input.value);
      if (isNaN(value) || value < 0 || value > parseFloat(input.getAttribute("data-max"))) {
        mark(form, input.id, input.getAttribute("data-message"), problems);
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[data-required-message]"), function (input) {
      if (!input.value.trim()) { mark(form, input.id, input.getAttribute("data-required-message"), problems); }
    });
    var strokes = form.querySelector("#strokes"), stamped = form.querySelector("input[type=file][name=stamped]");
    if (strokes && !strokes.value && !(stamped && stamped.files && stamped.files.length)) {
      mark(form, "signature-pad", form.getAttribute("data-sign-message"), problems);
    }
    var consent = form.querySelector("input[name=consent]");
    if (consent && !consent.checked) { mark(form, consent.id, form.getAttribute("data-consent-message"), problems); }
    if (!problems.length) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();  // nothing goes to the outbox
    var summary = document.createElement("div");
    summary.className = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    var title = document.createElement("h2");
    title.textContent = form.getAttribute("data-summary-title");
    var list = document.createElement("ul");
    problems.forEach(function (problem) {
      var item = document.createElement("li"), link = document.createElement("a");
      link.href = "#" + problem.target;
      link.setAttribute("data-field", problem.target);
      link.textContent = problem.text;
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.appendChild(title);
    summary.appendChild(list);
    var anchor = form.querySelector("input[name=csrf_token]");
    form.insertBefore(summary, anchor ? anchor.nextSibling : form.firstChild);
    start();
  }
  // On window, in the capture phase: before the outbox's own submit listener on the document.
  window.addEventListener("submit", precheck, true);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
