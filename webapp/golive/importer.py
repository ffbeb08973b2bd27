"""Reading a going-live workbook (sheets.py's template): the file is sniffed, every cell of every row
read and checked, references looked up in the same file and in the app, and the problems listed per
sheet, row and cell. Only a file without a single problem is imported, in one transaction, in the
order customers, products, materials, BOMs, stock on hand, open orders."""
import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .. import audit
from ..customers import Customer, Product
from ..extensions import db
from ..firm import get_settings
from ..forms import NumberError, parse_decimal
from ..orders import Order, OrderLine, lifecycle, new_order, recalculate, submit_order
from ..stock import BomVersion, Location, Lot, Material, bom, ledger, products
from ..templating import fine_quantity
from .sheets import KINDS, KINDS_BY_KEY, NOTES_SHEET, ORDER_STATUSES, STANDARD_UNITS, Column, Kind, name_of

MAX_BYTES = 5 * 1024 * 1024  # far more than the rows below take; a bigger file is refused unread
MAX_UNZIPPED = 60 * 1024 * 1024  # what the workbook's parts may unpack to (a zip bomb stops here)
MAX_ROWS = 2000  # data rows in all sheets together: a firm going live splits a bigger file (5,000 stock rows
# took 20-28 s to post through the ledger on a 2-core machine, past what a web worker should hold)
MAX_PROBLEMS = 500  # listed; a file with more is refused with the first ones
PREVIEW_ROWS = 5
NUMBERS = Locale.parse("en")  # in a spreadsheet a comma groups thousands, a point marks decimals
ABBREVIATION = re.compile(r"[A-Z0-9]{2,8}")
CURRENCY = re.compile(r"[A-Z]{3}")
TAX_ID = re.compile(r"[A-Z0-9]{15,20}")
DATE_TEXT = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
YES = {"是", "yes", "y", "true", "1", "✓", "√"}
NO = {"否", "no", "n", "false", "0", ""}
ABOVE_ZERO = {"quantity", "quantity_per", "purchase_factor"}


class ImportRefused(ValueError):
    """The file as a whole cannot be read (too big, not a workbook, too many rows); translated."""


@dataclass
class Problem:
    """One problem: the sheet, the row (1 = the header), the cell's column letter and header, what is wrong."""

    sheet: str
    row: int
    column: str
    header: str
    message: str
    place: int = len(KINDS)  # its sheet's place in the import order (the list is sorted by it)


@dataclass
class Row:
    """One data row: its number in the sheet, its values as read, and as typed (for the preview)."""

    number: int
    values: dict
    shown: dict
    ok: bool = True


@dataclass
class Plan:
    """What a file would create, and its problems."""

    rows: dict = field(default_factory=lambda: {kind.key: [] for kind in KINDS})
    sheet_names: dict = field(default_factory=dict)
    letters: dict = field(default_factory=dict)  # kind → column key → letter
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing is wrong: only then may it be imported."""
        return not self.problems

    def add(self, kind: Kind, row: int, key: str | None, message: str) -> None:
        """Note a problem of kind's sheet in row, in column key (None: the row or sheet as a whole)."""
        column = next((c for c in kind.columns if c.key == key), None) if key else None
        self.problems.append(Problem(name_of(kind), row, self.letters.get(kind.key, {}).get(key, "") if key else "",
                                     name_of(column) if column else "", message, KINDS.index(kind)))

    def counts(self) -> dict[str, int]:
        """How many records of each kind the file makes (orders: orders, not lines)."""
        out = {kind.key: len(self.rows[kind.key]) for kind in KINDS}
        out["orders"] = len({(r.values["customer"], r.values["customer_po"]) for r in self.rows["orders"]})
        out["boms"] = len({r.values["product"] for r in self.rows["boms"]})
        return out


def normal(text) -> str:
    """A name or code as compared: full-width folded, no stars, spaces squeezed, case ignored."""
    folded = unicodedata.normalize("NFKC", str(text or "")).replace("*", " ")
    return " ".join(folded.split()).casefold()


