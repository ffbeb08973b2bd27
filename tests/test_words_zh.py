"""Every page of the demo firm in Simplified Chinese, as every demo person and as the customer on
their links, and the mails the demo sent: the visible text, outside user data, holds no English
catalogue message left untranslated, no raw state/kind/condition key, and no ASCII colon or comma
inside a Chinese sentence. The catalogue itself: every Chinese sentence uses full-width ：，."""
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import String, Text

import pytest
from webapp import create_app
from webapp.extensions import db

from .conftest import DEMO_PEOPLE, PUBLIC_URL, demo_login
from .crawl import Crawler, visible_text

PO_FILE = Path(__file__).parent.parent / "webapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
CJK = "\u3400-\u9fff\uff00-\uffef\u3000-\u303f"
# An ASCII colon, comma, semicolon, question or exclamation mark or parenthesis next to a Chinese character.
ASCII_PUNCTUATION_IN_CHINESE = re.compile(rf"[{CJK}]\s*[:,;?!(](?!\d)|[:,;?!)]\s*[{CJK}]")


def catalogue() -> list[tuple[str, str]]:
    """(English msgid, Chinese msgstr) of every translated message (context or not)."""
    with PO_FILE.open("rb") as handle:
        entries = read_po(handle)
    pairs = []
    for message in entries:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid, msgstr in zip(ids, strings):
            if msgstr:
                pairs.append((msgid, msgstr))
    return pairs


def raw_keys() -> set[str]:
    """Every key a page must show through its label: states, transitions, kinds, conditions,
    priorities, methods, verdicts, categories, roles."""
    from webapp.auth.models import ROLES
    from webapp.costing.forms import CATEGORY_LABELS
    from webapp.orders.forms import METHOD_CHOICES
    from webapp import domains
    from webapp.permissions import MACHINES
    domains()  # importing the domains registers their machines
    from webapp.production.forms import KIND_LABELS
    from webapp.requirements.forms import PRIORITY_CHOICES
    from webapp.shipping.forms import CONDITION_CHOICES
    keys = set(ROLES) | set(CATEGORY_LABELS) | set(KIND_LABELS)
    keys |= {key for key, _label in METHOD_CHOICES + PRIORITY_CHOICES + CONDITION_CHOICES}
    for machine in MACHINES.values():
        keys |= set(machine.states) | set(machine.transitions)
    return keys


def needles(pairs) -> re.Pattern:
    """One pattern for the English msgids a Chinese page must not show: the literal parts of each
    msgid (placeholders cut out), whole words only, where the Chinese translation does not keep
    the same English itself (abbreviations such as PO or QR)."""
    result = set()
    for msgid, msgstr in pairs:
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|\n", msgid):
            part = part.strip(" .:,;()·—-")
            words = re.findall(r"[A-Za-z]+", part)
            if not words or part in msgstr or len(part) < 4 or (len(words) == 1 and len(part) < 5):
                continue  # too short to tell from a name, or kept in Chinese as it is
            result.add(part)
    alternatives = "|".join(re.escape(part) for part in sorted(result, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])")


# Text the app composed from keys and stored (a return case's reason once read "damaged 58/60"): not
# user data, so it is checked like the pages' own words.
COMPOSED_COLUMNS = {("return_case", "reason")}
# Names people chose that happen to equal a key (the login "admin").
NAME_COLUMNS = {("user", "username")}


def user_data(app) -> re.Pattern:
    """Every text value in the demo database (names, notes, models, terms in the customer's
    language...), as one pattern of whole values: user data, allowed in any language. Left out:
    values that are keys (a status column), and COMPOSED_COLUMNS."""
    keys = raw_keys()
    values = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text))
                       and (table.name, c.name) not in COMPOSED_COLUMNS]
            if not columns:
                continue
            for row in db.session.execute(db.select(*columns)).all():
                for column, value in zip(columns, row):
                    if not isinstance(value, str) or len(value.strip()) < 2 or value.lstrip().startswith(("{", "[")):
                        continue
                    if value.strip() not in keys or (table.name, column.name) in NAME_COLUMNS:
                        values.add(value.strip())
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def findings(where: str, text: str, data: re.Pattern, patterns, keys) -> list[str]:
    """What in text (user data removed) is English from the catalogue, a raw key or ASCII
    punctuation in a Chinese sentence."""
    text = data.sub(" \u2063 ", text)
    found = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        english = patterns.search(line) if re.search("[A-Za-z]{4}", line) else None
        if english:
            found.append(f"{where}: English {english.group(0)!r} in {line[:120]!r}")
        for key in re.findall(r"(?<![A-Za-z0-9_./-])[a-z][a-z_]+(?![A-Za-z0-9_/-])", line):
            if key in keys:
                found.append(f"{where}: key {key!r} in {line[:120]!r}")
        if ASCII_PUNCTUATION_IN_CHINESE.search(line):
            found.append(f"{where}: ASCII punctuation in {line[:120]!r}")
    return found


