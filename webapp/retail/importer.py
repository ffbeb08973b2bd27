"""Online-shop orders from a CSV file (the layout is docs/retail-import.md and the import page's):
read, checked row by row with a translated message per problem, previewed, then imported. Each shop
order number is imported once, ever: a file uploaded again skips what it already brought."""
import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from babel import Locale
from flask_babel import gettext as _

from ..customers import Product
from ..extensions import db
from ..forms import NumberError, parse_decimal
from .models import RetailOrder
from .services import Sale

MAX_BYTES = 1_000_000  # about 5 000 rows of a real shop export
MAX_ROWS = 2000
COLUMNS = ("shop_order_no", "customer_name", "phone", "address", "product_code", "quantity", "unit_price",
           "delivery", "store", "note")
REQUIRED = ("shop_order_no", "customer_name", "product_code", "quantity")
# Column names as Chinese shops export them, read as the English ones.
ALIASES = {"订单号": "shop_order_no", "收货人": "customer_name", "客户": "customer_name", "电话": "phone",
           "手机": "phone", "地址": "address", "收货地址": "address", "商品编码": "product_code", "型号": "product_code",
           "数量": "quantity", "单价": "unit_price", "配送方式": "delivery", "门店": "store", "备注": "note"}
# The header each column is shown with on a Chinese page (the importer reads both).
CHINESE_HEADERS = {"shop_order_no": "订单号", "customer_name": "收货人", "phone": "电话", "address": "地址",
                   "product_code": "商品编码", "quantity": "数量", "unit_price": "单价", "delivery": "配送方式",
                   "store": "门店", "note": "备注"}
DELIVERY_WORDS = {"": "delivery", "delivery": "delivery", "送货": "delivery", "快递": "delivery",
                  "pickup": "pickup", "自提": "pickup", "门店自提": "pickup"}
CSV_LOCALE = Locale.parse("en")  # a CSV's numbers: the point is the decimal mark, the comma groups thousands

SAMPLE = (
    "shop_order_no,customer_name,phone,address,product_code,quantity,unit_price,delivery,store,note\r\n"
    "TB20261128001,王丽,13800138000,上海市浦东新区张江路88号,GEAR-45,2,,delivery,,\r\n"
    "TB20261128001,王丽,13800138000,上海市浦东新区张江路88号,BRK-200,10,,delivery,,请工作日送货\r\n"
    "TB20261128002,陈强,13900139000,,CAB-OAK,1,\"1,280.00\",pickup,上海嘉定门店,\r\n"
)


class ImportRefused(ValueError):
    """The file as a whole cannot be read (too big, not text, no header, NUL bytes)."""


