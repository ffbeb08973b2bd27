"""Going live on a phone in Chinese: the admin tries a workbook with problems and reads each one by
sheet, row and cell, then imports the corrected file; no page is wider than the phone."""
from playwright.sync_api import expect

from webapp.customers.models import Customer
from webapp.extensions import db
from webapp.stock.models import Location

from ..test_golive_import import good_rows, workbook
from .test_closing_browser import log_in
from .test_field_browser import assert_fits


def test_the_admin_reads_the_problems_then_imports_the_corrected_file(app, live_server, context, browser_problems,
                                                                      shoot, make_user, tmp_path):
    base = live_server
    make_user("admin", username="guan", name="管理员", locale="zh")
    with app.app_context():
        db.session.add_all([Location(code="FG", name="成品仓")])
        db.session.flush()
        db.session.add_all([Location(code="RAW", name="原料仓"), Location(code="LINE", name="线边仓")])
        db.session.commit()
    rows = good_rows()
    rows["customers"].append(["HDJM", "华东（重复）", "", "", "", "", "", "", "", "", ""])
    rows["materials"].append(["OAK-BOARD", "橡木板", "斤斤", None, None, None, None])
    rows["stock"].append(["SUS304-1.5", "B2609-200", "-5", "RAW", None])
    rows["orders"].append(["ZZZ", "PO-9", "BRK-200", "10", "1", "2026-12-31", None, None])
    bad, good = tmp_path / "上线数据.xlsx", tmp_path / "上线数据-改正.xlsx"
    bad.write_bytes(workbook(rows, extra_header={"products": "颜色 Colour"}))
    good.write_bytes(workbook(good_rows()))

    page = context.new_page()
    log_in(page, base, "guan")
    page.get_by_role("link", name="上线导入").first.click()
    expect(page.get_by_role("heading", name="上线导入：从 Excel 导入数据", level=1)).to_be_visible()
    page.get_by_label("Excel 工作簿（.xlsx）").set_input_files(str(bad))
    page.get_by_role("button", name="试导入（不保存）").click()
    problems = page.locator("#problems")
    expect(problems.get_by_role("heading")).to_contain_text("个问题，未导入任何数据")
    expect(problems).to_contain_text("期初库存 · 第 6 行 · C 列 · 数量*")  # four good rows from row 2, then this one
    expect(problems).to_contain_text("请输入大于零的数量。")
    expect(problems).to_contain_text("单位“斤斤”不存在。")
    expect(problems).to_contain_text("“HDJM”已在第 2 行。")
    expect(problems).to_contain_text("没有简称为“ZZZ”的客户")
    expect(problems).to_contain_text("模板中没有此列")
    # the 422 that brought the page back with its problems is the expected answer, not a problem
    browser_problems.items[:] = [i for i in browser_problems.items if "422" not in i]
    assert_fits(page)
    shoot(page, "golive-zh-problems")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Customer.id))) == 0

    page.get_by_label("Excel 工作簿（.xlsx）").set_input_files(str(good))
    page.get_by_role("button", name="试导入（不保存）").click()
    expect(page.locator("#preview")).to_contain_text("文件没有问题。尚未保存任何数据")
    assert_fits(page)
    shoot(page, "golive-zh-dry-run")
    page.get_by_label("Excel 工作簿（.xlsx）").set_input_files(str(good))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="已导入：客户 2 个")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Customer.id))) == 2
