// Sends a form marked data-autosubmit as soon as the page loads: the step after a sign-in at WeCom or
// DingTalk (templates/auth/external_continue.html), a POST so that the GET back from the provider
// writes nothing. Without JavaScript the form's button does the same.
const form = document.querySelector("form[data-autosubmit]");
if (form && !form.dataset.sent) {
  form.dataset.sent = "1";
  form.requestSubmit();
}
