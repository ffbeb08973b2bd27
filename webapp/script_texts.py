"""The translated texts the page scripts need, by group: the one way texts reach JavaScript.

A page carries them as one `<script type="application/json" id="i18n">` block (the `script_texts`
macro in templates/_macros/scripts.html), read by static/js/i18n.js. The block is data, never
executed, so the strict CSP holds; data attributes carry data (ids, URLs, numbers), never words.
Every page gets BASE_GROUPS; a page adds its own with `{% set page_script_texts = [...] %}`.
"""
from flask_babel import get_locale
from flask_babel import gettext as _


def _outbox() -> dict:
    return {
        "waiting": _("Waiting to send"), "retrying": _("Waiting to send (will retry)"),
        "conflict": _("Conflict: could not be applied"), "refused": _("Refused by the server"),
        "attention": _("Needs your attention"),
        "help_conflict": _("Nothing was changed on the server. Tell your supervisor, who sees it in the "
                           "office too; discard it here once it is settled."),
        "help_refused": _("The server refused this from this phone. Show it to the office before "
                          "discarding it."),
        "help_attention": _("Correct what the message says and record it again, then discard this one."),
        "retry": _("Try again"), "discard": _("Discard"),
        "discardConfirm": _("Discard this action? It will not be sent."),
        "photos": _("photos: %(n)s"), "badge": _("Not yet sent: %(n)s"),
        "here": _("Recorded on this phone, not yet on the server"), "sendNow": _("Send now"),
        "offlineCopy": _("No signal: offline copy from %(time)s"),
        "switchUnknown": _("Without signal, only people who switched in on this phone with their PIN "
                           "before can switch in."),
        "switchWrong": _("Wrong employee number or PIN."),
        "switchLocked": _("Too many wrong PINs. Wait a quarter of an hour and try again."),
        "switchedBack": _("%(offline)s switched in without signal, but the server still has %(name)s on "
                          "this phone: what is recorded from now on is %(name)s's."),
        "switchAgain": _("Switch person"),
        "keptOnPhone": _("Recorded on this phone. It is sent by itself as soon as there is signal."),
        "needsSignal": _("This needs signal. What can be recorded without signal (progress, anomalies, "
                         "pickups, receipts, packing scans) is kept on the phone; this cannot be."),
        "storageFailed": _("This phone could not keep the entry (its storage is full or blocked) and there "
                           "is no signal. Nothing was saved: try again when there is signal."),
        "switchDone": _("%(name)s is now using this phone (no signal: the switch is kept on the phone)."),
    }


def _widgets() -> dict:
    """The small helpers on every page: copy buttons, the photo viewer, the employee-number keypad."""
    return {"copied": _("Copied"), "close": _("Close"),
            "typeLetters": _("Type letters"), "typeDigits": _("Type digits")}


def _receipt() -> dict:
    """The delivery receipt's checks on the phone (errors.js) and its "done" view (outbox/ui.js)."""
    return {
        "summaryTitle": _("Please correct the marked fields."),
        "labelFormat": _("%(label)s: %(value)s", label="%(label)s", value="%(value)s"),
        "quantity": _("Enter the quantity received, 0 to %(max)s.", max="%(max)s"),
        "required": _("This field is required."),
        "sign": _("Sign in the box, or add a photo of the stamped delivery note."),
        "consent": _("Tick the box to agree."),
        "signature": _("Signature"), "agreement": _("Agreement"),
        "download": _("Download your signed copy (PDF)"),
    }


def _scanner() -> dict:
    return {
        "starting": _("Starting the camera…"),
        "loading": _("Loading the code reader…"),
        "ready": _("Hold a code inside the frame."),
        "denied": _("The camera is blocked. Allow the camera for this site in the browser settings, or type "
                    "the code below."),
        "missing": _("No camera was found. Type the code below."),
        "busy": _("Another app is using the camera. Close it and try again."),
        "insecure": _("This browser cannot use the camera here. Open the app over HTTPS, or type the code "
                      "below."),
        "decoder": _("The code reader could not start. Type the code below."),
        "offline": _("No connection: %(code)s was not sent. Scan it again when you are online.", code="%(code)s"),
        "queued": _("No connection: %(code)s is kept on this phone and ticked off when the signal returns.",
                    code="%(code)s"),
        "failed": _("%(code)s could not be processed (error %(status)s). Try again.", code="%(code)s",
                    status="%(status)s"),
        "opening": _("Opening %(url)s…", url="%(url)s"),
        "torchOn": _("Torch on"), "torchOff": _("Torch off"), "checked": _("checked"),
    }


def _countdown() -> dict:
    return {"left": _("%(time)s left", time="%(time)s"), "expired": _("Expired: show a new code.")}


GROUPS = {"outbox": _outbox, "widgets": _widgets, "receipt": _receipt, "scanner": _scanner,
          "countdown": _countdown}
BASE_GROUPS = ("outbox", "widgets")


# (language, page groups) → texts: they are the catalogue's words only, the same on every page of a
# language until the process restarts with a new catalogue; built once, not ~40 gettext calls a page.
_built: dict[tuple[str, tuple[str, ...]], dict] = {}


def script_texts(page_groups=()) -> dict:
    """The texts of the base groups and of the page's own groups, in the request's language."""
    key = (str(get_locale()), tuple(page_groups))
    texts = _built.get(key)
    if texts is None:
        texts = _built[key] = {name: GROUPS[name]() for name in (*BASE_GROUPS, *page_groups)}
    return texts
