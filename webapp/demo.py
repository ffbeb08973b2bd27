"""A realistic demo firm, built through the same services the pages use (so the audit trail,
numbers, links and signatures are real)."""
import json
import math
from datetime import timedelta
from decimal import Decimal

from flask_babel import force_locale

from . import links
from .aftersales import services as aftersales
from .admin import calendar
from .i18n import firm_today
from .admin.models import get_settings
from .auth.models import DeviceSession, User
from .customers.models import Customer
from .extensions import db
from .orders import services as orders
from .photos import Photo
from .production import services as production
from .production.models import Product
from .shipping import services as shipping
from .requirements import services as requirements
from .requirements.models import Attachment, Requirement

DEMO_PASSWORD = "demo1234"

USERS = [
    # username, name, roles, employee no, PIN
    ("admin", "系统管理员 Admin", ["admin"], "A001", None),
    ("wang.fang", "王芳 Wang Fang", ["sales"], "S001", None),
    ("lucy", "Lucy Chen", ["sales"], "S002", None),
    ("li.qiang", "李强 Li Qiang", ["operations"], "O001", None),
    ("zhang.wei", "张伟 Zhang Wei", ["production"], "P001", None),
    ("liu.yang", "刘洋 Liu Yang", ["warehouse"], "W100", None),
    ("chen.jing", "陈静 Chen Jing", ["finance"], "F001", None),
    ("zhao.min", "赵敏 Zhao Min", ["manager"], "M001", None),
    ("sun.lei", "孙磊 Sun Lei", ["purchasing"], "U001", None),
    ("zhou.jie", "周杰 Zhou Jie", ["qc"], "Q001", None),
    ("wu.ting", "吴婷 Wu Ting", ["aftersales"], "C001", None),
    ("huang.xm", "黄小明 Huang Xiaoming", ["worker"], "W001", "1234"),
    ("lin.dw", "林大伟 Lin Dawei", ["worker"], "W002", "2345"),
    ("ma.driver", "马师傅 Ma (courier)", ["courier"], "D001", None),
]

CUSTOMERS = [
    ("华东精密机械有限公司", "HDJM", "钱经理", "13800138001", "qian@hdjm.example.cn",
     "上海市嘉定区安亭镇墨玉路 88 号", "zh", "CNY", "30", 30, "GB/T 1804-m，表面无毛刺"),
    ("ACME Industrial Ltd", "ACME", "John Miller", "+44 20 7946 0001", "john.miller@acme.example.com",
     "Unit 4, Riverside Park, Leeds LS1 4AP, UK", "en", "CNY", "50", 45, "ISO 2768-mK; PPAP level 2"),
    ("深圳创新电子科技有限公司", "SZCX", "周工", "13900139002", "zhou@szcx.example.cn",
     "深圳市南山区科技园高新南一道 9 号", "zh", "CNY", "0", 60, "IPC-A-610 Class 2"),
    ("Nordic Furniture AB", "NORD", "Anna Lind", "+46 8 123 456", "anna.lind@nordic.example.se",
     "Industrivägen 12, 553 02 Jönköping, Sweden", "en", "CNY", "30", 30, "FSC certified oak"),
]

PRODUCTS = [
    ("BRK-200", "不锈钢支架 Stainless bracket", "件", "12.50", "800"),
    ("GEAR-45", "直齿轮 M2 45T Spur gear", "件", "38.00", "120"),
    ("HSG-AL6", "铝合金外壳 Aluminium housing", "件", "56.00", "0"),
    ("PCB-X1", "控制板 Controller board", "件", "120.00", "80"),  # below the running order: it is made
    ("CAB-OAK", "橡木柜 Oak cabinet", "套", "860.00", "12"),
]

# The makers' barcodes for the packing scanner: EAN-13s from the in-store 200-299 range, so they
# cannot clash with real products', and one Code 128.
DEMO_BARCODES = {"BRK-200": "2001234000017", "GEAR-45": "2001234000024", "HSG-AL6": "2001234000031",
                 "CAB-OAK": "2001234000048", "PCB-X1": "PCB-X1-V2"}