@dataclass
class Row:
    """One line of the file: its number (2 = the first after the header), values and problems."""

    number: int
    values: dict
    product: Product | None = None
    quantity: Decimal | None = None
    price: Decimal | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Group:
    """The rows of one shop order: what it becomes, or why not (errors), or that it is already in."""

    shop_order_no: str
    rows: list[Row]
    errors: list[str] = field(default_factory=list)
    existing: int | None = None  # the order already imported for this shop order number

    @property
    def status(self) -> str:
        """new / skipped (already imported) / invalid."""
        if self.existing is not None:
            return "skipped"
        return "invalid" if self.errors or any(r.errors for r in self.rows) else "new"

    def sale(self) -> Sale:
        """The retail sale this group becomes."""
        first = self.rows[0].values
        method = DELIVERY_WORDS.get(first.get("delivery", "").strip().lower(), "delivery")
        return Sale(items=[(r.product, r.quantity) for r in self.rows], method=method,
                    address=first.get("address", ""), store=first.get("store", ""),
                    receiver_name=first.get("customer_name", ""), receiver_phone=first.get("phone", ""),
                    channel="online", shop_order_no=self.shop_order_no,
                    note="; ".join(r.values.get("note", "") for r in self.rows if r.values.get("note")),
                    prices={r.product.id: r.price for r in self.rows if r.price is not None})


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM) or, as Excel in China saves it, GB18030."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(size)s MB; split it into smaller files.",
                              size=MAX_BYTES // 1_000_000))
    if not data.strip():
        raise ImportRefused(_("The file is empty."))
    if b"\x00" in data:
        raise ImportRefused(_("The file contains NUL bytes: it is not a CSV text file. Export it again as CSV."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is not UTF-8 or GB18030 text. Export it again as CSV."))


def read(data: bytes) -> list[Group]:
    """Read and check every row; group them by shop order number (a group with a bad row imports nothing)."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused(_("The file has no header row.")) from None
    names = [ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ImportRefused(_("The header lacks the columns %(columns)s.", columns=", ".join(missing)))
    rows: list[Row] = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused(_("The file has more than %(rows)s rows; split it into smaller files.",
                                      rows=MAX_ROWS))
            rows.append(Row(number, {name: (values[i].strip() if i < len(values) else "")
                                     for i, name in enumerate(names) if name in COLUMNS}))
    except csv.Error:
        raise ImportRefused(_("The file is not valid CSV (a quote is not closed).")) from None
    codes = {r.values.get("product_code", "") for r in rows}
    products = {p.model: p for p in db.session.scalars(db.select(Product).where(Product.model.in_(codes)))}
    for row in rows:
        _check(row, products)
    groups: dict[str, Group] = {}
    for row in rows:
        key = row.values.get("shop_order_no", "")
        groups.setdefault(key, Group(key, [])).rows.append(row)
    existing = dict(db.session.execute(db.select(RetailOrder.shop_order_no, RetailOrder.order_id).where(
        RetailOrder.shop_order_no.in_([k for k in groups if k]))).all())
    for group in groups.values():
        group.existing = existing.get(group.shop_order_no)
        _check_group(group)
    _check_stock([g for g in groups.values() if g.status == "new"])
    return list(groups.values())


def _check(row: Row, products: dict) -> None:
    values = row.values
    if not values.get("shop_order_no"):
        row.errors.append(_("The shop order number is missing."))
    elif len(values["shop_order_no"]) > 60:
        row.errors.append(_("The shop order number is longer than 60 characters."))
    if not values.get("customer_name"):
        row.errors.append(_("The customer's name is missing."))
    code = values.get("product_code", "")
    row.product = products.get(code)
    if not code:
        row.errors.append(_("The product code is missing."))
    elif row.product is None:
        row.errors.append(_("Unknown product code “%(code)s”.", code=code[:60]))
    try:
        row.quantity = parse_decimal(values.get("quantity", ""), places=3, minimum=Decimal("0.001"), locale=CSV_LOCALE)
    except NumberError as error:
        row.errors.append(_("Quantity “%(value)s”: %(problem)s", value=values.get("quantity", "")[:30],
                            problem=str(error)))
    if values.get("unit_price"):
        try:
            row.price = parse_decimal(values["unit_price"], places=2, minimum=Decimal("0"), locale=CSV_LOCALE)
        except NumberError as error:
            row.errors.append(_("Unit price “%(value)s”: %(problem)s", value=values["unit_price"][:30],
                                problem=str(error)))
    delivery = values.get("delivery", "").strip().lower()
    if delivery not in DELIVERY_WORDS:
        row.errors.append(_("Delivery “%(value)s”: write delivery or pickup.", value=delivery[:30]))
    elif DELIVERY_WORDS[delivery] == "delivery" and not values.get("address"):
        row.errors.append(_("The delivery address is missing."))
    elif DELIVERY_WORDS[delivery] == "pickup" and not values.get("store"):
        row.errors.append(_("Name the store for a pickup."))


def _check_group(group: Group) -> None:
    if group.existing is not None or not group.shop_order_no:
        return
    firsts = {(r.values.get("customer_name"), r.values.get("phone"), r.values.get("address")) for r in group.rows}
    if len(firsts) > 1:
        group.errors.append(_("The rows of this shop order name different customers or addresses."))
    seen = set()
    for row in group.rows:
        if row.product is not None and row.product.id in seen:
            row.errors.append(_("This product is already on another row of this shop order."))
        if row.product is not None:
            seen.add(row.product.id)


def _check_stock(groups: list[Group]) -> None:
    """Whole shop orders in file order, as long as stock lasts: the one that does not fit is refused."""
    left = {}
    from ..templating import quantity
    for group in groups:
        need = {}
        for row in group.rows:
            need[row.product.id] = need.get(row.product.id, Decimal("0")) + row.quantity
        short = [row.product for row in group.rows
                 if need[row.product.id] > left.setdefault(row.product.id, row.product.on_hand)]
        if short:
            product = short[0]
            group.errors.append(_("Only %(available)s %(unit)s of %(model)s left in stock.",
                                  available=quantity(left[product.id]), unit=product.unit, model=product.model))
            continue
        for product_id, qty in need.items():
            left[product_id] -= qty


def run_import(data: bytes, user) -> dict[str, list]:
    """Import every shop order of the file that is new and valid (read again under the retail lock, so
    a file sent twice at once imports each shop order once); return the groups by status."""
    from .. import audit
    from ..fingerprints import sha256_of
    from .services import create_retail_order, lock_retail, walk_in_customer
    lock_retail()
    groups = read(data)
    batch = sha256_of({"file": data.hex()})
    done: dict[str, list] = {"new": [], "skipped": [], "invalid": []}
    for group in groups:
        if group.status != "new":
            done[group.status].append(group)
            continue
        first = group.rows[0].values
        customer = walk_in_customer(first.get("customer_name", ""), first.get("phone", ""), first.get("address", ""),
                                    user, channel="online")
        order = create_retail_order(customer, group.sale(), user)
        retail = db.session.scalar(db.select(RetailOrder).where(RetailOrder.order_id == order.id))
        retail.import_batch = batch
        group.existing = order.id
        done["new"].append(group)
        audit.record("retail.imported", order, actor=user, after={"shop_order_no": group.shop_order_no})
    return done