def test_chinese_sentences_in_the_catalogue_use_full_width_punctuation():
    bad = [(msgid, msgstr) for msgid, msgstr in catalogue()
           if ASCII_PUNCTUATION_IN_CHINESE.search(re.sub(r"%\(\w+\)s|https?://\S+|\d+:\d+", "", msgstr))]
    assert not bad, "\n".join(f"{msgid!r} -> {msgstr!r}" for msgid, msgstr in bad)


def test_every_state_and_transition_has_a_chinese_label():
    """A state added to a machine without a label would be shown as its key: every state of every
    machine, and every transition (the timeline's event), reads as translated words."""
    from webapp.labels import state_label
    from webapp import domains
    from webapp.permissions import MACHINES
    domains()  # importing the domains registers their machines
    from webapp.templating import event_label
    # No database needed (and this module's demo database must not be emptied by a fresh one).
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        for name, machine in MACHINES.items():
            for state in machine.states:
                assert state_label(state, name) != state, (name, state)
                assert re.search(f"[{CJK}]", state_label(state, name)), (name, state)
            for transition in machine.transitions:
                label = event_label(f"{name}.{transition}")
                assert label != f"{name}.{transition}" and re.search(f"[{CJK}]", label), (name, transition)


@pytest.mark.slow
def test_every_demo_page_and_mail_in_chinese_shows_no_english_message_or_raw_key(demo_app):
    data = user_data(demo_app)
    patterns, keys = needles(catalogue()), raw_keys()
    problems, link_paths, seen_pages = [], set(), 0
    for username in DEMO_PEOPLE:
        crawler = Crawler(demo_app, demo_login(demo_app, username, locale="zh"), origins=(PUBLIC_URL,),
                          per_pattern=5)
        for page in crawler.crawl("/"):
            if page.url.startswith("/c/"):
                link_paths.add(page.url)
            # The API reference draws the OpenAPI document: its operations, fields and descriptions are
            # the document's own English (as integrations read them); its frame is checked by
            # tests/browser/test_api_tokens_browser.py.
            if page.is_html and page.status < 500 and not page.url.startswith("/api/v1/docs"):
                seen_pages += 1
                problems += findings(f"{username} {page.url}", visible_text(page.text), data, patterns, keys)
    customer = demo_app.test_client()
    customer.post("/lang/zh")
    for page in Crawler(demo_app, customer, origins=(PUBLIC_URL,)).crawl(*sorted(link_paths)):
        if page.is_html and page.status < 500:
            seen_pages += 1
            problems += findings(f"customer {page.url}", visible_text(page.text), data, patterns, keys)
    mail_folder = Path(demo_app.config["MAIL_FOLDER"])
    for path in sorted(mail_folder.glob("*")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",)).get_content()
        if re.search(f"[{CJK}]", body):  # the mails to Chinese customers and staff
            problems += findings(f"mail {message['Subject']}", str(message["Subject"]) + "\n" + body,
                                 data, patterns, keys)
    assert seen_pages > 100 and link_paths
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(sorted(set(problems)))


def mails_in(folder: Path) -> list:
    """The messages written to the development mail folder, oldest first."""
    paths = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime) if folder.exists() else []
    return [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in paths]


def required_messages(page: str) -> set[str]:
    return set(re.findall(r'<p class="error" id="[\w-]+-err">(.*?)</p>', page, re.S))


def test_one_message_for_every_required_field_in_both_languages(demo_app):
    """Our own 'filled' check and WTForms' DataRequired/InputRequired once said it in two ways in
    Chinese (此项为必填项 / 该字段是必填字段)."""
    for locale in ("zh", "en"):
        client = demo_login(demo_app, "wang.fang", locale=locale)
        messages = set()
        for path, data in (("/requirements/new", {"customer_id": "0", "product": "", "quantity": "", "unit": "",
                                                   "expected_date": ""}),
                           ("/customers/new", {"name": "", "abbreviation": "", "quantity": ""})):
            response = client.post(path, data=data)
            assert response.status_code == 422, path
            messages |= required_messages(response.get_data(as_text=True))
        required = {m for m in messages if "必填" in m or "required" in m.lower()}
        assert len(required) == 1, (locale, messages)


