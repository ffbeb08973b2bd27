"""The going-live templates: one sheet per kind of record, each column named in Chinese and English,
with an example row and a notes sheet (docs/import.md says the same in prose). The importer reads the
same table, so the download and what is accepted can never disagree."""
from dataclasses import dataclass
from datetime import date
from io import BytesIO

from flask_babel import get_locale
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

# Units a firm counts in (docs/import.md); any unit already used by a product or material counts too.
STANDARD_UNITS = ("pcs", "件", "个", "只", "支", "套", "台", "把", "块", "张", "片", "根", "条", "卷", "盒", "箱",
                  "包", "袋", "桶", "瓶", "对", "双", "组", "kg", "g", "t", "吨", "千克", "克", "m", "mm", "cm",
                  "米", "m²", "㎡", "m³", "L", "mL", "升")


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its key, its names, whether a value is required, how it is read
    (text, number, whole, date, unit, yesno, status), its limits and its explanation in both languages."""

    key: str
    zh: str
    en: str
    kind: str = "text"
    required: bool = False
    example: object = ""
    max_length: int = 200
    places: int = 3
    note_zh: str = ""
    note_en: str = ""

    @property
    def header(self) -> str:
        """The header cell as the template writes it ("客户简称* Abbreviation": * marks a required column)."""
        return f"{self.zh}{'*' if self.required else ''} {self.en}"


@dataclass(frozen=True)
class Kind:
    """One sheet of the template: a kind of record and its columns."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]

    @property
    def sheet_name(self) -> str:
        """The sheet's name in the template ("客户 Customers")."""
        return f"{self.zh} {self.en}"


