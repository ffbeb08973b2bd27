// The delivery receipt's checks on the phone, before the outbox records it (the receipt page only).
import { showErrorSummary } from "./errors.js";
import { fill, texts } from "./i18n.js";

/* A form that goes through the outbox (the delivery receipt) is recorded on the phone first and sent
   after: a refusal would land in the outbox, not in front of the customer. So the obvious gaps (no
   name, box unticked, no signature, a quantity out of range) are found here first, with the same
   summary and the server's words (the page's 'receipt' texts); the server still checks everything.
   label: the field's name in the summary, when its <label> is not the name (the signature box). */
function mark(target, message, problems, label) {
  const element = document.getElementById(target);
  if (!element) { return; }
  const id = target + "-err";
  element.setAttribute("aria-invalid", "true");
  element.setAttribute("aria-describedby", id);
  const field = element.closest(".field") || element.parentNode;
  if (field.classList) { field.classList.add("invalid"); }
  if (!document.getElementById(id)) {
    const note = document.createElement("p");
    note.className = "error";
    note.id = id;
    note.setAttribute("data-precheck-note", "");
    note.textContent = message;
    field.appendChild(note);
  }
  const labelNode = document.querySelector('label[for="' + target + '"]');
  const legend = element.closest("fieldset") && element.closest("fieldset").querySelector("legend");
  let name = label || (labelNode ? labelNode.textContent.trim() : "");
  if (legend && element.hasAttribute("data-max")) { name = name + " · " + legend.textContent.split(" · ")[0].trim(); }
  problems.push({ target: target, text: fill(texts("receipt").labelFormat, { label: name, value: message }) });
}

function clearMarks(form) {
  form.querySelectorAll("[data-precheck-note]").forEach((note) => note.remove());
  const old = form.querySelector(".error-summary");
  if (old) { old.remove(); }
}

function number(text) {
  const plain = text.replace(/[\s,，]/g, "");
  return /^\d+(\.\d+)?$/.test(plain) ? parseFloat(plain) : NaN;
}

function showSummary(form, problems) {
  const summary = document.createElement("div");
  summary.className = "error-summary";
  summary.setAttribute("role", "alert");
  summary.setAttribute("tabindex", "-1");
  const title = document.createElement("h2");
  title.textContent = texts("receipt").summaryTitle;
  const list = document.createElement("ul");
  for (const problem of problems) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "#" + problem.target;
    link.setAttribute("data-field", problem.target);
    link.textContent = problem.text;
    item.appendChild(link);
    list.appendChild(item);
  }
  summary.append(title, list);
  const anchor = form.querySelector("input[name=csrf_token]");
  form.insertBefore(summary, anchor ? anchor.nextSibling : form.firstChild);
  showErrorSummary();
}

function precheck(event) {
  const form = event.target;
  if (!form.hasAttribute || !form.hasAttribute("data-precheck")) { return; }
  const t = texts("receipt");
  clearMarks(form);
  const problems = [];
  form.querySelectorAll("input[data-max]").forEach((input) => {
    // data-max is the quantity as an input shows it (no grouping): the same number in the message.
    const max = input.getAttribute("data-max");
    const value = number(input.value);
    if (isNaN(value) || value < 0 || value > parseFloat(max)) { mark(input.id, fill(t.quantity, { max: max }), problems); }
  });
  form.querySelectorAll("input[data-required]").forEach((input) => {
    if (!input.value.trim()) { mark(input.id, t.required, problems); }
  });
  const strokes = form.querySelector("#strokes");
  const stamped = form.querySelector("input[type=file][name=stamped]");
  if (strokes && !strokes.value && !(stamped && stamped.files && stamped.files.length)) {
    mark("signature-pad", t.sign, problems, t.signature);
  }
  const consent = form.querySelector("input[name=consent]");
  if (consent && !consent.checked) { mark(consent.id, t.consent, problems, t.agreement); }
  if (!problems.length) { return; }
  event.preventDefault();
  event.stopImmediatePropagation();  // nothing goes to the outbox
  showSummary(form, problems);
}
// On window, in the capture phase: before the outbox's own submit listener on the document.
window.addEventListener("submit", precheck, true);