def demo_strokes() -> str:
    """A plausible handwritten flourish as signature_pad stroke data."""
    points = [{"x": 20 + t * 3.2, "y": 60 + 25 * math.sin(t / 4.0) - t * 0.3, "pressure": 0.5, "time": t * 16}
              for t in range(80)]
    underline = [{"x": 30 + t * 6, "y": 95 + (t % 3), "pressure": 0.5, "time": 2000 + t * 16} for t in range(40)]
    return json.dumps([{"points": points}, {"points": underline}])


def load_demo() -> None:
    """Create the demo firm at every state of stages 1 and 2, and one order through stages 3 to 5."""
    settings = get_settings()
    settings.firm_name = "演示制造有限公司 Demo Manufacturing Co."
    settings.demo_loaded = True
    people = {}
    for username, name, roles, number, pin in USERS:
        user = User(username=username, name=name, employee_no=number, password_hash="",
                    email=f"{username}@demo.example.cn", is_demo=True)
        user.roles = roles
        user.set_password(DEMO_PASSWORD)
        user.set_pin(pin)
        db.session.add(user)
        people[username] = user
    customers = {}
    for name, abbr, contact, phone, email, address, locale, currency, pre, credit, quality in CUSTOMERS:
        customer = Customer(name=name, abbreviation=abbr, contact_name=contact, contact_phone=phone,
                            contact_email=email, address=address, locale=locale, currency=currency,
                            prepayment_pct=Decimal(pre), credit_days=credit, quality_standard=quality,
                            is_demo=True)
        db.session.add(customer)
        customers[abbr] = customer
    products = {}
    for model, name, unit, price, stock in PRODUCTS:
        product = Product(model=model, name=name, unit=unit, list_price=Decimal(price),
                          on_hand=Decimal(stock), is_demo=True, barcode=DEMO_BARCODES.get(model))
        db.session.add(product)
        products[model] = product
    db.session.flush()
    year = firm_today().year
    calendar.load_defaults(settings.calendar_country, [year, year + 1])

    sales, lucy = people["wang.fang"], people["lucy"]
    today = firm_today()

    def requirement(customer, rep, product, qty, days, priority="regular", specs="", budget=None):
        prod = products.get(product)
        req = Requirement(customer=customer, sales_rep_id=rep.id, product=prod.name if prod else product,
                          product_id=prod.id if prod else None, quantity=Decimal(qty),
                          unit=prod.unit if prod else "件", expected_date=today + timedelta(days=days),
                          priority=priority, specs=specs, contact_name=customer.contact_name,
                          contact_phone=customer.contact_phone, contact_email=customer.contact_email,
                          quality_standard=customer.quality_standard, currency=customer.currency,
                          budget_min=Decimal(budget[0]) if budget else None,
                          budget_max=Decimal(budget[1]) if budget else None)
        db.session.add(req)
        db.session.flush()
        from .audit import record
        record("requirement.created", req, actor=rep, after=req.record())
        return req

    # Stage 1 at every state.
    requirement(customers["NORD"], lucy, "CAB-OAK", "40", 60, "long_term",
                "Oak cabinet 1200×450×900 mm, oiled finish, soft-close hinges", ("30000", "36000"))
    sent = requirement(customers["SZCX"], sales, "PCB-X1", "500", 30, "urgent",
                       "4 层板，沉金，含 SMT 贴片；附 BOM", ("55000", "62000"))
    requirements.send(sent, sales)
    clar = requirement(customers["HDJM"], sales, "GEAR-45", "300", 40, "regular",
                       "模数 2，齿数 45，材料 40Cr，调质 HB240-280", ("10000", "12000"))
    link = requirements.send(clar, sales)
    requirements.respond(clar, link, "clarification", "钱经理", "齿面是否需要高频淬火？请确认热处理要求。")
    waiting = requirement(customers["ACME"], lucy, "HSG-AL6", "200", 45, "urgent",
                          "6061-T6, anodised black, CNC machined, drawing HSG-AL6 rev C", ("10500", "12500"))
    link = requirements.send(waiting, lucy)
    requirements.respond(waiting, link, "confirmed", "John Miller")

    def confirmed(customer, rep, product, qty, days, **kw):
        req = requirement(customer, rep, product, qty, days, **kw)
        link = requirements.send(req, rep)
        requirements.respond(req, link, "confirmed", customer.contact_name)
        return req

    def order_from(req, rep, po, prepay=None):
        order = orders.new_order(req.customer, rep, req)
        order.customer_po = po
        if prepay is not None:
            order.prepayment_pct = Decimal(prepay)
        db.session.add(order)
        db.session.flush()
        from .audit import record
        record("order.created", order, actor=rep, after=order.terms())
        return order

    def budget(order, ratio="0.6"):
        base = order.total_excl * Decimal(ratio)
        parts = {"material": "0.55", "labour": "0.25", "overhead": "0.1", "logistics": "0.06", "aftersales": "0.04"}
        for category, share in parts.items():
            setattr(order, f"budget_{category}", (base * Decimal(share)).quantize(Decimal("0.01")))

    def through_review(order):
        orders.submit(order, order.sales_rep)
        budget(order)
        orders.review(order, "production", "agree", "产能充足 capacity fine", people["zhang.wei"])
        orders.review(order, "finance", "agree", "毛利合理 margin ok", people["chen.jing"])
        orders.review(order, "warehouse", "agree", "库存/采购可满足", people["liu.yang"])

    def approve(order):
        orders.decide(order, "manager", "approve", "同意", people["zhao.min"])
        if order.status == "pending_approval":
            orders.decide(order, "finance", "approve", "", people["chen.jing"])

    def sign(order, name):
        link = links.current("order_countersign", order.id)
        with force_locale(order.customer.locale):  # the customer signs on their own phone, in their language
            orders.countersign(order, link, name, "采购经理", demo_strokes(), "127.0.0.1", "demo")

    # Stage 2 at every state.
    order_from(confirmed(customers["HDJM"], sales, "BRK-200", "1000", 35), sales, "HD-PO-2611-07")
    in_review = order_from(confirmed(customers["NORD"], lucy, "CAB-OAK", "20", 50), lucy, "NF-45821")
    orders.submit(in_review, lucy)
    orders.review(in_review, "warehouse", "agree", "12 in stock, 8 to build", people["liu.yang"])
    concern = order_from(confirmed(customers["ACME"], lucy, "HSG-AL6", "600", 12, priority="urgent"), lucy, "ACME-77120")
    orders.submit(concern, lucy)
    orders.review(concern, "production", "concern", "CNC capacity is full for the next two weeks; need 3 more weeks.",
                  people["zhang.wei"])
    pending = order_from(confirmed(customers["SZCX"], sales, "PCB-X1", "200", 40), sales, "SZCX-2026-118")
    through_review(pending)
    awaiting = order_from(confirmed(customers["HDJM"], sales, "GEAR-45", "150", 30), sales, "HD-PO-2611-12")
    through_review(awaiting)
    approve(awaiting)
    prepay_open = order_from(confirmed(customers["ACME"], lucy, "BRK-200", "2000", 28), lucy, "ACME-77098", prepay="50")
    through_review(prepay_open)
    approve(prepay_open)
    sign(prepay_open, "John Miller")
    paid = order_from(confirmed(customers["NORD"], lucy, "CAB-OAK", "10", 45), lucy, "NF-45790", prepay="30")
    through_review(paid)
    approve(paid)
    sign(paid, "Anna Lind")
    orders.record_payment(paid, "deposit", paid.prepayment_due, today, "SEB 2026-11-0042", people["chen.jing"])
    running = order_from(confirmed(customers["SZCX"], sales, "PCB-X1", "300", 25), sales, "SZCX-2026-109", prepay="0")
    through_review(running)
    approve(running)
    sign(running, "周工")
    orders.simple_transition(running, "start_production", people["li.qiang"])
    work_order = running.work_orders[0]
    work_order.owner_id = people["huang.xm"].id
    production.report(work_order, people["huang.xm"], Decimal("120"), Decimal("3"), "首件检验合格", [])
    production.report(work_order, people["lin.dw"], Decimal("80"), Decimal("0"), "", [])
    db.session.flush()

    # Stages 3 to 5 on one order: made and passed by QC, shipped in three; the first shipment signed
    # for with a damaged line (a return case is open), the second on its way (its receipt link is
    # live), the third packed for the courier (its courier link is live); the customer has opened a
    # ticket.
    worker, warehouse = people["huang.xm"], people["liu.yang"]
    delivered = order_from(confirmed(customers["HDJM"], sales, "GEAR-45", "100", 20), sales, "HD-PO-2610-31",
                           prepay="0")
    through_review(delivered)
    approve(delivered)
    sign(delivered, "钱经理")
    orders.simple_transition(delivered, "start_production", people["li.qiang"])
    for job in delivered.work_orders:
        job.owner_id = worker.id
        production.report(job, worker, job.quantity, Decimal("2"), "", [])
        production.move(job, "finish", worker)
        production.move(job, "pass_qc", people["zhou.jie"])
    line = delivered.lines[0]
    shipments = []
    for quantity, batch, tracking, on_its_way in (("60", "B2611-01", "SF1402886731", True),
                                                  ("25", "B2611-02", "SF1402886978", True),
                                                  ("15", "B2611-03", "SF1402887012", False)):
        shipment = shipping.create_shipment(delivered, warehouse, {line.id: Decimal(quantity)}, {line.id: batch},
                                            "delivery", "顺丰速运 SF Express", tracking, today + timedelta(days=2),
                                            Decimal("85"))
        for shipment_line in shipment.lines:
            shipping.check_line(shipment, shipment_line, shipment_line.batch, warehouse)
        shipping.pack(shipment, warehouse)
        if on_its_way:
            shipping.dispatch(shipment, [], "", courier_link=links.current("courier", shipment.id))
        shipments.append(shipment)
    first = shipments[0]
    with force_locale(delivered.customer.locale):
        shipping.sign_receipt(first, links.current("delivery_receipt", first.id),
                              [{"line": first.lines[0], "received": Decimal("58"), "condition": "damaged",
                                "note": "2 件齿面磕伤"}],
                              "钱经理", "采购经理", demo_strokes(), [], [], "127.0.0.1", "demo")
    aftersales.open_ticket(delivered, "齿面磕伤 2 件", "第一批有 2 件齿面磕伤，请安排补发。", customer_name="钱经理")
    db.session.flush()


KEEP_TABLES = {"user", "device_session", "firm_settings", "calendar_day"}


def remove_demo() -> dict[str, int]:
    """Delete every business record (all tables but people, devices, settings and the calendar),
    their stored files, and the demo logins; keep the settings and real users."""
    import os
    from .uploads import path_of
    counts = {}
    stored = list(db.session.scalars(db.select(Attachment.stored_name)))
    stored += list(db.session.scalars(db.select(Photo.stored_name)))
    for stored_name in stored:
        try:
            os.remove(path_of(stored_name))
        except FileNotFoundError:
            pass
    for table in reversed(db.metadata.sorted_tables):  # children before parents
        if table.name not in KEEP_TABLES:
            counts[table.name] = db.session.execute(table.delete()).rowcount
    demo_ids = db.select(User.id).where(User.is_demo.is_(True))
    db.session.execute(db.delete(DeviceSession).where(
        db.or_(DeviceSession.user_id.in_(demo_ids), DeviceSession.login_user_id.in_(demo_ids))))
    counts["user"] = db.session.execute(db.delete(User).where(User.is_demo.is_(True))).rowcount
    return {name: count for name, count in counts.items() if count}