KINDS = (
    Kind("customers", "客户", "Customers", (
        Column("abbreviation", "客户简称", "Abbreviation", required=True, example="HDJM", max_length=8,
               note_zh="2–8 位大写字母或数字，用于订单编号，不可重复", note_en="2–8 capital letters or digits, used in order numbers; unique"),
        Column("name", "客户名称", "Name", required=True, example="华东精密机械有限公司", note_zh="全称", note_en="Full name"),
        Column("contact_name", "联系人", "Contact person", example="钱经理", max_length=100),
        Column("contact_phone", "联系电话", "Contact phone", example="13800138001", max_length=40),
        Column("contact_email", "联系邮箱", "Contact e-mail", example="qian@hdjm.example.cn"),
        Column("address", "地址", "Address", example="上海市嘉定区安亭镇墨玉路 88 号", max_length=1000),
        Column("locale", "语言", "Language", example="zh", note_zh="zh 或 en，空＝zh", note_en="zh or en; empty: zh"),
        Column("currency", "币种", "Currency", example="CNY", note_zh="三位字母代码，空＝CNY", note_en="Three-letter code; empty: CNY"),
        Column("prepayment_pct", "预付款比例%", "Prepayment %", kind="number", example=30, places=2,
               note_zh="0–100，空＝30", note_en="0 to 100; empty: 30"),
        Column("credit_days", "账期天数", "Credit days", kind="whole", example=30,
               note_zh="0–365 的整数，空＝30", note_en="Whole number 0 to 365; empty: 30"),
        Column("tax_id", "税号", "Tax ID", example="", max_length=20,
               note_zh="统一社会信用代码，15–20 位字母或数字", note_en="Unified social credit code, 15 to 20 letters or digits"),
    )),
    Kind("products", "产品", "Products", (
        Column("model", "产品型号", "Model", required=True, example="BRK-200", max_length=60,
               note_zh="不可重复", note_en="Unique"),
        Column("name", "产品名称", "Name", required=True, example="不锈钢支架 Stainless bracket"),
        Column("unit", "单位", "Unit", kind="unit", required=True, example="件",
               note_zh="见说明中的单位列表", note_en="See the units in the notes"),
        Column("list_price", "标价（不含税）", "List price (without tax)", kind="number", example="12.50", places=2,
               note_zh="元，可写 1,280.50；空＝0", note_en="Yuan; 1,280.50 is read; empty: 0"),
        Column("barcode", "条码", "Barcode", example="", max_length=60,
               note_zh="EAN-13 或 Code 128，不可重复", note_en="EAN-13 or Code 128; unique"),
    )),
    Kind("materials", "物料", "Materials", (
        Column("code", "物料编码", "Code", required=True, example="SUS304-1.5", max_length=60,
               note_zh="不可重复", note_en="Unique"),
        Column("name", "物料名称", "Name", required=True, example="不锈钢板 SUS304 1.5mm"),
        Column("stock_unit", "库存单位", "Stock unit", kind="unit", required=True, example="kg"),
        Column("purchase_unit", "采购单位", "Purchase unit", kind="unit", example="t",
               note_zh="空＝库存单位", note_en="Empty: the stock unit"),
        Column("purchase_factor", "换算系数", "Stock units per purchase unit", kind="number", example=1000, places=6,
               note_zh="1 采购单位＝多少库存单位，空＝1", note_en="How many stock units one purchase unit is; empty: 1"),
        Column("customer", "客供料客户简称", "Supplied by customer", example="",
               note_zh="客供料填客户简称，否则留空", note_en="For customer-supplied material (客供料): the customer's abbreviation"),
        Column("inspect", "来料检验", "Inspect on receipt", kind="yesno", example="否",
               note_zh="是/否，空＝否", note_en="yes/no; empty: no"),
    )),
    Kind("boms", "BOM", "Bills of materials", (
        Column("product", "产品型号", "Product model", required=True, example="BRK-200",
               note_zh="产品表或系统中已有的型号", note_en="A model from the products sheet or already in the app"),
        Column("material", "物料编码", "Material code", required=True, example="SUS304-1.5",
               note_zh="物料编码；半成品可填产品型号", note_en="A material code; for a sub-assembly, a product model"),
        Column("quantity_per", "单件用量", "Quantity per piece", kind="number", required=True, example="0.085", places=6,
               note_zh="按物料库存单位，大于 0", note_en="In the material's stock unit; above zero"),
        Column("scrap_percent", "损耗率%", "Scrap %", kind="number", example=3, places=2,
               note_zh="0 至 100 以下，空＝0", note_en="0 to under 100; empty: 0"),
    )),
    Kind("stock", "期初库存", "Stock on hand", (
        Column("code", "物料编码或产品型号", "Material code or product model", required=True, example="SUS304-1.5"),
        Column("lot", "批号", "Lot number", required=True, example="B2609-114", max_length=60,
               note_zh="炉号/批次号；同一物料同一批号只写一次每个库位", note_en="Heat or batch number; once per material, lot and location"),
        Column("quantity", "数量", "Quantity", kind="number", required=True, example="2,000", places=6,
               note_zh="按库存单位，大于 0，可写 2,000", note_en="In the stock unit; above zero; 2,000 is read"),
        Column("location", "库位", "Location", example="RAW",
               note_zh="已有库位的编码，空＝默认仓", note_en="An existing location's code; empty: the default one"),
        Column("unit_cost", "单位成本", "Unit cost", kind="number", example="16.80", places=6,
               note_zh="每库存单位的成本（元，不含税），用于成本核算", note_en="Cost per stock unit (yuan, without tax), for costing"),
    )),
    Kind("orders", "未完成订单", "Open orders", (
        Column("customer", "客户简称", "Customer abbreviation", required=True, example="HDJM"),
        Column("customer_po", "客户订单号", "Customer PO", required=True, example="PO-2026-118", max_length=60,
               note_zh="同一客户同一订单号的多行为一张订单的多个明细", note_en="Rows with the same customer and PO are one order's lines"),
        Column("product", "产品型号", "Product model", required=True, example="BRK-200"),
        Column("quantity", "数量", "Quantity", kind="number", required=True, example="2,000", places=3),
        Column("unit_price", "单价（不含税）", "Unit price (without tax)", kind="number", required=True,
               example="12.50", places=2),
        Column("delivery_date", "交货日期", "Delivery date", kind="date", required=True, example=date(2026, 12, 20),
               note_zh="Excel 日期或 yyyy-mm-dd 文本", note_en="An Excel date, or text yyyy-mm-dd"),
        Column("status", "状态", "Status", kind="status", example="已生效",
               note_zh="已生效（已签合同，直接生效）或 草稿（在系统中评审）；空＝已生效",
               note_en="effective (signed before going live) or draft (reviewed in the app); empty: effective"),
        Column("prepayment_pct", "预付款比例%", "Prepayment %", kind="number", example=0, places=2,
               note_zh="空＝客户默认；预付款已收填 0", note_en="Empty: the customer's default; 0 if it was received already"),
        Column("exchange_rate", "汇率", "Exchange rate", kind="number", places=6,
               note_zh="客户币种不是本公司币种时必填：1 单位外币折合本币金额，如 7.1",
               note_en="Required when the customer's currency is not the firm's: the firm's currency per unit, e.g. 7.1"),
    )),
)
KINDS_BY_KEY = {kind.key: kind for kind in KINDS}
ORDER_STATUSES = {"effective": "effective", "已生效": "effective", "生效": "effective",
                  "draft": "draft", "草稿": "draft"}
NOTES_SHEET = "说明 Notes"
EXAMPLE_FILL = PatternFill("solid", fgColor="EEEEEE")


def chinese() -> bool:
    """Whether the reader reads Chinese (the page then shows the Chinese explanations)."""
    return str(get_locale() or "zh").startswith("zh")


def name_of(item) -> str:
    """A kind's or a column's name in the reader's language (a required column's with its *)."""
    name = item.zh if chinese() else item.en
    return f"{name}*" if getattr(item, "required", False) else name


def note_of(column: Column) -> str:
    """A column's explanation in the reader's language."""
    return column.note_zh if chinese() else column.note_en


