"""English and Simplified Chinese: the browser's language, the switch (per session and stored on
the user), money and dates per locale, and translated error pages."""
import os
import re
from datetime import date

import pytest

from webapp.auth.models import User
from webapp.customers.models import Customer
from webapp.extensions import db

from .conftest import login
from .helpers import customer_path, get, id_from_location, requirement_form, text_of

CATALOGUE = os.path.join(os.path.dirname(__file__), os.pardir, "webapp", "translations", "zh",
                         "LC_MESSAGES", "messages.mo")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture(autouse=True)
def compiled_catalogue():
    if not os.path.exists(CATALOGUE):
        pytest.skip("webapp/translations/zh/LC_MESSAGES/messages.mo is missing: run `make translations`")


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', text_of(response)).group(1)


# --- the browser's language ----------------------------------------------------------------------

def test_chinese_browser_gets_the_login_page_in_chinese(client):
    response = client.get("/login", headers=ZH)
    page = text_of(response)
    assert html_lang(response) == "zh-CN"
    assert "<h1>登录</h1>" in page and "用户名" in page
    assert "Log in" not in page and "Username" not in page


@pytest.mark.parametrize("header", ["zh", "zh-Hans-CN", "zh-TW;q=0.8, fr;q=0.5"])
def test_other_chinese_tags_also_get_chinese(client, header):
    assert "<h1>登录</h1>" in text_of(client.get("/login", headers={"Accept-Language": header}))


@pytest.mark.parametrize("header", ["en-US,en;q=0.9", "fr-FR", ""])
def test_english_or_unknown_browser_gets_english(client, header):
    response = client.get("/login", headers={"Accept-Language": header} if header else {})
    page = text_of(response)
    assert html_lang(response) == "en"
    assert "<h1>Log in</h1>" in page and "登录" not in page


def test_login_errors_are_translated(client, make_user):
    make_user("sales", username="lee")
    response = client.post("/login", data={"username": "lee", "password": "wrong password"}, headers=ZH)
    assert response.status_code == 422
    page = text_of(response)
    assert "用户名或密码错误" in page and "Wrong username or password" not in page


# --- the language switch -------------------------------------------------------------------------

def test_language_switch_sticks_for_the_session(client):
    response = client.post("/lang/zh", data={"next": "/login"}, headers=EN)
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    # the choice beats the browser's English, on every later page of the session
    assert "<h1>登录</h1>" in text_of(client.get("/login", headers=EN))
    assert "<h1>登录</h1>" in text_of(client.get("/login", headers=EN))
    # and can be switched back
    client.post("/lang/en", data={"next": "/login"}, headers=ZH)
    assert "<h1>Log in</h1>" in text_of(client.get("/login", headers=ZH))


def test_language_switch_refuses_unknown_codes_and_foreign_redirects(client):
    assert client.post("/lang/fr").status_code == 404
    response = client.post("/lang/zh", data={"next": "//evil.example.com/phish"})
    assert response.status_code == 303
    assert "evil.example.com" not in response.headers["Location"]


def test_language_switch_needs_the_csrf_token(client):
    assert client.post("/lang/zh", csrf=False).status_code == 400
    assert "<h1>Log in</h1>" in text_of(client.get("/login", headers=EN))


def test_logged_in_users_choice_is_stored_on_the_user(app, as_user):
    sales = as_user("sales", username="lee")
    assert get(app, User, sales.user_id).locale is None
    assert sales.post("/lang/zh", data={"next": "/"}, headers=EN).status_code == 303
    assert get(app, User, sales.user_id).locale == "zh"
    assert "我的待办" in text_of(sales.get("/", headers=EN))
    # a new login on another device (English browser, fresh session) is in Chinese too
    other = app.test_client()
    assert login(other, "lee").status_code == 303
    page = text_of(other.get("/", headers=EN))
    assert "我的待办" in page and "My work" not in page


def test_language_chosen_before_login_is_kept_after_login(app, make_user):
    make_user("sales", username="lee")
    client = app.test_client()
    client.post("/lang/zh", data={"next": "/login"}, headers=EN)
    assert "<h1>登录</h1>" in text_of(client.get("/login", headers=EN))
    assert login(client, "lee").status_code == 303
    assert "我的待办" in text_of(client.get("/", headers=EN))


# --- money and dates -----------------------------------------------------------------------------

def test_money_and_dates_follow_the_locale_on_an_order_page(app, as_user, make_order):
    order_id = make_order("draft", quantity="100", price="10.00", delivery_date=date(2026, 12, 20))
    sales = as_user("sales")

    english = text_of(sales.get(f"/orders/{order_id}", headers=EN))
    assert "¥1,130.00" in english and "CN¥" not in english  # the total with 13 % tax, yuan as ¥
    assert "Dec 20, 2026" in english
    assert "2026年12月20日" not in english

    sales.post("/lang/zh")
    chinese = text_of(sales.get(f"/orders/{order_id}", headers=EN))
    assert "¥1,130.00" in chinese and "CN¥" not in chinese
    assert "2026年12月20日" in chinese and "Dec 20, 2026" not in chinese
    assert "交货日期" in chinese and "合计" in chinese