def _sniff(data: bytes) -> None:
    """Refuse what is no XLSX workbook before openpyxl sees it."""
    if not data:
        raise ImportRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(size)s MB; split it into smaller files.",
                              size=MAX_BYTES // (1024 * 1024)))
    if not data.startswith(b"PK\x03\x04"):
        raise ImportRefused(_("This is not an Excel workbook (.xlsx): a CSV or an old .xls file renamed .xlsx "
                              "is not read. Open it in Excel or WPS and save it as an Excel workbook (.xlsx)."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRefused(_("The workbook is damaged and cannot be opened; save it again from Excel or WPS.")) from None
    if "xl/workbook.xml" not in names:
        raise ImportRefused(_("This is not an Excel workbook (.xlsx): a CSV or an old .xls file renamed .xlsx "
                              "is not read. Open it in Excel or WPS and save it as an Excel workbook (.xlsx)."))
    if unpacked > MAX_UNZIPPED:
        raise ImportRefused(_("The file is larger than %(size)s MB; split it into smaller files.",
                              size=MAX_UNZIPPED // (1024 * 1024)))


def _kind_of(title: str) -> Kind | None:
    """The kind a sheet's name stands for ("客户 Customers", "客户", "Customers", "customers")."""
    name = normal(title)
    for kind in KINDS:
        if name in {normal(kind.sheet_name), normal(kind.zh), normal(kind.en), kind.key}:
            return kind
    return None


def _column_of(kind: Kind, header) -> Column | None:
    """The column a header cell names (bilingual, Chinese, English or the key)."""
    name = normal(header)
    for column in kind.columns:
        if name in {normal(column.header), normal(column.zh), normal(column.en), column.key}:
            return column
    return None


def _shown(value) -> str:
    """A cell as the preview and the messages show it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read(data: bytes) -> Plan:
    """Read and check the whole file; the plan holds its rows and every problem found."""
    _sniff(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of styles and extensions it does not read
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a damaged part
        raise ImportRefused(_("The workbook is damaged and cannot be opened; save it again from Excel or WPS.")) from None
    plan, total = Plan(), 0
    try:
        for sheet in book.worksheets:
            if normal(sheet.title) in {normal(NOTES_SHEET), "说明", "notes"}:
                continue
            kind = _kind_of(sheet.title)
            if kind is None:
                plan.problems.append(Problem(sheet.title, 0, "", "", _(
                    "This sheet is not one of the template's; name it as in the template (for example “客户 Customers”) or remove it.")))
                continue
            if kind.key in plan.sheet_names:
                plan.problems.append(Problem(sheet.title, 0, "", "", _("This kind of record is on another sheet already (%(sheet)s).",
                                                                       sheet=plan.sheet_names[kind.key])))
                continue
            plan.sheet_names[kind.key] = sheet.title
            total = _read_sheet(plan, kind, sheet, total)
    except ImportRefused:
        raise
    except Exception:  # a read-only workbook parses each sheet's XML only now
        raise ImportRefused(_("The workbook is damaged and cannot be opened; save it again from Excel or WPS.")) from None
    finally:
        book.close()
    _check(plan)
    plan.problems.sort(key=lambda p: (p.place, p.row, len(p.column), p.column))
    del plan.problems[MAX_PROBLEMS:]
    return plan


def _read_sheet(plan: Plan, kind: Kind, sheet, total: int) -> int:
    """Read one sheet's header and rows into the plan; return the data rows read so far in the file."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        column, letter = _column_of(kind, cell), get_column_letter(index + 1)
        if column is None:
            plan.problems.append(Problem(name_of(kind), 1, letter, _shown(cell), _(
                "This column is not in the template; check its name against the template or remove it."), KINDS.index(kind)))
        elif column.key in positions:
            plan.problems.append(Problem(name_of(kind), 1, letter, name_of(column), _(
                "This column is in the sheet twice (also column %(letter)s).",
                letter=get_column_letter(positions[column.key] + 1)), KINDS.index(kind)))
        else:
            positions[column.key] = index
    plan.letters[kind.key] = {key: get_column_letter(index + 1) for key, index in positions.items()}
    missing = [column for column in kind.columns if column.required and column.key not in positions]
    for column in missing:
        plan.problems.append(Problem(name_of(kind), 1, "", name_of(column), _("The required column is missing."), KINDS.index(kind)))
    if missing:
        return total
    example = [normal(_shown(c.example)) for c in kind.columns]
    for number, values in enumerate(rows, start=2):
        cells = {key: values[index] if index < len(values) else None for key, index in positions.items()}
        if all(_shown(value) == "" for value in cells.values()):
            continue
        if number == 2 and [normal(_shown(cells.get(c.key))) for c in kind.columns] == example:
            continue  # the template's example row, left as it was downloaded
        total += 1
        if total > MAX_ROWS:
            raise ImportRefused(_("The file has more than %(rows)s rows; split it into smaller files.", rows=MAX_ROWS))
        row = Row(number, {}, {key: _shown(value) for key, value in cells.items()})
        for column in kind.columns:
            try:
                row.values[column.key] = _value(column, cells.get(column.key))
            except ValueError as problem:
                row.ok = False
                row.values[column.key] = None
                plan.add(kind, number, column.key, str(problem))
        plan.rows[kind.key].append(row)
    return total


def _value(column: Column, cell):
    """A cell read as its column says (ValueError with a translated message otherwise)."""
    empty = cell is None or (isinstance(cell, str) and not cell.strip())
    if empty:
        if column.required:
            raise ValueError(_("This cell is required but empty."))
        return None
    if column.kind in ("number", "whole"):
        return _number(column, cell)
    if column.kind == "date":
        return _date(cell)
    text = _shown(cell)
    if column.kind == "yesno":
        if normal(text) in YES:
            return True
        if normal(text) in NO:
            return False
        raise ValueError(_("Write 是 or 否 (yes or no)."))
    if column.kind == "status":
        status = ORDER_STATUSES.get(normal(text))
        if status is None:
            raise ValueError(_("Write 已生效 (effective) or 草稿 (draft)."))
        return status
    text = unicodedata.normalize("NFKC", text).strip() if column.kind == "unit" else text
    if len(text) > column.max_length:
        raise ValueError(_("Longer than %(n)s characters.", n=column.max_length))
    return text


def _number(column: Column, cell) -> Decimal:
    """A number from a numeric cell or from text ("2,000", full-width digits)."""
    if isinstance(cell, bool) or isinstance(cell, datetime | date):
        raise ValueError(_("Enter a number, for example 12.5."))
    places = 0 if column.kind == "whole" else column.places
    text = format(cell, "f") if isinstance(cell, Decimal) else repr(cell) if isinstance(cell, float) else str(cell)
    if isinstance(cell, float) and "e" in text.lower():
        text = format(Decimal(text), "f")
    try:
        value = parse_decimal(text, places=places, locale=NUMBERS)
    except NumberError as error:
        raise ValueError(str(error)) from None
    if column.key in ABOVE_ZERO and value <= 0:
        raise ValueError(_("Enter a quantity above zero."))
    if value < 0:
        raise ValueError(_("A number here cannot be below zero."))
    if value > Decimal("1000000000"):
        raise ValueError(_("This number is too large."))
    return value


def _date(cell) -> date:
    """A date from an Excel date cell or text yyyy-mm-dd."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    match = DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", str(cell)).strip())
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValueError(_("Enter a date as yyyy-mm-dd, for example 2026-12-20."))


# --- checks across rows, the file and the app ---------------------------------------------------------

def _existing(column, values) -> set:
    """Which of values the app already has in column."""
    values = [v for v in values if v]
    if not values:
        return set()
    return set(db.session.scalars(db.select(column).where(column.in_(values))))


def allowed_units() -> set[str]:
    """The units a row may name: the standard list and every unit a product or material already uses."""
    units = set(STANDARD_UNITS)
    units |= set(db.session.scalars(db.select(Product.unit).distinct()))
    units |= set(db.session.scalars(db.select(Material.stock_unit).distinct()))
    units |= set(db.session.scalars(db.select(Material.purchase_unit).distinct()))
    return units


def _check(plan: Plan) -> None:
    """The checks that need other rows, other sheets or the app's records."""
    units = allowed_units()
    for kind in KINDS:
        for row in plan.rows[kind.key]:
            for column in kind.columns:
                unit = row.values.get(column.key)
                if column.kind == "unit" and unit and unit not in units:
                    plan.add(kind, row.number, column.key, _(
                        "The unit “%(unit)s” does not exist. Use one the notes sheet lists (such as 件, pcs, kg, m, 套) "
                        "or one your products and materials already use.", unit=unit))
    _check_customers(plan)
    _check_products(plan)
    _check_materials(plan)
    _check_boms(plan)
    _check_stock(plan)
    _check_orders(plan)


def _unique(plan: Plan, kind: Kind, key: str, known: set, fold=lambda v: v) -> None:
    """A value of key that is on an earlier row of the sheet, or already in the app, is a duplicate."""
    seen: dict = {}
    for row in plan.rows[kind.key]:
        value = row.values.get(key)
        if not value:
            continue
        if fold(value) in seen:
            plan.add(kind, row.number, key, _("“%(value)s” is on row %(row)s already.", value=value, row=seen[fold(value)]))
        elif fold(value) in known:
            plan.add(kind, row.number, key, _("“%(value)s” is in the app already.", value=value))
        seen.setdefault(fold(value), row.number)


def _check_customers(plan: Plan) -> None:
    """Abbreviations, languages, currencies, percentages, credit days, e-mail and tax ID; duplicates."""
    kind = KINDS_BY_KEY["customers"]
    for row in plan.rows["customers"]:
        values = row.values
        if values.get("abbreviation"):
            values["abbreviation"] = unicodedata.normalize("NFKC", values["abbreviation"]).strip().upper()
            if not ABBREVIATION.fullmatch(values["abbreviation"]):
                plan.add(kind, row.number, "abbreviation", _("2 to 8 capital letters or digits, e.g. ACME."))
        if values.get("locale") and values["locale"].lower() not in ("zh", "en"):
            plan.add(kind, row.number, "locale", _("Write zh or en."))
        if values.get("currency") and not CURRENCY.fullmatch(values["currency"].upper()):
            plan.add(kind, row.number, "currency", _("A three-letter code, e.g. CNY."))
        if values.get("prepayment_pct") is not None and values["prepayment_pct"] > 100:
            plan.add(kind, row.number, "prepayment_pct", _("Must be at most %(max)s.", max=100))
        if values.get("credit_days") is not None and values["credit_days"] > 365:
            plan.add(kind, row.number, "credit_days", _("Must be at most %(max)s.", max=365))
        if values.get("contact_email") and "@" not in values["contact_email"]:
            plan.add(kind, row.number, "contact_email", _("Enter an e-mail address such as name@example.com."))
        if values.get("tax_id") and not TAX_ID.fullmatch(values["tax_id"].replace(" ", "").upper()):
            plan.add(kind, row.number, "tax_id", _("15 to 20 letters or digits, usually 18, e.g. 91440300MA5FXXXX1X."))
    _unique(plan, kind, "abbreviation",
            _existing(Customer.abbreviation, [r.values.get("abbreviation") for r in plan.rows["customers"]]))


def _check_products(plan: Plan) -> None:
    """Models and barcodes: duplicates in the file and in the app."""
    kind = KINDS_BY_KEY["products"]
    rows = plan.rows["products"]
    _unique(plan, kind, "model", _existing(Product.model, [r.values.get("model") for r in rows]))
    _unique(plan, kind, "barcode", _existing(Product.barcode, [r.values.get("barcode") for r in rows]))


def _customer_currencies(plan: Plan) -> dict[str, str]:
    """Each known customer's currency: the file's customers (CNY when empty) over the app's."""
    known = dict(db.session.execute(db.select(Customer.abbreviation, Customer.currency)).all())
    for row in plan.rows["customers"]:
        if row.values.get("abbreviation"):
            known[row.values["abbreviation"]] = (row.values.get("currency") or "CNY").upper()
    return known


def _customers_known(plan: Plan) -> set[str]:
    """Customer abbreviations the file makes or the app has."""
    return ({r.values["abbreviation"] for r in plan.rows["customers"] if r.values.get("abbreviation")}
            | set(db.session.scalars(db.select(Customer.abbreviation))))


def _check_materials(plan: Plan) -> None:
    """Codes unique; the supplying customer known."""
    kind = KINDS_BY_KEY["materials"]
    rows = plan.rows["materials"]
    _unique(plan, kind, "code", _existing(Material.code, [r.values.get("code") for r in rows]))
    customers = _customers_known(plan)
    for row in rows:
        abbreviation = (row.values.get("customer") or "").strip().upper()
        if abbreviation and abbreviation not in customers:
            plan.add(kind, row.number, "customer", _("No customer has the abbreviation “%(value)s” (in this file or the app).",
                                                     value=abbreviation))


def _products_known(plan: Plan) -> set[str]:
    """Product models the file makes or the app has."""
    return ({r.values["model"] for r in plan.rows["products"] if r.values.get("model")}
            | set(db.session.scalars(db.select(Product.model))))


def _materials_known(plan: Plan) -> set[str]:
    """Material codes the file makes or the app has."""
    return ({r.values["code"] for r in plan.rows["materials"] if r.values.get("code")}
            | set(db.session.scalars(db.select(Material.code))))


def _check_boms(plan: Plan) -> None:
    """Products and materials known, no BOM already, no line twice, no product in its own BOM."""
    kind = KINDS_BY_KEY["boms"]
    models, codes = _products_known(plan), _materials_known(plan)
    with_bom = set(db.session.scalars(db.select(Product.model).join(BomVersion, BomVersion.product_id == Product.id)))
    seen: dict = {}
    for row in plan.rows["boms"]:
        product, material = row.values.get("product"), row.values.get("material")
        if product and product not in models:
            plan.add(kind, row.number, "product", _("No product has the model “%(value)s” (in this file or the app).", value=product))
        elif product in with_bom:
            plan.add(kind, row.number, "product", _("“%(value)s” has a bill of materials in the app already; change it there.",
                                                    value=product))
        if material and material not in codes and material not in models:
            plan.add(kind, row.number, "material", _("No material has the code “%(value)s” (in this file or the app).",
                                                     value=material))
        elif material and material == product:
            plan.add(kind, row.number, "material", _("A product cannot be a material of its own bill of materials."))
        if product and material:
            if (product, material) in seen:
                plan.add(kind, row.number, "material", _("“%(value)s” is on row %(row)s already.", value=material,
                                                         row=seen[(product, material)]))
            seen.setdefault((product, material), row.number)
        if row.values.get("scrap_percent") is not None and row.values["scrap_percent"] >= 100:
            plan.add(kind, row.number, "scrap_percent", _("A scrap allowance is from 0 to under 100 %."))


def _check_stock(plan: Plan) -> None:
    """Items and locations known; a lot not in the app already nor twice in one location."""
    kind = KINDS_BY_KEY["stock"]
    models, codes = _products_known(plan), _materials_known(plan)
    locations = set(db.session.scalars(db.select(Location.code).where(Location.active.is_(True))))
    lots = {(code, lot) for code, lot in db.session.execute(
        db.select(Material.code, Lot.code).join(Lot, Lot.material_id == Material.id))}
    lots |= {(model, lot) for model, lot in db.session.execute(
        db.select(Product.model, Lot.code).join(Material, Material.product_id == Product.id)
        .join(Lot, Lot.material_id == Material.id))}
    seen: dict = {}
    for row in plan.rows["stock"]:
        code, lot, location = row.values.get("code"), row.values.get("lot"), row.values.get("location")
        if code and code not in codes and code not in models:
            plan.add(kind, row.number, "code", _("No material or product has the code “%(value)s” (in this file or the app).",
                                                 value=code))
        if location and location not in locations:
            plan.add(kind, row.number, "location", _("No location has the code “%(value)s”; add it on the stock pages first (there are: %(codes)s).",
                                                     value=location, codes=", ".join(sorted(locations)) or "—"))
        if code and lot:
            if (code, lot) in lots:
                plan.add(kind, row.number, "lot", _("Lot “%(value)s” of this item is in the app already.", value=lot))
            key = (code, lot, location or "")
            if key in seen:
                plan.add(kind, row.number, "lot", _("“%(value)s” is on row %(row)s already.", value=lot, row=seen[key]))
            seen.setdefault(key, row.number)


def _check_orders(plan: Plan) -> None:
    """Customers and products known; a PO not in the app; the rows of one order agree."""
    kind = KINDS_BY_KEY["orders"]
    customers, models = _customers_known(plan), _products_known(plan)
    existing = {(abbreviation, po) for abbreviation, po in db.session.execute(
        db.select(Customer.abbreviation, Order.customer_po).join(Order, Order.customer_id == Customer.id)
        .where(Order.customer_po != "", Order.status != "cancelled"))}
    first: dict = {}
    currencies, firm_currency = _customer_currencies(plan), get_settings().currency
    for row in plan.rows["orders"]:
        values = row.values
        if values.get("customer"):
            values["customer"] = unicodedata.normalize("NFKC", values["customer"]).strip().upper()
        customer, po, product = values.get("customer"), values.get("customer_po"), values.get("product")
        rate = values.get("exchange_rate")
        if rate is not None and rate <= 0:
            plan.add(kind, row.number, "exchange_rate", _("Must be more than 0."))
        elif rate is None and customer in currencies and currencies[customer] != firm_currency:
            # Left at 1, a foreign order's money would count as the firm's own currency.
            plan.add(kind, row.number, "exchange_rate", _("This customer pays in %(currency)s: enter the exchange rate to %(firm)s.",
                                                          currency=currencies[customer], firm=firm_currency))
        if customer and customer not in customers:
            plan.add(kind, row.number, "customer", _("No customer has the abbreviation “%(value)s” (in this file or the app).",
                                                     value=customer))
        if product and product not in models:
            plan.add(kind, row.number, "product", _("No product has the model “%(value)s” (in this file or the app).",
                                                    value=product))
        if not (customer and po):
            continue
        if (customer, po) in existing:
            plan.add(kind, row.number, "customer_po", _("This customer's order “%(value)s” is in the app already.", value=po))
        if (customer, po) not in first:
            first[(customer, po)] = row
            continue
        head = first[(customer, po)]
        for key in ("delivery_date", "status", "prepayment_pct", "exchange_rate"):
            if values.get(key) != head.values.get(key):
                plan.add(kind, row.number, key, _("Rows of one order (same customer and PO) must agree here: row %(row)s says “%(value)s”.",
                                                  row=head.number, value=head.shown.get(key, "")))


# --- the import ---------------------------------------------------------------------------------

def display(row: Row, column: Column) -> str:
    """A cell of the preview as it was read (2,000 typed "２，０００", a status by its name), or as typed."""
    value = row.values.get(column.key)
    if value is None or value == "":
        return row.shown.get(column.key, "")
    if column.kind in ("number", "whole"):
        return fine_quantity(value)
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "yesno":
        return _("yes") if value else _("no")
    if column.kind == "status":
        return _(lifecycle.STATE_LABELS[value])
    return str(value)


def lock_imports() -> None:
    """Serialise imports: the second of two at once checks its file after the first committed (SQLite's
    writers are one at a time already; PostgreSQL takes a transaction-level advisory lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(b"golive-import")})


def preview(plan: Plan) -> list[dict]:
    """Per kind with rows: its sheet, how many it makes and its first rows (headers and values)."""
    counts, out = plan.counts(), []
    for kind in KINDS:
        rows = plan.rows[kind.key]
        if rows:
            out.append({"kind": kind, "count": counts[kind.key], "rows": rows[:PREVIEW_ROWS],
                        "columns": [c for c in kind.columns if any(r.shown.get(c.key) for r in rows[:PREVIEW_ROWS])]})
    return out


def run_import(plan: Plan, user) -> dict[str, int]:
    """Create everything a clean plan holds, in the import order; return the counts. The caller's
    transaction is the one transaction: a refusal on the way (TransitionError) rolls all of it back."""
    assert plan.clean
    customers = {c.abbreviation: c for c in _create_customers(plan, user)}
    made = {p.model: p for p in _create_products(plan, user)}
    materials = {m.code: m for m in _create_materials(plan, user, customers)}
    _create_boms(plan, user, made, materials)
    _create_stock(plan, user, made, materials)
    _create_orders(plan, user, customers, made)
    counts = plan.counts()
    audit.record("golive.imported", user, actor=user, entity_type="user", after=counts)
    return counts


def _customer(abbreviation: str, made: dict) -> Customer:
    """A customer made by this import or already in the app."""
    return made.get(abbreviation) or db.session.scalar(db.select(Customer).where(Customer.abbreviation == abbreviation))


def _product(model: str, made: dict) -> Product | None:
    """A product made by this import or already in the app."""
    return made.get(model) or db.session.scalar(db.select(Product).where(Product.model == model))


def _material(code: str, made_products: dict, made_materials: dict) -> Material:
    """A material by its code, or a product's own stock item by the product's model."""
    material = made_materials.get(code) or db.session.scalar(db.select(Material).where(Material.code == code))
    if material is None:
        material = products.material_for_product(_product(code, made_products))
    return material


def _create_customers(plan: Plan, user) -> list[Customer]:
    """The customers, owned by the person importing."""
    made = []
    for row in plan.rows["customers"]:
        v = row.values
        customer = Customer(
            abbreviation=v["abbreviation"], name=v["name"], contact_name=v.get("contact_name") or "",
            contact_phone=v.get("contact_phone") or "", contact_email=v.get("contact_email") or "",
            address=v.get("address") or "", locale=(v.get("locale") or "zh").lower(),
            currency=(v.get("currency") or "CNY").upper(),
            prepayment_pct=v["prepayment_pct"] if v.get("prepayment_pct") is not None else Decimal("30"),
            credit_days=int(v["credit_days"]) if v.get("credit_days") is not None else 30,
            tax_id=(v.get("tax_id") or "").replace(" ", "").upper(), owner_id=user.id)
        db.session.add(customer)
        made.append(customer)
    db.session.flush()
    for customer in made:
        audit.record("customer.saved", customer, actor=user, after={"imported": True})
    return made


def _create_products(plan: Plan, user) -> list[Product]:
    """The products, without stock (the stock sheet brings it)."""
    made = []
    for row in plan.rows["products"]:
        v = row.values
        product = Product(model=v["model"], name=v["name"], unit=v["unit"], list_price=v.get("list_price") or Decimal("0"),
                          barcode=v.get("barcode") or None, on_hand=Decimal("0"))
        db.session.add(product)
        made.append(product)
    db.session.flush()
    for product in made:
        audit.record("product.saved", product, actor=user, after={"imported": True})
    return made


def _create_materials(plan: Plan, user, customers: dict) -> list[Material]:
    """The materials, with their units and supplying customer."""
    made = []
    for row in plan.rows["materials"]:
        v = row.values
        supplier = _customer(v["customer"].strip().upper(), customers) if v.get("customer") else None
        material = Material(code=v["code"], name=v["name"], stock_unit=v["stock_unit"],
                            purchase_unit=v.get("purchase_unit") or v["stock_unit"],
                            purchase_factor=v.get("purchase_factor") or Decimal("1"),
                            customer_id=supplier.id if supplier else None, inspect_on_receipt=bool(v.get("inspect")))
        db.session.add(material)
        made.append(material)
    db.session.flush()
    for material in made:
        audit.record("material.saved", material, actor=user, entity_type="material", after={"imported": True})
    return made


def _create_boms(plan: Plan, user, made_products: dict, made_materials: dict) -> None:
    """A first BOM version per product, through the stock domain's save_bom."""
    lines = defaultdict(list)
    for row in plan.rows["boms"]:
        lines[row.values["product"]].append(row)
    for model, rows in lines.items():
        product = _product(model, made_products)
        bom.save_bom(product, [bom.BomInput(_material(r.values["material"], made_products, made_materials).id,
                                            r.values["quantity_per"], r.values.get("scrap_percent") or Decimal("0"))
                               for r in rows], user, note=_("Imported when going live"))


def _create_stock(plan: Plan, user, made_products: dict, made_materials: dict) -> None:
    """An opening movement per row into its lot and location, through the ledger."""
    locations = {}
    for row in plan.rows["stock"]:
        v = row.values
        material = _material(v["code"], made_products, made_materials)
        code = v.get("location") or ""
        if code not in locations:
            locations[code] = (db.session.scalar(db.select(Location).where(Location.code == code)) if code
                               else products.default_location())
        lot = ledger.find_lot(material, v["lot"]) or ledger.new_lot(material, v["lot"], status="available")
        cost = v.get("unit_cost")
        # Opening stock, as the demo firm's: valued at its cost, so the moving average and cost sheets start right.
        ledger.post("opening", lot, locations[code], v["quantity"], unit_cost=cost if cost is not None else Decimal("0"),
                    user=user)
        if cost is not None and not material.last_cost:
            material.last_cost = cost


def _create_orders(plan: Plan, user, customers: dict, made_products: dict) -> None:
    """An order per customer and PO, a line per row; signed ones effective and numbered."""
    groups: dict = {}
    for row in plan.rows["orders"]:
        groups.setdefault((row.values["customer"], row.values["customer_po"]), []).append(row)
    settings = get_settings()
    for (abbreviation, po), rows in groups.items():
        head = rows[0].values
        order = new_order(_customer(abbreviation, customers), user)
        order.customer_po, order.delivery_date = po, head["delivery_date"]
        if head.get("prepayment_pct") is not None:
            order.prepayment_pct = head["prepayment_pct"]
        if head.get("exchange_rate") is not None:
            order.exchange_rate = head["exchange_rate"]
        factor = 1 + order.tax_rate / 100
        for position, row in enumerate(rows, start=1):
            product = _product(row.values["product"], made_products)
            price = row.values["unit_price"]
            order.lines.append(OrderLine(position=position, product_id=product.id, model=product.model,
                                         description=product.name[:200], quantity=row.values["quantity"],
                                         unit=product.unit, unit_price=price.quantize(Decimal("0.01")),
                                         unit_price_incl=(price * factor).quantize(Decimal("0.01"))))
        recalculate(order)
        db.session.add(order)
        db.session.flush()
        audit.record("order.created", order, actor=user, after={**order.terms(), "imported": True})
        if (head.get("status") or "effective") == "effective":
            # Signed on paper before the firm went live: no review, approval or countersignature again;
            # it is numbered and effective now, as a quick retail sale is.
            snapshot = settings.snapshot()
            snapshot.update(reviews=[], manager_approval=False, finance_approval=False, countersign=False)
            submit_order(order, user, snapshot, roles={"sales"})