def template_bytes(filled: dict | None = None) -> bytes:
    """The template workbook: a sheet per kind (bold bilingual header, a grey example row) and the notes;
    filled (kind → rows) writes those rows instead of the example (the filled-in sample)."""
    book = Workbook()
    book.remove(book.active)
    for kind in KINDS:
        sheet = book.create_sheet(kind.sheet_name)
        sheet.append([column.header for column in kind.columns])
        rows = filled.get(kind.key, []) if filled is not None else [[c.example if c.example != "" else None
                                                                      for c in kind.columns]]
        for values in rows:
            sheet.append(list(values))
        for index, column in enumerate(kind.columns, start=1):
            header = sheet.cell(row=1, column=index)
            header.font = Font(bold=True, color="B00020" if column.required else "000000")
            header.alignment = Alignment(wrap_text=True, vertical="center")
            if filled is not None:
                sheet.column_dimensions[get_column_letter(index)].width = max(14, min(40, len(column.header) + 6))
                continue
            example = sheet.cell(row=2, column=index)
            example.font, example.fill = Font(italic=True, color="666666"), EXAMPLE_FILL
            if column.kind == "date":
                example.number_format = "yyyy-mm-dd"
            elif column.kind in ("number", "whole"):
                example.number_format = "#,##0.######"
            else:
                example.number_format = "@"  # codes stay text (a leading zero, a long barcode)
            sheet.column_dimensions[get_column_letter(index)].width = max(14, min(40, len(column.header) + 6))
        sheet.freeze_panes = "A2"
    notes = book.create_sheet(NOTES_SHEET)
    notes.append(["工作表 Sheet", "列 Column", "必填 Required", "说明", "Notes"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for kind in KINDS:
        for column in kind.columns:
            notes.append([kind.sheet_name, column.header, "是 yes" if column.required else "",
                          column.note_zh, column.note_en])
    for line in GENERAL_NOTES:
        notes.append(["", "", "", *line])
    notes.append(["", "", "", "单位：" + "、".join(STANDARD_UNITS), "Units: " + ", ".join(STANDARD_UNITS)])
    for letter, width in zip("ABCDE", (22, 34, 12, 60, 60)):
        notes.column_dimensions[letter].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()


GENERAL_NOTES = (
    ("灰色斜体的第二行是示例：原样保留时不会导入，请删除或覆盖。", "The grey italic second row is an example: left unchanged it is not imported; delete or overwrite it."),
    ("标 * 的列必填。列名可写中文、英文或中英文。", "Columns marked * are required. A column may be named in Chinese, English or both."),
    ("数字可写 2,000 或全角数字；逗号只表示千位分隔。", "Numbers may be written 2,000 or in full-width digits; a comma only groups thousands."),
    ("日期为 Excel 日期或 yyyy-mm-dd 文本。", "Dates are Excel dates or text yyyy-mm-dd."),
    ("导入顺序：客户、产品、物料、BOM、期初库存、订单；后面的表可引用同一文件中前面的表。", "Import order: customers, products, materials, BOMs, stock, orders; a later sheet may name records of an earlier one in the same file."),
    ("文件有任何错误时什么都不导入。", "Nothing is imported while the file has any error."),
)


# A filled-in sample (a small hardware firm going live) that imports into any database once: it names
# only what it adds itself, and its stock goes to the default location. Uploaded a second time, it shows
# the duplicate checks.
SAMPLE = {
    "customers": [["NBHY", "宁波海跃五金有限公司", "孙经理", "13600136001", "sun@nbhy.example.cn",
                   "浙江省宁波市北仑区新碶街道 18 号", "zh", "CNY", 30, 30, ""],
                  ["ORIN", "Orion Fittings Ltd", "Mark Lee", "+44 161 496 0000", "mark@orion.example.com",
                   "12 Mill Lane, Manchester M1 2AB, UK", "en", "CNY", 50, 45, ""]],
    "products": [["HNG-30", "不锈钢合页 30 mm Hinge", "件", "3.20", None],
                 ["HDL-120", "铝合金拉手 120 mm Handle", "件", "9.80", None]],
    "materials": [["SUS304-1.0", "不锈钢板 SUS304 1.0mm", "kg", "t", 1000, None, "否"],
                  ["AL6063-BAR", "铝型材 6063", "kg", "kg", 1, None, "是"],
                  ["RIVET-3", "铆钉 Φ3", "件", "盒", 1000, None, "否"]],
    "boms": [["HNG-30", "SUS304-1.0", "0.012", 3], ["HNG-30", "RIVET-3", 2, None],
             ["HDL-120", "AL6063-BAR", "0.085", 5]],
    "stock": [["SUS304-1.0", "HY2611-01", "1,200", None, "15.60"],
              ["AL6063-BAR", "AL2611-07", 800, None, "22.40"],
              ["RIVET-3", "RV2611", "50,000", None, "0.008"],
              ["HNG-30", "HNG-OPEN", 3000, None, "1.70"]],
    "orders": [["NBHY", "HY-PO-2611-05", "HNG-30", "20,000", "3.10", date(2026, 12, 18), "已生效", 0],
               ["NBHY", "HY-PO-2611-05", "HDL-120", 2000, "9.50", date(2026, 12, 18), "已生效", 0],
               ["ORIN", "OR-7781", "HDL-120", 500, "10.20", "2027-01-20", "草稿", None]],
}


def sample_bytes() -> bytes:
    """The filled-in sample workbook."""
    return template_bytes(SAMPLE)