@pytest.mark.parametrize("headers, expected", [
    (EN, {"CNY": "-¥1,234.50", "USD": "-$1,234.50", "EUR": "-€1,234.50"}),
    (ZH, {"CNY": "-¥1,234.50", "USD": "-US$1,234.50", "EUR": "-€1,234.50"}),
])
def test_yuan_print_as_the_plain_sign_in_both_languages(app, headers, expected):
    """Yuan are ¥ in English too (Babel's English says CN¥); other currencies keep Babel's symbols."""
    from webapp.templating import money
    with app.test_request_context("/", headers=headers):
        shown = {currency: money("-1234.5", currency) for currency in expected}
        assert money(None) == "—"
        assert money("0") == "¥0.00"
    assert shown == expected


def sent_requirement_page(app, as_user, make_customer, headers, abbreviation="ACME") -> str:
    """The customer's page of a sent requirement (expected 2026-12-20, budget 900–1200 CNY)."""
    customer_id = make_customer(abbreviation)
    sales = as_user("sales")
    response = sales.post("/requirements/new", data=requirement_form(customer_id, expected_date="2026-12-20"))
    req_id = id_from_location(response)
    sales.post(f"/requirements/{req_id}/send")
    link = customer_path(app, "requirement_confirm", req_id)
    return text_of(app.test_client().get(link, headers=headers))


def test_customer_page_follows_the_customers_browser(app, as_user, make_customer):
    """The customer (no account) reads the requirement in their browser's language."""
    page = sent_requirement_page(app, as_user, make_customer, ZH)
    assert "¥900.00 – ¥1,200.00" in page and "CN¥" not in page
    assert "确认需求" in page and "期望交货日期" in page
    assert "Confirm requirement" not in page and "Expected delivery date" not in page
    english = sent_requirement_page(app, as_user, make_customer, EN, abbreviation="OTH")
    assert "¥900.00" in english and "CN¥" not in english and "Confirm requirement" in english


def test_customer_page_shows_the_date_in_the_customers_locale(app, as_user, make_customer):
    page = sent_requirement_page(app, as_user, make_customer, ZH)
    assert "2026年12月20日" in page


# --- error pages ---------------------------------------------------------------------------------

def test_404_page_is_translated(client):
    response = client.get("/no/such/page", headers=ZH)
    assert response.status_code == 404
    page = text_of(response)
    assert "页面不存在" in page and "抱歉" in page
    assert "This page does not exist" not in page

    response = client.get("/no/such/page", headers=EN)
    assert response.status_code == 404 and "This page does not exist" in text_of(response)


def test_dead_customer_link_404_is_translated(client):
    response = client.get("/c/this-link-was-withdrawn", headers=ZH)
    assert response.status_code == 404 and "页面不存在" in text_of(response)


def test_403_page_is_translated(as_user):
    response = as_user("sales").get("/admin/", headers=ZH)
    # the user has no stored locale; the browser's Chinese applies
    assert response.status_code == 403
    assert "You are not allowed" not in text_of(response) and "抱歉" in text_of(response)


@pytest.mark.own_app  # it adds a route
def test_database_error_gives_the_translated_500_page(app, as_user):
    def broken():
        db.session.add(Customer(name="No abbreviation"))  # NOT NULL abbreviation: the flush fails
        db.session.flush()
        return "unreachable"

    app.add_url_rule("/test-only/broken", "test_only_broken", broken)
    sales = as_user("sales")
    sales.post("/lang/zh")
    response = sales.get("/test-only/broken")
    assert response.status_code == 500
    page = text_of(response)
    assert "系统出错了" in page and "Traceback" not in page and "IntegrityError" not in page


def test_every_message_has_a_chinese_translation():
    """No English leaks into the Chinese interface: every msgid of the catalogue is translated,
    with the same named placeholders."""
    import re
    from pathlib import Path

    from babel.messages.pofile import read_po
    path = Path(__file__).resolve().parent.parent / "webapp/translations/zh/LC_MESSAGES/messages.po"
    with open(path, "rb") as fh:
        catalog = read_po(fh)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == []
    # A plural message names its placeholders once per English form, once in the one Chinese form.
    mismatched = [m.id for m in catalog if m.id and set(re.findall(r"%\(\w+\)s", str(m.id)))
                  != set(re.findall(r"%\(\w+\)s", str(m.string)))]
    assert mismatched == []
