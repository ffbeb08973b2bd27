"""Pages of the installable app that need no browser: WeChat's in-app browser is told what works."""
import re

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


def test_wechat_browser_gets_told_how_to_work_offline(client):
    """In WeChat's browser every online page works, and the page explains how to open it in the
    system browser or install it for offline use; other browsers do not see that note."""
    page = client.get("/login", headers={"User-Agent": WECHAT_UA}).get_data(as_text=True)
    assert "You are in WeChat&#39;s browser." in page or "You are in WeChat's browser." in page
    assert "Open in browser" in page
    plain = client.get("/login", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/126"})
    assert "WeChat" not in plain.get_data(as_text=True)


def test_every_page_links_the_manifest_and_loads_the_outbox(client):
    """Each page is installable (manifest, icons) and carries the outbox island and its settings."""
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert re.search(r"/static/js/outbox\.[0-9a-f]{8}\.js", page) and re.search(r"/static/js/outbox-store\.[0-9a-f]{8}\.js", page)
    assert 'id="app-config"' in page and 'id="outbox-badge"' in page


def test_manifest_speaks_the_phones_language(client):
    """The installed app's name follows the phone's language: Chinese for a Chinese phone."""
    zh = client.get("/manifest.webmanifest", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()
    en = client.get("/manifest.webmanifest", headers={"Accept-Language": "en-GB"}).get_json()
    assert zh["lang"] == "zh-CN" and en["lang"] == "en"
    assert en["name"] == "Order tracker" and zh["name"] == "订单跟踪"
    assert zh["start_url"] == en["start_url"] == "/" and zh["display"] == "standalone"


def test_a_page_kept_for_later_leaves_the_flashed_messages_to_the_page_being_opened(as_user):
    """The service worker keeps pages in the background (X-Kept-Page) with the person's cookie while
    they open another: the kept copy must not take the message meant for the page they see (a floor
    phone sent back to the switch screen lost its "why")."""
    person = as_user("operations")
    with person.session_transaction() as session:
        session["_flashes"] = [("error", "Only your work orders open on this phone.")]
    kept = person.get("/", headers={"X-Kept-Page": "1"})
    assert kept.status_code == 200 and "Only your work orders" not in kept.get_data(as_text=True)
    shown = person.get("/")
    assert "Only your work orders open on this phone." in shown.get_data(as_text=True)
