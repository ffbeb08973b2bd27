"""A person makes an API token on their phone, in Chinese, copies it once, and an outside system uses
it; the API reference page reads on a phone with nothing wider than the screen and no CSP violation."""
import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def api_get(url: str, token: str) -> tuple[int, dict]:
    """GET url with the token as an outside system would: (status, JSON body)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_make_use_and_revoke_a_token_on_a_phone_in_chinese(app, live_server, open_context, browser_problems, shoot,
                                                         make_user, make_order):
    """Make a read-and-write token (shown once), read orders with it over HTTP, revoke it."""
    base = live_server
    make_order("effective", customer="APIB")
    make_user("sales", username="lin", name="林销售", locale="zh")
    page = open_context().new_page()
    log_in(page, base, "lin")
    page.goto(f"{base}/account")
    page.get_by_role("link", name="管理 API 令牌").click()
    page.get_by_label("用途").fill("网店")
    page.get_by_label("读写").check()
    page.get_by_role("button", name="生成令牌").click()
    token = page.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"trk_[\w-]{43}", token)
    expect(page.get_by_text("请现在复制：它只显示这一次。")).to_be_visible()
    assert_fits(page)
    shoot(page, "issue16-zh-api-token-made")

    status, body = api_get(f"{base}/api/v1/orders", token)
    assert status == 200 and len(body["data"]) == 1

    page.goto(f"{base}/account/api-tokens")
    expect(page.locator("body")).not_to_contain_text(token)
    expect(page.locator(".list")).to_contain_text("网店")
    page.get_by_role("button", name="吊销").click()
    expect(page.locator(".list")).to_contain_text("已吊销")
    status, body = api_get(f"{base}/api/v1/orders", token)
    assert status == 401 and body["type"] == "/api/v1/problems/invalid-token"

    page.goto(f"{base}/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_contain_text("API")
    expect(page.locator("#op-create_retail_order")).to_contain_text("/api/v1/retail-orders")
    assert_fits(page)
    shoot(page, "issue16-zh-api-reference")
    browser_problems.check(page)