def test_new_records_suggest_the_unit_in_the_users_language(demo_app):
    """The unit is the firm's data, but the suggestion on a new record reads right: 件, or pcs."""
    for locale, unit in (("zh", "件"), ("en", "pcs")):
        for person, path in (("wang.fang", "/requirements/new"), ("liu.yang", "/customers/products/new")):
            response = demo_login(demo_app, person, locale=locale).get(path)
            assert response.status_code == 200, (person, path)
            page = response.get_data(as_text=True)
            assert re.search(rf'name="unit"[^>]*value="{unit}"|value="{unit}"[^>]*name="unit"', page), (locale, path)


def test_the_receipt_says_received_quantity_not_money_received(demo_app):
    """"Received" has a context: the receipt's column is a quantity (实收数量), the order's payments
    are money (已收款)."""
    from webapp.shipping.models import Shipment
    client = demo_login(demo_app, "liu.yang", locale="zh")
    with demo_app.app_context():
        shipment_id = db.session.scalar(db.select(Shipment.id).where(Shipment.status == "delivered_with_exception"))
    page = client.get(f"/shipping/{shipment_id}").get_data(as_text=True)
    assert "实收数量" in page and "已收款" not in page
    assert "破损" in page and "damaged" not in page  # the return case's reason, in words


def test_mails_in_chinese_show_no_english_message_or_raw_key_and_the_days_asked_for(demo_app):
    """A requirement sent to a Chinese customer (its link valid 14 days once read "13 天"), a
    shipment the courier picks up (the customer is mailed the receipt link) and a ticket the
    customer opens (mailed to the sales rep, whose language is Chinese): in Chinese, with no
    English catalogue message and no key. Last in this module: it changes the demo."""
    from webapp import links
    from webapp.orders.models import Order
    from webapp.requirements.models import Requirement
    from webapp.shipping.models import Shipment
    folder = Path(demo_app.config["MAIL_FOLDER"])
    before = len(mails_in(folder))
    sales = demo_login(demo_app, "wang.fang", locale="zh")
    with demo_app.app_context():
        requirement_id = db.session.scalar(db.select(Requirement.id).where(Requirement.status == "clarification"))
        order_id = db.session.scalar(db.select(Order.id).where(Order.customer_po == "HD-PO-2610-31"))
    assert sales.post(f"/requirements/{requirement_id}/send").status_code == 303
    with demo_app.app_context(), demo_app.test_request_context():
        from webapp.aftersales import services as aftersales
        service_path = "/aftersales/c/" + aftersales.service_link(db.session.get(Order, order_id)).token
        db.session.commit()
        packed = db.session.scalar(db.select(Shipment).where(Shipment.status == "packed"))
        courier_path = "/c/" + links.current("courier", packed.id).token
    courier = demo_app.test_client()
    response = courier.post(courier_path + "/dispatch", data={"d-note": "已装车"})
    assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    customer = demo_app.test_client()
    response = customer.post(service_path + "/tickets", data={
        "t-subject": "第二批何时到？", "t-description": "请告知第二批的到货时间。", "t-name": "钱经理"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    sent = mails_in(folder)[before:]
    assert len(sent) >= 3, [m["Subject"] for m in sent]
    data, patterns, keys = user_data(demo_app), needles(catalogue()), raw_keys()
    problems = []
    for message in sent:
        text = f"{message['Subject']}\n{message.get_body(preferencelist=('plain',)).get_content()}"
        assert re.search(f"[{CJK}]", text), text  # written in Chinese
        problems += findings(f"mail {message['Subject']}", text, data, patterns, keys)
    assert not problems, "\n".join(problems)
    requirement_mail = next(m for m in sent if "14 天" in m.get_body(preferencelist=("plain",)).get_content())
    assert "13 天" not in requirement_mail.get_body(preferencelist=("plain",)).get_content()


def test_every_message_in_the_code_has_its_chinese(tmp_path):
    """Extract the messages from the code and templates as `make extract-messages` does: every one
    has a Chinese translation (a new English sentence cannot reach a Chinese page untranslated)."""
    import subprocess
    import sys
    from pathlib import Path
    from babel.messages.pofile import read_po
    root = Path(__file__).resolve().parent.parent
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "N_", "-k", "_l", "-k", "NP_:1c,2", "-k", "pgettext:1c,2",
                    "--ignore-dirs", ".* .venv", "-o", str(pot), "--no-location", "."],
                   cwd=root, check=True, capture_output=True)
    with open(pot, "rb") as fh:
        wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(fh) if m.id}
    with open(root / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalogue = read_po(fh)
    translated = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue
                  if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else all(m.string))}
    assert sorted(wanted - translated, key=str) == []
