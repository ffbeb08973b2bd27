"""Photos are seen, in a real Chromium on a 390×844 phone in Chinese: a worker raises an anomaly
with a real JPEG from the label's page; the production supervisor sees its thumbnail drawn on the
plan, on the anomaly and on the order's timeline, and taps it open at full size."""
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.photos import Photo
from webapp.production.models import WorkOrder

from ..conftest import PASSWORD
from .conftest import PHONE, drawn
from .test_order_desk_browser import settle



def camera_photo(tmp_path):
    """A real JPEG the size a phone hands over after its own downscaling (bigger than a thumbnail)."""
    image = Image.new("RGB", (1600, 1200), (225, 228, 232))
    draw = ImageDraw.Draw(image)
    draw.rectangle((300, 250, 1300, 950), fill=(30, 90, 170), outline=(10, 10, 10), width=20)
    draw.ellipse((650, 450, 950, 750), fill=(220, 60, 40))
    path = tmp_path / "leak.jpg"
    image.save(path, "JPEG", quality=85)
    return path


def log_in(page, base: str, username: str) -> None:
    """Log in through the Chinese login page (Enter in the password field: the first button is the
    language switch)."""
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page.locator("h1")).to_have_text("我的待办")


@pytest.mark.slow
def test_an_anomaly_photo_is_seen_and_opened_full_size_on_a_phone(app, live_server, browser, browser_context_args,
                                                                 browser_problems, shoot, tmp_path, make_order,
                                                                 make_user):
    base = live_server
    order_id = make_order("in_production")
    make_user("worker", username="wu", name="吴工")
    make_user("production", username="pan", name="潘主管")
    with app.app_context():
        token = db.session.scalar(db.select(WorkOrder.token).where(WorkOrder.order_id == order_id))

    def phone():
        context = browser.new_context(**{**browser_context_args, **PHONE, "locale": "zh-CN"})
        return browser_problems.watch(context).new_page()

    # --- The worker raises an anomaly from the label's page, with a photo from the camera. ---------
    worker = phone()
    log_in(worker, base, "wu")
    worker.goto(f"{base}/w/{token}")
    form = worker.locator(f"form[action='/w/{token}/anomaly']")
    worker.locator("details", has=form).locator("summary").click()
    form.locator("select[name=a-kind]").select_option("equipment_failure")
    form.locator("select[name=a-severity]").select_option("blocking")
    form.locator("textarea[name=a-note]").fill("冷却泵漏水，已停机")
    form.locator("input[name=a-photos]").set_input_files(camera_photo(tmp_path))
    form.locator("button[type=submit]").click()
    expect(worker.locator(".flash")).to_contain_text("异常已记录")
    browser_problems.check(worker)
    with app.app_context():
        photo_id = db.session.scalar(db.select(Photo.id).where(Photo.entity_type == "anomaly"))
    assert photo_id is not None

    # --- The supervisor: the thumbnail is drawn on the plan and opens full size. -------------------
    supervisor = phone()
    log_in(supervisor, base, "pan")
    supervisor.goto(f"{base}/production/orders/{order_id}")
    anomaly = supervisor.locator("li[id^=anomaly-]")
    expect(anomaly).to_contain_text("冷却泵漏水")
    expect(anomaly).to_contain_text("设备故障")
    thumb = anomaly.locator(f"a[href='/photos/{photo_id}'] img")
    expect(thumb).to_have_attribute("loading", "lazy")
    assert drawn(supervisor, thumb), "the thumbnail is not drawn on the plan"
    small_width = supervisor.evaluate("img => img.naturalWidth", thumb.element_handle())
    assert 0 < small_width <= 320, small_width  # the small re-encoded size, not the full photo
    assert supervisor.evaluate("() => document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    shoot(supervisor, "photos-zh-01-plan-thumbnail")

    thumb.click()
    dialog = supervisor.locator("dialog.photo-dialog")
    expect(dialog).to_be_visible()
    full = dialog.locator("img")
    expect(full).to_have_attribute("src", f"{base}/photos/{photo_id}")
    assert drawn(supervisor, full), "the full-size photo is not drawn"
    assert supervisor.evaluate("img => img.naturalWidth", full.element_handle()) == 1600
    box = full.bounding_box()
    assert box and box["width"] >= 380, box  # fills the phone's width
    settle(supervisor)
    shoot(supervisor, "photos-zh-02-plan-full-size")
    close = dialog.get_by_role("button", name="关闭")
    box = close.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, box
    close.click()
    expect(dialog).to_be_hidden()

    # Without the dialog (a plain link), the full image opens by itself.
    response = supervisor.request.get(f"{base}/photos/{photo_id}")
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"

    # --- The same photo on the anomaly (the label's page) and on the order's timeline. -------------
    supervisor.goto(f"{base}/w/{token}")
    thumb = supervisor.locator(f"section.card a[href='/photos/{photo_id}'] img")
    assert drawn(supervisor, thumb), "the thumbnail is not drawn on the anomaly"
    shoot(supervisor, "photos-zh-03-anomaly")
    supervisor.goto(f"{base}/orders/{order_id}/timeline")
    entry = supervisor.locator("ol.story li", has_text="已上报异常")
    expect(entry).to_contain_text("冷却泵漏水")
    expect(entry).to_contain_text("设备故障")
    thumb = entry.locator(f"a[href='/photos/{photo_id}'] img")
    assert drawn(supervisor, thumb), "the thumbnail is not drawn on the timeline"
    assert supervisor.evaluate("() => document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    shoot(supervisor, "photos-zh-04-timeline")
    browser_problems.check(supervisor)

    # --- Someone who may not see it (a courier's login) gets no picture. ---------------------------
    make_user("courier", username="ma", name="马师傅")
    courier = phone()
    log_in(courier, base, "ma")
    response = courier.request.get(f"{base}/photos/{photo_id}")
    assert response.status == 403
