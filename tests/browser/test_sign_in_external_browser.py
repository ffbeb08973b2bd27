"""Signing in with WeChat Work (企业微信) or DingTalk (钉钉) in a real Chromium at 390×844 in Chinese,
against the fake providers on 127.0.0.1 (their authorize pages send the browser straight back with a
code, as after a scan): the login page's big buttons with their Chinese labels, the in-app browser's
provider first, the page after the provider signing in by itself (autosubmit.js, under the strict
CSP), and an account nobody linked refused with the message to ask the administrator."""
from playwright.sync_api import expect

from ..fake_sign_in import providers  # noqa: F401  (fixture)
from .test_field_browser import assert_fits

WXWORK_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")
DINGTALK_UA = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
               "Mobile Safari/537.36 AliApp(DingTalk/7.0.40) com.alibaba.android.rimet/0 language/zh-Hans-CN")


def phone(browser, browser_context_args, browser_problems, **extra):
    """A fresh, watched phone in Chinese."""
    return browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN", **extra}))


def test_sign_in_with_wecom_or_dingtalk_on_a_phone_in_chinese(
        app, live_server, providers, as_user, make_user, browser, browser_context_args, browser_problems, shoot):
    """The buttons, a WeCom sign-in that lands on the page asked for, and a refused DingTalk account."""
    admin = as_user("admin")
    person_id = make_user("sales", username="li", name="李雷")
    admin.post(f"/admin/users/{person_id}/identities", data={"provider": "wecom", "external_id": "LiLei"})

    page = phone(browser, browser_context_args, browser_problems).new_page()
    page.goto(live_server + "/login?next=/orders/")
    wecom, dingtalk = page.locator("a.sign-in.wecom"), page.locator("a.sign-in.dingtalk")
    expect(wecom).to_have_text("企业微信登录")
    expect(dingtalk).to_have_text("钉钉登录")
    for button in (wecom, dingtalk):  # big tap targets, the whole width of the card
        box = button.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 300, box
    expect(page.locator("input[name=password]")).to_be_visible()  # passwords still work
    assert_fits(page)
    shoot(page, "sign-in-zh-01-login-buttons")

    providers.wecom_codes["CODE1"], providers.next_code = "LiLei", "CODE1"
    wecom.click()
    page.wait_for_url(live_server + "/orders/")
    expect(page.locator("header .who")).to_have_text("李雷")
    shoot(page, "sign-in-zh-02-signed-in")

    # Nobody linked this DingTalk account: back on the login page with what to do.
    stranger = phone(browser, browser_context_args, browser_problems).new_page()
    providers.dingtalk_codes["AUTH9"], providers.next_code = "unionStranger", "AUTH9"
    stranger.goto(live_server + "/login")
    stranger.locator("a.sign-in.dingtalk").click()
    message = stranger.locator("p.flash.error")
    expect(message).to_contain_text("请让管理员")
    expect(message).to_contain_text("unionStranger")
    expect(stranger.locator("input[name=username]")).to_be_visible()
    assert_fits(stranger)
    shoot(stranger, "sign-in-zh-03-not-linked")
    expected = [item for item in browser_problems.items if "403" in item and "/login/dingtalk/callback" in item]
    assert len(expected) == 1, browser_problems.items  # the refusal's status, as the browser logs it
    browser_problems.items.remove(expected[0])

    # Inside the WeCom app its button comes first.
    in_app = phone(browser, browser_context_args, browser_problems, user_agent=WXWORK_UA).new_page()
    in_app.goto(live_server + "/login")
    expect(in_app.locator("a.sign-in").first).to_have_text("企业微信登录")
    in_dingtalk = phone(browser, browser_context_args, browser_problems,
                        user_agent=DINGTALK_UA).new_page()
    in_dingtalk.goto(live_server + "/login")
    expect(in_dingtalk.locator("a.sign-in").first).to_have_text("钉钉登录")
    shoot(in_dingtalk, "sign-in-zh-04-inside-dingtalk")


def test_the_admin_links_an_account_on_the_user_page(
        app, live_server, providers, make_user, browser, browser_context_args, browser_problems, shoot):
    """The admin's user page on a phone: the link form, a linked account and its unlink button."""
    from ..conftest import PASSWORD
    make_user("admin", username="boss", name="管理员")
    person_id = make_user("sales", username="li", name="李雷")
    page = phone(browser, browser_context_args, browser_problems).new_page()
    page.goto(live_server + "/login")
    page.locator("input[name=username]").fill("boss")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("header .who")).to_have_text("管理员")
    page.goto(live_server + f"/admin/users/{person_id}")
    section = page.locator("#sign-in-accounts")
    section.locator("select[name=provider]").select_option("dingtalk")
    section.locator("input[name=external_id]").fill("bad id")
    section.locator("button[type=submit]").click()
    expect(page.locator("#sign-in-accounts .error")).to_contain_text("不能有空格")
    expected = [item for item in browser_problems.items if "422" in item and "/identities" in item]
    assert len(expected) == 1, browser_problems.items  # the refused form's status, as the browser logs it
    browser_problems.items.remove(expected[0])
    page.locator("#sign-in-accounts input[name=external_id]").fill("union123")
    page.locator("#sign-in-accounts button[type=submit]").click()
    expect(page.locator("#sign-in-accounts .title")).to_have_text("钉钉 unionId: union123")
    expect(page.locator("#sign-in-accounts button.danger")).to_have_text("解除绑定")
    assert_fits(page)
    shoot(page, "sign-in-zh-05-admin-user-page")
