"""A first article (首件确认) on the customer's Chinese phone (390×844): the customer opens the link, sees
the photo and the measured values against their limits, approves with a comment and their name, and the
page says so in Chinese; the decision is stored once. QC's inspect page fits the same phone."""
import re

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.quality.models import FirstArticle, InspectionValue

from ..helpers import customer_path, get
from ..test_quality import received_lot
from ..test_quality_first_article import make_first_article, set_first_article
from .test_closing_browser import log_in
from .test_field_browser import assert_fits
from .conftest import drawn


def test_customer_approves_the_first_article_on_a_phone(app, live_server, browser, browser_context_args,
                                                        browser_problems, as_user, work_order, shoot):
    set_first_article(app, "always")
    qc = as_user("qc", username="inspector", name="Ines Inspector")
    article_id = make_first_article(app, qc, work_order.id)
    link = live_server + customer_path(app, "first_article", article_id)
    context = browser_problems.watch(browser.new_context(**{**browser_context_args, "locale": "zh-CN"}))
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.get_by_role("heading", name="请确认首件", level=1)).to_be_visible()
        assert drawn(page, page.locator(".fa-photos img").first), "the first article's photo is not drawn"
        values = page.locator("table.stack tbody tr").first
        expect(values).to_contain_text("Length")
        expect(values).to_contain_text("100.2")
        expect(values).to_contain_text("99.5")
        expect(values).to_contain_text("合格")
        assert_fits(page)
        shoot(page, "quality-first-article-customer-zh")
        page.get_by_label("您的姓名").fill("王经理")
        page.get_by_label("意见").fill("尺寸和表面都可以，请安排量产。")
        page.get_by_role("button", name="确认首件").click()
        expect(page.get_by_role("heading", name="谢谢", level=1)).to_be_visible()
        expect(page.locator("body")).to_contain_text("您已确认首件")
        expect(page.locator("body")).to_contain_text("尺寸和表面都可以")
        assert_fits(page)
        shoot(page, "quality-first-article-customer-zh-approved")
        # the back button and a second tap: nothing changes
        page.go_back()
        expect(page.locator("body")).to_contain_text(re.compile("您已确认首件|已经确认过了"))
    finally:
        context.close()
    article = get(app, FirstArticle, article_id)
    assert (article.status, article.decided_by_name) == ("approved", "王经理")
    assert article.customer_comment == "尺寸和表面都可以，请安排量产。"


def test_the_inspect_page_fits_a_phone(app, live_server, context, make_user, shoot):
    received_lot(app)
    make_user("qc", username="inspector-zh", name="检验员", locale="zh")
    page = context.new_page()
    log_in(page, live_server, "inspector-zh")
    page.goto(live_server + "/quality/")
    assert_fits(page)
    shoot(page, "quality-index-zh")
    page.get_by_role("button", name="检验").first.click()
    expect(page.locator("p.sample")).to_contain_text("ISO 2859-1 一般检验水平 II，样本量字码 H，n=50，Ac 1 Re 2")
    with app.app_context():
        rows = db.session.scalars(db.select(InspectionValue).order_by(InspectionValue.id)).all()
    page.locator(f"#value-{rows[0].id}").fill("10.3")
    page.get_by_role("button", name="保存测量值").click()
    expect(page.locator(f"#value-{rows[0].id}")).to_have_value("10.3")
    expect(page.locator(".check-row.out")).to_have_count(1)  # out of limits, shown as such
    assert_fits(page)
    shoot(page, "quality-inspect-zh")
