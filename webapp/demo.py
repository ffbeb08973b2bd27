"""A demo firm that has lived through all six stages, built as dated history through the same
services the pages use (so the audit trail, numbers, links, signatures, SLA clocks and timelines
are real).

Each order is a story: a generator that yields when its next step happens and then does that step.
load_demo() runs every story's steps in the order of their times, with the one clock
(db_types.clock_at) set to each step's time, so the orders started weeks ago move forward to today
side by side, as they would have in a real firm."""
import heapq
import io
import json
import math
import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from flask_babel import force_locale
from werkzeug.datastructures import FileStorage

from . import audit, links
from .admin import calendar
from .admin.models import CalendarDay, get_settings
from .aftersales import services as aftersales
from .aftersales.models import Survey
from .auth.models import DeviceSession, User
from .costing import CostCause, ensure_builtin_causes, overhead
from .costing import services as costing
from .costing import quote_services as quotes
from .customers.models import Customer
from .extensions import db
from .notify.robots import PLACEHOLDER_KEY
from .notify.routing import ChatRobot, RobotEvent
from .i18n import firm_today, firm_zone
from .orders import services as orders
from .orders.models import OrderLine
from .photos import Photo
from . import signals
from .production import materials as production_materials
from .production import daily, operations, outsourcing
from .production.models import RoutingStep, WorkCentre
from .purchasing import services as purchasing
from .purchasing.models import PurchaseRequest, Supplier
from .quality import services as quality
from .receivables import services as receivables
from .receivables import settlement as receivables_settlement
from .quality.models import InspectionPlan, PlanItem
from .production import services as production
from .production.models import Product
from .requirements import services as requirements
from .requirements.models import Attachment, Requirement
from .reviews import services as reviews
from .shipping import services as shipping
from .shipping import packing
from .shipping.packing_models import ShipmentDocument
from .stock import bom as boms
from .stock import ledger
from .stock import products as stock_products
from .stock import stocktake as stocktakes
from .stock.models import Location, Material
from .wallclock import running_from as clock_at, utcnow

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

# The rest of the floor: workers who report on the operations (no PIN printed; their phones are
# enrolled by the supervisor). With the two above they are twelve, on one shift of eight hours.
FLOOR_CREW = [
    ("zhao.gang", "赵刚 Zhao Gang", "W003"), ("qian.li", "钱丽 Qian Li", "W004"), ("sun.hao", "孙浩 Sun Hao", "W005"),
    ("zhou.min", "周敏 Zhou Min", "W006"), ("wu.qiang", "吴强 Wu Qiang", "W007"), ("zheng.hua", "郑华 Zheng Hua", "W008"),
    ("feng.yu", "冯宇 Feng Yu", "W009"), ("chen.lei", "陈磊 Chen Lei", "W010"), ("he.jun", "何军 He Jun", "W011"),
    ("xu.ping", "许萍 Xu Ping", "W012"),
]
# A worker's minutes a day before the next report goes to someone else (one shift).
SHIFT_MINUTES = Decimal("480")

CUSTOMERS = [
    ("华东精密机械有限公司", "HDJM", "钱经理", "13800138001", "qian@hdjm.example.cn",
     "上海市嘉定区安亭镇墨玉路 88 号", "zh", "CNY", "30", 30, "GB/T 1804-m，表面无毛刺"),
    ("ACME Industrial Ltd", "ACME", "John Miller", "+44 20 7946 0001", "john.miller@acme.example.com",
     "Unit 4, Riverside Park, Leeds LS1 4AP, UK", "en", "CNY", "50", 45, "ISO 2768-mK; PPAP level 2"),
    ("深圳创新电子科技有限公司", "SZCX", "周工", "13900139002", "zhou@szcx.example.cn",
     "深圳市南山区科技园高新南一道 9 号", "zh", "CNY", "0", 60, "IPC-A-610 Class 2"),
    ("Nordic Furniture AB", "NORD", "Anna Lind", "+46 8 123 456", "anna.lind@nordic.example.se",
     "Industrivägen 12, 553 02 Jönköping, Sweden", "en", "CNY", "30", 30, "FSC certified oak"),
    ("苏州恒达汽车零部件有限公司", "SZHD", "沈科长", "13700137003", "shen@szhd.example.cn",
     "江苏省苏州市工业园区星湖街 328 号", "zh", "CNY", "30", 45, "IATF 16949；首件送检"),
    ("Bavaria Maschinenbau GmbH", "BAVM", "Klaus Weber", "+49 89 1234 5670", "k.weber@bavaria.example.de",
     "Industriestraße 7, 85748 Garching, Germany", "en", "USD", "30", 30, "DIN ISO 2768-f; EN 10204 3.1"),
]

PRODUCTS = [
    ("BRK-200", "不锈钢支架 Stainless bracket", "件", "12.50", "800"),
    ("GEAR-45", "直齿轮 M2 45T Spur gear", "件", "38.00", "400"),
    ("HSG-AL6", "铝合金外壳 Aluminium housing", "件", "56.00", "0"),
    ("PCB-X1", "控制板 Controller board", "件", "120.00", "150"),
    ("CAB-OAK", "橡木柜 Oak cabinet", "套", "860.00", "12"),
    ("PIN-08", "定位销 Ø8 Locating pin", "件", "0.85", "30000"),
]

# Where stock is kept: finished goods first (the default location), raw materials, the floor's line side.
LOCATIONS = [("FG", "成品仓 Finished goods"), ("RAW", "原料仓 Raw materials"), ("LINE", "线边仓 Line side")]

# Work centres: code, name, hours a shift, shifts, hourly labour rate (yuan). The CNC cell is the
# firm's bottleneck: the housings load it beyond what two shifts can do.
WORK_CENTRES = [
    ("SAW", "锯床 Saw", "8", 1, "35"), ("LASER", "激光切割 Laser", "8", 2, "45"), ("BEND", "折弯 Press brake", "8", 1, "40"),
    ("CNC", "数控加工中心 CNC", "8", 2, "60"), ("HOB", "滚齿/磨齿 Gear cutting", "8", 1, "55"),
    ("SMT", "贴片线 SMT line", "8", 2, "50"), ("TEST", "测试台 Test bench", "8", 1, "38"),
    ("ASSY", "装配线 Assembly", "8", 1, "38"), ("PAINT", "涂装 Finishing", "8", 1, "40"),
]

# Routings: product → (operation, work centre or an outsourcing supplier's name, minutes a piece,
# piece rate in yuan (None: paid by the hour), lead days for an outsourced step).
ROUTINGS = {
    "BRK-200": [("激光切割", "LASER", "0.5", "0.20", 0), ("折弯", "BEND", "0.8", "0.30", 0),
                ("去毛刺", "ASSY", "0.3", "0.10", 0)],
    "GEAR-45": [("下料", "SAW", "1", "0.40", 0), ("车削", "CNC", "2.5", "0.95", 0), ("滚齿", "HOB", "3", "1.10", 0),
                ("热处理", "常州热处理厂", "0", None, 5), ("磨齿", "HOB", "3", "1.20", 0)],
    # Two housings a fixture: six minutes of the CNC each.
    "HSG-AL6": [("CNC 铣削", "CNC", "6", "2.25", 0), ("阳极氧化", "昆山表面处理", "0", None, 4),
                ("装配", "ASSY", "3", "1.00", 0)],
    "PCB-X1": [("SMT 贴片", "SMT", "2", "0.80", 0), ("功能测试", "TEST", "1.5", "0.60", 0)],
    "CAB-OAK": [("开料", "SAW", "20", "8.00", 0), ("组装", "ASSY", "60", "25.00", 0), ("上油", "PAINT", "30", None, 0)],
}

# Materials: code, name, stock unit, purchase unit, stock units per purchase unit, supplied by (a
# customer's abbreviation: 客供料), inspected on receipt.
MATERIALS = [
    ("SUS304-1.5", "不锈钢板 SUS304 1.5mm", "kg", "t", "1000", None, False),
    ("40CR-D50", "圆钢 40Cr Φ50", "kg", "t", "1000", None, True),
    ("AL6061-T6", "铝板 6061-T6 8mm", "kg", "kg", "1", None, True),
    ("STEEL45-D8", "圆钢 45# Φ8", "kg", "kg", "1", None, False),
    ("SCREW-M3", "螺钉 M3×8", "件", "盒", "1000", None, False),
    ("OAK-BOARD", "橡木板 Oak board", "m²", "m²", "1", None, False),
    ("MCU-STM32", "客供芯片 STM32F103", "件", "件", "1", "SZCX", False),
]

# Bills of materials: product → (material code or a product model for its sub-assembly, per unit,
# scrap %). HSG-AL6 takes four PIN-08 pins, which are made from 45# steel (two levels).
BOMS = {
    "BRK-200": [("SUS304-1.5", "0.085", "3")],
    "GEAR-45": [("40CR-D50", "0.62", "5")],
    "PIN-08": [("STEEL45-D8", "0.0042", "2")],
    "HSG-AL6": [("AL6061-T6", "0.42", "2"), ("PIN-08", "4", "0"), ("SCREW-M3", "6", "1")],
    "PCB-X1": [("MCU-STM32", "1", "0"), ("SCREW-M3", "4", "1")],
    "CAB-OAK": [("OAK-BOARD", "2.6", "8")],
}

# Opening stock: material, lot (炉号 / batch), location, quantity, unit cost (per stock unit).
OPENING_STOCK = [
    ("SUS304-1.5", "B2609-114", "RAW", "420", "16.80"),
    ("SUS304-1.5", "B2609-114", "LINE", "60", "16.80"),
    ("40CR-D50", "23A1187", "RAW", "2600", "6.35"),
    ("40CR-D50", "23A1302", "RAW", "1000", "6.52"),
    ("AL6061-T6", "AL-2609-07", "RAW", "900", "24.60"),
    ("STEEL45-D8", "45-2608-33", "RAW", "120", "5.90"),
    ("SCREW-M3", "M3-2609", "LINE", "60000", "0.0125"),
    ("OAK-BOARD", "OAK-2608", "RAW", "40", "95.00"),
    ("MCU-STM32", "SZCX-MCU-01", "RAW", "5000", "0"),
]

# The makers' barcodes for the packing scanner: EAN-13s from the in-store 200-299 range, so they
# cannot clash with real products', and one Code 128.
DEMO_BARCODES = {"BRK-200": "2001234000017", "GEAR-45": "2001234000024", "HSG-AL6": "2001234000031",
                 "CAB-OAK": "2001234000048", "PIN-08": "2001234000055", "PCB-X1": "PCB-X1-V2"}

# How far back the firm's history starts (working days before today).
HISTORY_DAYS = 60
# The firm's people, customers, products and stock are set up this many working days ago: older
# than the history, so that receivables carried from before it (an invoice over 90 days overdue) have
# orders and stock to stand on.
SETUP_DAYS = 110
# Orders in US dollars are fixed at this rate (CNY per USD) when they are made.
USD_RATE = Decimal("7.10")


def demo_strokes(variant: int = 0) -> str:
    """A plausible handwritten signature as signature_pad stroke data (toData()): a looping name
    written left to right, a second word, and an underline; variant makes each signer's own."""
    rng = random.Random(variant)
    strokes, clock = [], 0
    x0, base = 24.0, 70.0
    for word in range(2):
        loops = rng.randint(3, 6)
        size = rng.uniform(16, 26)
        points = []
        steps = loops * 14
        for t in range(steps + 1):
            phase = t / 14 * 2 * math.pi
            x = x0 + t * rng.uniform(2.6, 3.2) + size * 0.45 * math.cos(phase)
            y = base - size * (0.5 + 0.5 * math.sin(phase)) * (1.25 if t % 28 < 8 else 0.8) + word * 4
            points.append({"x": round(x, 1), "y": round(y, 1), "pressure": 0.5, "time": clock})
            clock += 16
        strokes.append({"points": points})
        x0 = points[-1]["x"] + rng.uniform(18, 30)
        clock += 300
    end = x0 - 10
    underline = [{"x": round(30 + (end - 30) * t / 30, 1), "y": round(base + 18 + 5 * math.sin(t / 6), 1),
                  "pressure": 0.5, "time": clock + t * 16} for t in range(31)]
    strokes.append({"points": underline})
    return json.dumps(strokes)


def demo_photo(kind: str, seed: int = 0) -> bytes:
    """A small generated JPEG standing in for a phone photo: "machine" (a spindle with a crack of
    oil under it, for the anomaly) or "damaged" (gears in an opened carton, some with chipped teeth)."""
    from PIL import Image, ImageDraw, ImageFilter
    rng = random.Random(f"{kind}{seed}")
    width, height = 480, 360
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    top, bottom = ((70, 78, 86), (150, 155, 160)) if kind == "machine" else ((196, 170, 130), (120, 92, 60))
    for y in range(height):  # a lit background, as a phone camera sees it
        f = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * f) for a, b in zip(top, bottom)))
    if kind == "machine":
        draw.rectangle([60, 40, 420, 250], fill=(210, 205, 190), outline=(60, 60, 60), width=4)  # the machine
        draw.rectangle([200, 120, 280, 300], fill=(120, 124, 130), outline=(40, 40, 40), width=3)  # spindle
        draw.ellipse([215, 280, 265, 320], fill=(80, 80, 86))
        draw.polygon([(150, 330), (330, 318), (370, 352), (120, 356)], fill=(40, 32, 20))  # oil on the floor
        draw.line([(232, 140), (246, 176), (238, 206), (252, 240)], fill=(200, 30, 30), width=4)  # the crack
        draw.rectangle([80, 60, 150, 100], fill=(250, 200, 0), outline=(20, 20, 20), width=2)  # warning sign
    else:
        draw.polygon([(40, 120), (440, 120), (470, 350), (10, 350)], fill=(170, 130, 80), outline=(90, 60, 30))
        for i in range(9):  # gears in the carton
            cx, cy, r = 90 + (i % 3) * 140 + rng.randint(-8, 8), 170 + (i // 3) * 60, 34
            draw.ellipse([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=(185, 188, 192), outline=(90, 90, 96), width=3)
            for tooth in range(18):
                a = tooth / 18 * 2 * math.pi
                if i in (1, 4) and tooth in (2, 3, 4):
                    continue  # chipped teeth
                draw.line([(cx + r * math.cos(a), cy + r / 2 * math.sin(a)),
                           (cx + (r + 6) * math.cos(a), cy + (r / 2 + 3) * math.sin(a))], fill=(120, 120, 128), width=3)
            if i in (1, 4):
                draw.ellipse([cx - r - 10, cy - r // 2 - 10, cx + r + 10, cy + r // 2 + 10], outline=(220, 30, 30), width=4)
        draw.polygon([(40, 120), (120, 60), (210, 120)], fill=(150, 110, 66))  # the torn flap
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class Firm:
    """The demo firm's people, customers and products, the dates of its history, and the steps
    its stories share."""

    def __init__(self):
        self.worked: dict = {}  # (worker id, day) → minutes reported: the demo spreads a day's work
        self.now = utcnow()
        self.today = firm_today()
        self.zone = firm_zone()
        self.people: dict[str, User] = {}
        self.customers: dict[str, Customer] = {}
        self.products: dict[str, Product] = {}
        self.uploads: list[FileStorage] = []  # kept alive: the upload cache is keyed by id()
        self.overrides: dict = {}
        self.locations: dict[str, Location] = {}
        self.materials: dict[str, Material] = {}
        # Jobs whose last day's outsourced batch stays at the supplier (and is late by now).
        self.kept_out: set[int] = set()
        self.carriers: dict = {}
        self.vehicles: dict = {}

    # --- dates -------------------------------------------------------------------------------

    def working_day(self, offset: int):
        """The working day offset working days from today (negative: before)."""
        day, step, left = self.today, (1 if offset > 0 else -1), abs(offset)
        while left:
            day += timedelta(days=step)
            if calendar.is_working_day(day, self.overrides):
                left -= 1
        return day

    def at(self, days_ago: int, clock: str) -> datetime:
        """The moment clock ("14:30", firm time) on the working day days_ago working days before
        today; never later than a few minutes ago."""
        hour, minute = (int(part) for part in clock.split(":"))
        local = datetime.combine(self.working_day(-days_ago), time(hour, minute), tzinfo=self.zone)
        return min(local, self.now - timedelta(minutes=5))

    def date(self, offset: int):
        """A planned date offset working days from today (negative: in the past)."""
        return self.working_day(offset)

    def photo(self, kind: str, name: str, seed: int = 0) -> FileStorage:
        """A generated photo as an upload, as a phone sends it."""
        upload = FileStorage(stream=io.BytesIO(demo_photo(kind, seed)), filename=name, content_type="image/jpeg")
        self.uploads.append(upload)
        return upload

    # --- stage 1 and 2 -----------------------------------------------------------------------

    def requirement(self, abbr: str, rep: str, model: str, qty: str, expected, priority="regular", specs="",
                    budget=None) -> Requirement:
        """A requirement record written by the sales rep (as the form creates it)."""
        customer, product, user = self.customers[abbr], self.products.get(model), self.people[rep]
        customer.owner_id = customer.owner_id or user.id  # the rep who first sells to it owns it
        req = Requirement(customer=customer, sales_rep_id=user.id, product=product.name if product else model,
                          product_id=product.id if product else None, quantity=Decimal(qty),
                          unit=product.unit if product else "件", expected_date=expected,
                          priority=priority, specs=specs, contact_name=customer.contact_name,
                          contact_phone=customer.contact_phone, contact_email=customer.contact_email,
                          quality_standard=customer.quality_standard, currency=customer.currency,
                          budget_min=Decimal(budget[0]) if budget else None,
                          budget_max=Decimal(budget[1]) if budget else None)
        db.session.add(req)
        db.session.flush()
        audit.record("requirement.created", req, actor=user, after=req.record())
        return req

    def customer_answers(self, req: Requirement, answer="confirmed", comment=None):
        """The customer answers on the requirement link, in their language."""
        link = links.current("requirement_confirm", req.id)
        with force_locale(req.customer.locale):
            requirements.respond(req, link, answer, req.customer.contact_name, comment)

    def draft_order(self, req: Requirement, po: str, extra_lines=(), prepay=None):
        """The order the sales rep makes from a confirmed requirement, with any further lines."""
        rep = req.sales_rep
        order = orders.new_order(req.customer, rep, req)
        order.customer_po = po
        if prepay is not None:
            order.prepayment_pct = Decimal(prepay)
        for model, qty in extra_lines:
            product = self.products[model]
            order.lines.append(OrderLine(
                position=len(order.lines) + 1, product_id=product.id, model=product.model,
                description=product.name, quantity=Decimal(qty), unit=product.unit, unit_price=product.list_price,
                unit_price_incl=(product.list_price * (1 + order.tax_rate / 100)).quantize(Decimal("0.01"))))
        if order.currency == "USD":  # the list prices are in yuan: quoted in dollars at the day's rate
            order.exchange_rate = USD_RATE
            for line in order.lines:
                line.unit_price = (line.unit_price / USD_RATE).quantize(Decimal("0.01"))
                line.unit_price_incl = (line.unit_price * (1 + order.tax_rate / 100)).quantize(Decimal("0.01"))
        orders.recalculate(order)
        db.session.add(order)
        db.session.flush()
        audit.record("order.created", order, actor=rep, after=order.terms())
        return order

    def set_budget(self, order, ratio="0.62"):
        """Finance's cost budget per category (through the service, as the budget form does): material,
        labour and overhead as a quotation estimates them from the BOM, routing, rates and overhead
        rule (a product without them: a share of the price), logistics and after-sales a share of it."""
        base = order.total_excl * order.exchange_rate * Decimal(ratio)  # costs are in yuan
        shares = {"material": "0.55", "labour": "0.24", "overhead": "0.11", "logistics": "0.06", "aftersales": "0.04"}
        amounts = {c: (base * Decimal(s)).quantize(Decimal("0.01")) for c, s in shares.items()}
        lines = [SimpleNamespace(product=line.product, quantity=line.quantity, id=None, position=index)
                 for index, line in enumerate(order.lines, start=1) if line.product is not None]
        if lines and len(lines) == len(order.lines):
            estimates, _direct = quotes.compute(SimpleNamespace(lines=lines))
            for category, estimate in estimates.items():
                if category in ("material", "labour", "overhead") and not estimate.missing and estimate.amount > 0:
                    amounts[category] = estimate.amount
        form = SimpleNamespace(**{f"budget_{c}": SimpleNamespace(data=v) for c, v in amounts.items()})
        orders.set_budget(order, form, self.people["chen.jing"])

    def sign(self, order, variant: int):
        """The customer countersigns on their phone, in their language."""
        link = links.current("order_countersign", order.id)
        with force_locale(order.customer.locale):
            orders.countersign(order, link, order.customer.contact_name, "采购经理" if order.customer.locale == "zh"
                               else "Purchasing manager", demo_strokes(variant), "203.0.113.%d" % (10 + variant),
                               "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) MicroMessenger/8.0")

    def sell(self, abbr, rep, model, qty, po, start: int, *, delivery: int, extra_lines=(), prepay=None,
             until="in_production", specs="", priority="regular", concern=None):
        """Stages 1 and 2 from start working days ago: requirement, confirmation, order, reviews,
        approvals, countersignature, deposit and release, each a working day or so apart; stops
        once the order reaches until. Yields the steps' times; returns the order."""
        p = self.people
        product = self.products[model]
        yield self.at(start, "09:20")
        total_guess = Decimal(qty) * product.list_price
        req = self.requirement(abbr, rep, model, qty, self.date(delivery), priority, specs,
                               (str((total_guess * Decimal("0.95")).quantize(Decimal("1"))),
                                str((total_guess * Decimal("1.15")).quantize(Decimal("1")))))
        yield self.at(start, "10:05")
        requirements.send(req, p[rep])
        yield self.at(start - 1, "14:40")
        self.customer_answers(req)
        yield self.at(start - 1, "16:10")
        order = self.draft_order(req, po, extra_lines, prepay)
        if until == "draft":
            return order
        yield self.at(start - 1, "16:30")
        orders.submit(order, p[rep])
        yield self.at(start - 2, "09:15")
        orders.review(order, "warehouse", "agree", "库存/采购可满足，原材料两周内到齐", p["liu.yang"])
        if until == "in_review":
            return order
        yield self.at(start - 2, "10:40")
        if concern:
            orders.review(order, "production", "concern", concern, p["zhang.wei"])
            return order
        orders.review(order, "production", "agree", "产能可排，按交期倒排计划", p["zhang.wei"])
        yield self.at(start - 2, "11:30")
        self.set_budget(order)
        orders.review(order, "finance", "agree", "毛利合理，账期符合客户信用额度", p["chen.jing"])
        yield self.at(start - 2, "15:20")
        orders.decide(order, "finance", "approve", "同意", p["chen.jing"])
        if until == "pending_approval":
            return order
        yield self.at(start - 2, "16:45")
        orders.decide(order, "manager", "approve", "同意，注意交期", p["zhao.min"])
        if until == "awaiting_countersign":
            return order
        yield self.at(start - 3, "10:20")
        self.sign(order, order.id)
        if until == "effective_unpaid":
            return order
        if order.prepayment_due > 0:
            yield self.at(start - 4, "11:00")
            orders.record_payment(order, "deposit", order.prepayment_due, self.working_day(-(start - 4)),
                                  self.bank_reference(order, start - 4), p["chen.jing"])
        if until == "effective":
            return order
        yield self.at(start - 4, "14:30")
        orders.simple_transition(order, "start_production", p["li.qiang"])
        return order

    # --- stage 3 -----------------------------------------------------------------------------

    def make(self, job, days: list[tuple[int, str, str]], worker="huang.xm", finish=True, qc_pass=True,
             materials: int | None = None):
        """Work a job: materials ready, progress reports (working days ago, good, scrap), finish and
        QC. Yields the steps' times."""
        p = self.people
        job.owner_id = p[worker].id
        if materials is not None:
            yield self.at(materials, "08:40")
            self.materials_arrive(job)
        notes = ["首件检验合格", "", "换班交接，设备正常", "", "抽检 5 件尺寸合格"]
        partner = "lin.dw" if worker == "huang.xm" else "huang.xm"  # the two share the shifts
        for index, (day, good, scrap) in enumerate(days):
            yield self.at(day, "17:10" if index % 2 else "11:45")
            if index == 0:
                self.issue_materials(job)
            self.work(job, p[partner if index % 3 == 2 else worker], Decimal(good), Decimal(scrap),
                      notes[index % len(notes)], receive=not (job.id in self.kept_out and index == len(days) - 1))
        if not finish:
            return
        yield self.at(days[-1][0], "17:40")
        production.move(job, "finish", p[worker])
        if qc_pass:
            yield self.at(max(days[-1][0] - 1, 1), "09:30")
            production.move(job, "pass_qc", p["zhou.jie"])

    def work(self, job, worker, good: Decimal, scrap: Decimal, note: str, receive: bool = True) -> None:
        """A day's work on a job: good pieces through each operation in turn as far as the one before
        has passed them (scrap at the first), with the minutes it took; an outsourced step is a batch
        sent to its supplier and received back the same day (or, receive=False, still out: due back
        three working days before today)."""
        if not job.operations:
            production.report(job, worker, good, scrap, note, [])
            return
        for operation in job.operations:
            room = operations.allowed(operation) - operation.good
            quantity = min(good, room)
            if quantity <= 0:
                continue
            if operation.outsourced:
                batch = outsourcing.send_out(operation, quantity, None if receive else self.date(-3),
                                             self.people["zhang.wei"], "" if receive else "加急，请按期交货")
                if receive:
                    outsourcing.receive_back(batch, quantity, Decimal("0"), (quantity * Decimal("0.85")).quantize(
                        Decimal("0.01")), self.people["liu.yang"])
                    continue
                break  # the pieces are out: nothing reaches the operations after it today
            first = operation is job.operations[0]
            per_piece = operation.minutes_per_piece * Decimal("1.08")  # a little over standard, as real work is
            for hands, pieces in self.shares(worker, quantity, per_piece):
                production.report(job, hands, pieces, scrap if first else Decimal("0"), note if first else "", [],
                                  step=operation, minutes=min((pieces * per_piece).quantize(Decimal("1")),
                                                              Decimal("1440")),
                                  scrap_reason="machining" if first and scrap else "")
                scrap, note = Decimal("0"), ""  # told once, with the first share

    def shares(self, worker, quantity: Decimal, per_piece: Decimal):
        """Split an operation's pieces among the floor so nobody works much past a shift today: the
        named worker first while they have time, then whoever has worked least today (overtime for the
        least loaded only when everyone's shift is full). Yields (worker, whole pieces)."""
        today = firm_today()
        crew = [worker] + [self.people[name] for name, _n, _no in FLOOR_CREW]
        left = quantity
        while left > 0:
            free = [person for person in crew if self.worked.get((person.id, today), 0) < SHIFT_MINUTES]
            hands = worker if worker in free else min(free or crew, key=lambda p: self.worked.get((p.id, today), 0))
            # Room left in the shift; with every shift full, overtime goes round two hours at a time.
            room = SHIFT_MINUTES - self.worked.get((hands.id, today), 0) if free else Decimal("120")
            pieces = left if per_piece <= 0 else min(left, max(Decimal(int(room / per_piece)), Decimal("1")))
            self.worked[(hands.id, today)] = self.worked.get((hands.id, today), 0) + pieces * per_piece
            left -= pieces
            yield hands, pieces

    def materials_arrive(self, job) -> None:
        """The job's materials are there: what its BOM still lacks is received (the milestone then
        comes by itself); a job without a BOM is marked by purchasing."""
        if job.bom_version_id is None:
            if job.status == "planned":
                production.move(job, "materials_ready", self.people["sun.lei"])
            return
        requests = db.session.scalars(db.select(PurchaseRequest).where(
            PurchaseRequest.work_order_id == job.id, PurchaseRequest.status == "open")).all()
        by_supplier: dict = {}
        for request in requests:
            by_supplier.setdefault(MATERIAL_SUPPLIER.get(request.material.code, "苏州紧固件"), []).append(request)
        for name, group in by_supplier.items():  # ordered from the job's requests, sent, received in full
            supplier = db.session.scalar(db.select(Supplier).where(Supplier.name.like(name + "%")))
            order = purchasing.create_purchase_order(supplier, firm_today(), (), self.people["sun.lei"], requests=group)
            purchasing.send(order, self.people["sun.lei"])
            for line in order.lines:
                purchasing.receive(line, line.quantity, line.material.purchase_unit, self.locations["RAW"],
                                   f"{line.material.code[:6]}-{order.number[-4:]}", "", self.people["liu.yang"])
                if line.material.inspect_on_receipt:
                    self._release_lots(line.material, INCOMING_READINGS.get(line.material.code, ()))
                    signals.stock_received.send(line.material)
        for row in production_materials.status(job):
            if row.short > 0:  # a sub-assembly, made: enough for this job after what older jobs hold
                ledger.receive(row.material, row.open - row.available, self.locations["RAW"],
                               unit_cost=row.material.last_cost,
                               user=self.people["liu.yang"], reason="到货 received")
                if row.material.inspect_on_receipt:
                    self._release_lots(row.material, INCOMING_READINGS.get(row.material.code, ()))
                signals.stock_received.send(row.material)

    def _release_lots(self, material, readings: tuple = ()) -> None:
        """Lots of material waiting for incoming inspection pass it: Zhou Jie samples by the plan,
        records what she measured, and passes it."""
        from .stock.models import Lot
        for lot in db.session.scalars(db.select(Lot).where(Lot.material_id == material.id, Lot.status == "quarantine")):
            self.inspect(quality.start_incoming(lot, self.people["zhou.jie"]), readings, "pass")

    def inspect(self, inspection, readings: tuple, result: str, note: str = ""):
        """Record the values (in the plan's order; True/False for a look) and decide."""
        values = {}
        for row, reading in zip(inspection.values, readings):
            values[row.id] = (quality.Reading(ok=reading) if isinstance(reading, bool)
                              else quality.Reading(value=str(reading)))
        quality.record(inspection, self.people["zhou.jie"], values, 0 if result == "pass" else 3)
        return quality.decide(inspection, result, self.people["zhou.jie"], note)

    def issue_materials(self, job) -> None:
        """The warehouse issues what the job's BOM holds, oldest lots first (领料)."""
        for row in production_materials.status(job, with_lots=True):
            left = row.open
            for lot, balance in row.lots:
                if left <= 0:
                    break
                take = min(left, balance.on_hand)
                production_materials.issue(job, lot, take, self.people["liu.yang"], location=balance.location)
                left -= take

    # --- stage 4 -----------------------------------------------------------------------------

    def ship(self, order, lines: dict, day: int, *, batch: str, carrier="顺丰速运 SF Express", freight="800",
             until="dispatched", by_courier=True, cartons=None):
        """Pick, check, pack and hand over a shipment of {line position: quantity}; yields the
        steps' times; returns the shipment. cartons: pack by scanning labelled cartons of that many
        pieces from the lots the shipment took (else each line is ticked by a tap)."""
        warehouse = self.people["liu.yang"]
        by_position = {line.position: line for line in order.lines}
        yield self.at(day, "09:10")
        serial = (order.id * 7919 + day * 104729) % 10**8
        tracking = {"DHL": f"48{serial:08d}", "Schenker": f"SE{serial:08d}"}.get(carrier.split()[0], f"SF14{serial:08d}")
        listed = self.carriers.get(carrier)
        shipment = shipping.create_shipment(order, warehouse, {by_position[k].id: Decimal(v) for k, v in lines.items()},
                                            {by_position[k].id: f"{batch}-{k}" for k in lines}, "delivery", carrier,
                                            tracking, self.date(-day + 2), Decimal(freight),
                                            carrier_id=listed.id if listed else None)
        if until == "packing":
            return shipment
        yield self.at(day, "10:30")
        if cartons:
            self.pack_cartons(shipment, Decimal(cartons))
        for sline in shipment.lines:
            if sline.checked_at is None:
                shipping.check_line(shipment, sline, sline.batch, warehouse)
        shipping.pack(shipment, warehouse)
        if until == "packed":
            return shipment
        yield self.at(day, "15:20")
        if by_courier:
            shipping.dispatch(shipment, [], "已取件，货物完好" if order.customer.locale == "zh" else "Picked up, 3 pallets",
                              courier_link=links.current("courier", shipment.id))
        else:
            shipping.dispatch(shipment, [], "自提", warehouse)
        return shipment

    def transit(self, shipment, steps):
        """The courier taps what happens on the way: [(days ago, clock, kind, place, reason)]; yields
        the times (a failed attempt carries its reason)."""
        from .shipping import transit
        for day, clock, kind, place, reason in steps:
            yield self.at(day, clock)
            transit.add_event(shipment, kind, "courier", reason=reason, place=place)
    def pack_cartons(self, shipment, each: Decimal, scan: bool = True) -> list:
        """Carton labels of each pieces for the lots the shipment took (the last carton of a lot holds
        the rest), weighed and measured, each scanned into the shipment as it is packed."""
        from .stock.models import Lot
        warehouse, made = self.people["liu.yang"], []
        for sline in shipment.lines:
            product = sline.order_line.product
            if product is None:
                continue
            taken = packing.taken_lots(shipment, stock_products.material_for_product(product).id)
            for lot_id, quantity in sorted(taken.items()):
                lot = db.session.get(Lot, lot_id)
                full, rest = int(quantity // each), quantity % each
                for size, count in ((each, full), (rest, 1 if rest else 0)):
                    if count:
                        made += packing.make_cartons(shipment.order, product, lot, size, count, warehouse,
                                                     weight_kg=(size * Decimal("0.062")).quantize(Decimal("0.1")),
                                                     dims=(Decimal("60"), Decimal("40"), Decimal("35")),
                                                     prefix=shipment.number)
        if scan:
            for carton in made:
                packing.count_carton(shipment, carton, warehouse)
        return made

    def certificate(self, shipment, heat: str, grade: str) -> ShipmentDocument:
        """The mill's material certificate (材质证明) for the shipment's steel, as a PDF the QC attached."""
        from .documents.pdf import CopyPDF
        from .uploads import store
        pdf = CopyPDF("江阴兴澄特种钢铁有限公司", "材质证明 Material certificate", heat, "EN 10204 3.1")
        pdf.add_page()
        pdf.title_block(f"{grade} · 炉号 {heat}")
        pdf.facts([("牌号 Grade", grade), ("炉号 Heat", heat), ("规格 Size", "3.0 × 1250 × C mm"),
                   ("C", "0.045 %"), ("Cr", "18.12 %"), ("Ni", "8.05 %"), ("Mn", "1.12 %"),
                   ("抗拉强度 Rm", "625 MPa"), ("屈服强度 Rp0.2", "298 MPa"), ("延伸率 A", "54 %")])
        stored = store(FileStorage(io.BytesIO(pdf.output_bytes()), filename=f"材质证明-{heat}.pdf",
                                   content_type="application/pdf"))
        document = ShipmentDocument(shipment_id=shipment.id, kind="material_certificate", title=f"{grade} 炉号 {heat}",
                                    filename=stored.filename, stored_name=stored.stored_name,
                                    content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                                    uploaded_by_id=self.people["zhou.jie"].id)
        db.session.add(document)
        audit.record("shipment.document_added", shipment, actor=self.people["zhou.jie"],
                     after={"kind": document.kind, "file": document.filename, "sha256": document.sha256})
        return document

    def receive(self, shipment, day: int, clock="14:20", problems=None, photos=()):
        """The customer signs for the shipment on the receipt link: every line in good order, or
        {line position: (received, condition, note)}. Yields the time; returns the receipt."""
        yield self.at(day, clock)
        problems = problems or {}
        entries = []
        for sline in shipment.lines:
            received, condition, note = problems.get(sline.order_line.position, (sline.quantity, "ok", ""))
            entries.append({"line": sline, "received": Decimal(received), "condition": condition, "note": note})
        customer = shipment.order.customer
        with force_locale(customer.locale):
            return shipping.sign_receipt(shipment, links.current("delivery_receipt", shipment.id), entries,
                                         customer.contact_name, "收货人" if customer.locale == "zh" else "Goods-in",
                                         demo_strokes(shipment.id + 50), [], list(photos), "203.0.113.77",
                                         "Mozilla/5.0 (Linux; Android 14) Chrome/126 Mobile")

    def exchange(self, case, day: int, *, carrier: str, replace: dict, findings: str, costs=()):
        """A started return case run to the end: the collection booked and made by the courier,
        the goods inspected on arrival, a replacement of {line position: quantity} packed, dispatched
        and signed for (which closes the case); the case's costs recorded. Yields the steps' times."""
        from .shipping import returns
        warehouse, care = self.people["liu.yang"], self.people["wu.ting"]
        yield self.at(day, "09:30")
        returns.book_collection(case, warehouse, self.date(-day + 1), time(9, 0), time(12, 0),
                                carrier=self.carriers[carrier], tracking_no=f"R{case.id:04d}{day:02d}7731",
                                note="取件时请带 2 个空纸箱")
        yield self.at(day - 1, "10:40")
        returns.collect(case, "已取件 2 箱", courier_link=links.current("return_pickup", case.id))
        yield self.at(day - 2, "09:50")
        returns.inspect(case, self.people["zhou.jie"], sum((Decimal(q) for q in replace.values()), Decimal("0")),
                        "damaged", findings, [self.photo("damaged", "returned-gears.jpg", case.id + 7)])
        yield self.at(day - 2, "14:30")
        lines = {sline.order_line.position: sline.order_line_id for sline in case.shipment.lines}
        replacement = returns.create_replacement(case, care, {lines[k]: Decimal(v) for k, v in replace.items()},
                                                 carrier=self.carriers[carrier], tracking_no=f"77812231{case.id:02d}",
                                                 eta=self.date(-day + 4), cost=Decimal("0"))
        yield self.at(day - 2, "16:00")
        for sline in replacement.lines:
            shipping.check_line(replacement, sline, sline.batch or "B-R", warehouse)
        shipping.pack(replacement, warehouse)
        yield self.at(day - 2, "17:30")
        shipping.dispatch(replacement, [], "Air freight", courier_link=links.current("courier", replacement.id))
        yield from self.receive(replacement, day - 4, clock="10:15")
        for kind, amount, note in costs:
            returns.add_cost(case, care, kind, Decimal(amount), note)
        return replacement

    # --- stages 5 and 6 ----------------------------------------------------------------------

    def follow_up(self, order, outcome: str):
        """The sales rep records the follow-up call."""
        from .aftersales.models import FollowUp
        follow = db.session.scalar(db.select(FollowUp).where(FollowUp.order_id == order.id))
        aftersales.record_follow_up(follow, outcome, order.sales_rep)

    def answer_survey(self, order, ratings, suggestions=""):
        """The customer answers the survey on its link."""
        survey = db.session.scalar(db.select(Survey).where(Survey.order_id == order.id))
        with force_locale(order.customer.locale):
            aftersales.answer_survey(survey, dict(zip(("requirement_response", "delivery_timeliness",
                                                       "service_quality"), ratings)), suggestions)

    def bank_reference(self, order, day: int) -> str:
        """The bank's reference of a payment received days_ago working days ago."""
        on = self.working_day(-day)
        if order.customer.locale == "zh":
            return f"招商银行回单 {on:%Y%m%d}-{order.id * 37 % 1000:03d}"
        return f"SWIFT MT103 {on:%y%m%d}{order.customer.abbreviation}{order.id * 37 % 1000:03d}"

    def invoice(self, order, shipment=None, milestone: str = "", amount=None, issued=None):
        """Finance records the invoice the tax system issued (a 20-digit 全电发票 number): VAT
        special for a Chinese customer, ordinary for a foreign one; for a shipment (its goods' value),
        a milestone, or what is left of the order."""
        self.invoices = getattr(self, "invoices", 0) + 1
        if amount is None and shipment is not None:
            amount = sum((sl.quantity * sl.order_line.unit_price_incl for sl in shipment.lines), Decimal("0"))
        if amount is None:
            amount = receivables_settlement.account(order).to_invoice
        return receivables.record_invoice(
            order, self.people["chen.jing"], kind="vat_special" if order.customer.locale == "zh" else "ordinary",
            number=f"26320000000{self.invoices * 7919 % 10**9:09d}", issued_on=issued or firm_today(),
            amount=Decimal(amount).quantize(Decimal("0.01")), shipment_id=shipment.id if shipment else None,
            milestone=milestone)

    def match(self, order):
        """Finance matches what each payment of the order has free to its oldest open invoices."""
        from .statemachine import TransitionError
        for payment in sorted(order.payments, key=lambda p: p.id):
            try:
                receivables.auto_match(payment, self.people["chen.jing"])
            except TransitionError:
                pass  # matched in full, or no invoice open yet

    def pay_balance(self, order, day: int):
        """Finance records the rest of the money."""
        orders.record_payment(order, "receipt", order.unpaid, self.working_day(-day),
                              self.bank_reference(order, day), self.people["chen.jing"])

    def cost(self, order, causes: dict, finalise=True, typed: dict | None = None):
        """Finance opens the cost sheet, which filled itself from the records, types only what the app
        cannot know (typed: {category: budget factor}), gives each variance its cause codes
        ({category: [(cause key, note), ...]}, the last taking what the others leave) and finalises."""
        budgets = costing.budgets(order)
        actuals = {c: (budgets[c] * Decimal(f)).quantize(Decimal("0.01")) for c, f in (typed or {}).items()}
        derived = costing.derived_actuals(order)
        for category, value in derived.items():  # what no record says: finance types the budget
            if value is None and category not in actuals:
                actuals[category] = budgets[category]
        keys = {c.key: c.id for c in db.session.scalars(db.select(CostCause).where(CostCause.key.is_not(None)))}
        entries, notes = {}, {}
        for category, given in causes.items():
            actual = actuals.get(category, derived.get(category))
            if actual is None or actual == budgets[category]:
                continue  # nothing to explain
            entries[category] = [costing.CauseEntry(keys[key], None, note) for key, note in given]
        costing.save(order, actuals, notes, self.people["chen.jing"], causes=entries)
        if finalise:
            costing.finalise(order, self.people["chen.jing"])


# --- the stories ----------------------------------------------------------------------------------

def story_closed_clean(f: Firm):
    """Closed a month and a half ago: brackets with locating pins from stock, paid, surveyed, costed
    over budget (stainless steel went up)."""
    order = yield from f.sell("HDJM", "wang.fang", "BRK-200", "2400", "HD-PO-2608-19", 58, delivery=-40,
                              extra_lines=[("PIN-08", "10000")], specs="SUS304，厚 3 mm，激光切割后折弯，去毛刺")
    job = order.work_orders[0]
    yield f.at(54, "15:20")
    shortage = production.raise_anomaly(job, f.people["huang.xm"], "material_shortage", "minor",
                                        "3 mm 不锈钢板到货少 2 张", "先用库存余料开工", None, "", [])
    yield f.at(53, "10:05")
    production.resolve_anomaly(shortage, f.people["zhang.wei"], "供应商当天补送 2 张，已入库")
    yield from f.make(job, [(53, "800", "6"), (52, "820", "4"), (51, "780", "3")], materials=53)
    shipment = yield from f.ship(order, {1: "2400", 2: "10000"}, 49, batch="B2609", freight="1390")
    yield f.at(49, "16:40")
    f.invoice(order, shipment)
    yield from f.receive(shipment, 48)
    yield f.at(46, "10:30")
    f.follow_up(order, "钱经理反馈支架装配顺利，询问四季度再下 5000 件的价格。")
    yield f.at(45, "20:15")
    f.answer_survey(order, (5, 5, 4), "交货准时，包装可以再加固一些。")
    yield f.at(43, "10:00")
    f.pay_balance(order, 43)
    f.match(order)
    yield f.at(42, "15:00")
    f.cost(order, {"material": [("estimating_error", "废料少于预留的 3%")],
                   "labour": [("estimating_error", "销钉工序无计件单价，人工按售价比例预估偏高")]})
    yield f.at(42, "16:30")
    costing.close(order, f.people["chen.jing"])


def story_closed_return(f: Firm):
    """ACME's spur gears: a QC rejection reworked, two deliveries, 20 pieces of the second crushed in
    transit; the exchange ran to the end — started within the day, the crushed pieces collected by DHL,
    inspected and scrapped, 20 replaced by air freight and signed for (its costs recorded); paid,
    surveyed, closed."""
    p = f.people
    order = yield from f.sell("ACME", "lucy", "GEAR-45", "3000", "ACME-76410", 52, delivery=-28, prepay="50",
                              specs="Module 2, 45 teeth, 40Cr, quenched and tempered HB240-280")
    job = order.work_orders[0]
    yield f.at(48, "09:00")
    second = production.split(job, Decimal("1500"), p["zhang.wei"])
    yield from f.make(job, [(46, "760", "8"), (45, "740", "5")], materials=47, qc_pass=False)
    yield f.at(44, "09:40")
    production.fail_qc(job, p["zhou.jie"], Decimal("40"), "rework", "齿面粗糙度 Ra 超差，返修")
    yield from f.make(job, [(43, "40", "0")])
    shipment = yield from f.ship(order, {1: "1500"}, 41, batch="B2610", carrier="DHL Express", freight="2600")
    yield f.at(41, "16:40")
    f.invoice(order, shipment)
    yield from f.make(second, [(41, "780", "4"), (40, "720", "2")], worker="lin.dw")
    yield from f.receive(shipment, 37, clock="10:10")
    yield f.at(36, "16:00")
    f.follow_up(order, "John confirmed the first batch passed their incoming inspection.")
    late = yield from f.ship(order, {1: "1500"}, 36, batch="B2610B", carrier="DHL Express", freight="2600")
    yield f.at(36, "16:40")
    f.invoice(order, late)
    yield from f.receive(late, 33, clock="11:20",
                                   problems={1: ("1500", "damaged", "1 carton crushed in transit: 20 pcs with bent teeth")})
    yield f.at(33, "15:10")
    case = _case_of(late)
    shipping.start_return(case, p["wu.ting"], "照片已转 DHL 理赔；取回压坏的 20 件，补发 20 件空运")
    yield from f.exchange(case, 32, carrier="DHL Express", replace={1: "20"}, findings="20 件齿面磕弯，外箱一角压扁；不可返修，报废",
                          costs=[("freight", "380", "DHL 上门取件"), ("scrap", "760", "20 件报废"),
                                 ("freight", "1150", "空运补发")])
    yield f.at(26, "21:40")
    f.answer_survey(order, (4, 3, 5), "Quick replacement, thank you. Please double-check carton counts.")
    yield f.at(25, "10:00")
    f.pay_balance(order, 25)
    f.match(order)
    yield f.at(24, "14:00")
    f.cost(order, {"labour": [("estimating_error", "滚齿计件单价低于估算")],
                   "overhead": [("rework", "40 件齿面返修占用机时")],
                   "aftersales": [("estimating_error", "售后预留未用完：仅 20 件报废")],
                   "logistics": [("expedited_freight", "20 件空运补发"), ("price_increase", "DHL 燃油附加费上调")]})
    yield f.at(24, "17:20")
    costing.close(order, p["chen.jing"])


def _case_of(shipment):
    from .shipping.models import ReturnCase
    return db.session.scalar(db.select(ReturnCase).where(ReturnCase.shipment_id == shipment.id))


def story_closed_override(f: Firm):
    """SZCX's controller boards, on 60 days' credit: a question about test reports answered and
    confirmed; costed under budget; the manager closed it with the balance still on credit."""
    p = f.people
    order = yield from f.sell("SZCX", "wang.fang", "PCB-X1", "1000", "SZCX-2026-097", 40, delivery=-14,
                              specs="4 层板，沉金，含 SMT 贴片；附 BOM V3")
    yield from f.make(order.work_orders[0], [(34, "330", "2"), (33, "340", "1"), (32, "330", "3")],
                      worker="lin.dw", materials=35)
    shipment = yield from f.ship(order, {1: "1000"}, 30, batch="B2610C", freight="3900")
    yield f.at(30, "16:40")
    f.invoice(order, shipment)
    yield from f.receive(shipment, 29)
    yield f.at(28, "10:20")
    ticket = aftersales.open_ticket(order, "请提供 ICT 测试报告", "来料检验需要每批次 ICT 测试报告，请补发电子版。",
                                    customer_name="周工", kind="other")
    yield f.at(28, "14:05")
    aftersales.respond(ticket, "测试报告已上传至共享盘，并已邮件发送，请查收。", p["wu.ting"])
    yield f.at(27, "09:30")
    with force_locale("zh"):
        aftersales.confirm_resolved(ticket)
    yield f.at(27, "11:00")
    f.follow_up(order, "周工确认板子上线测试通过，下月有新项目询价。")
    # Answered and costed early this month, so this month's KPIs have a survey and a cost sheet.
    yield f.at(19, "19:45")
    f.answer_survey(order, (5, 4, 5), "报告能随货提供就更好了。")
    yield f.at(17, "15:00")
    f.cost(order, {"overhead": [("delay_overtime", "贴片线周六加班")],
                   "logistics": [("estimating_error", "顺丰月结价低于估算")],
                   "aftersales": [("estimating_error", "无售后费用发生")]})
    yield f.at(8, "16:00")
    costing.close(order, p["zhao.min"], override_reason="余款按 60 天账期于下月结清，财务跟踪应收")


def story_delivered_to_cost(f: Firm):
    """Nordic's oak cabinets, delivered last week with one door scratched (credited: the customer keeps
    it); the survey went out, not answered yet; a question answered and confirmed, followed up, paid;
    finance has started the cost sheet."""
    p = f.people
    order = yield from f.sell("NORD", "lucy", "CAB-OAK", "120", "NF-45702", 30, delivery=-6, prepay="30",
                              specs="Oak cabinet 1200×450×900 mm, oiled finish, soft-close hinges")
    yield from f.make(order.work_orders[0], [(23, "40", "0"), (20, "42", "1"), (17, "38", "0")], materials=25)
    shipment = yield from f.ship(order, {1: "120"}, 14, batch="B2611", carrier="Schenker", freight="5800")
    yield f.at(14, "16:40")
    f.invoice(order, shipment)
    f.match(order)  # the deposit
    yield from f.receive(shipment, 8, clock="13:30", problems={1: ("120", "damaged", "1 cabinet: door scratched")})
    yield f.at(8, "15:00")
    from .shipping import returns
    case = _case_of(shipment)
    shipping.start_return(case, p["wu.ting"], "Scratch on one door: offer a credit instead of shipping it back")
    yield f.at(8, "16:10")
    returns.credit(case, p["wu.ting"], Decimal("430.00"), "50% of one cabinet: customer keeps it and polishes the door")
    yield f.at(7, "09:10")
    ticket = aftersales.open_ticket(order, "Assembly instructions in Swedish?",
                                    "Our fitters ask for the hinge adjustment sheet in Swedish.", customer_name="Anna Lind",
                                    kind="usage")
    yield f.at(7, "11:40")
    aftersales.respond(ticket, "Attached the Swedish sheet; the printed copy comes with the next order.", p["wu.ting"],
                       solution="guidance")
    yield f.at(6, "10:00")
    aftersales.confirm_resolved(ticket)
    yield f.at(6, "15:30")
    f.follow_up(order, "Anna: cabinets installed in the showroom, very happy with the finish.")
    # A fault nobody answered in time: the worker escalated it to Lucy and the managers (issue 15).
    yield f.at(5, "11:00")
    aftersales.open_ticket(order, "Soft-close hinge broken on 2 cabinets",
                           "Two doors no longer close softly; the hinge arm looks bent.", customer_name="Anna Lind",
                           kind="fault")
    yield f.at(3, "11:15")
    from .aftersales import tasks as aftersales_tasks
    aftersales_tasks.escalate()
    yield f.at(5, "10:00")
    f.pay_balance(order, 5)
    f.match(order)
    yield f.at(2, "16:00")
    f.cost(order, {"labour": [("rework", "Door of one cabinet re-oiled")],
                   "logistics": [("expedited_freight", "Schenker express surcharge")]}, finalise=False)


def story_delivered_damaged(f: Firm):
    """华东精密 (PO HD-PO-2610-31): gears and brackets in two deliveries; the second was signed
    yesterday with the gears damaged (a return case is open, the customer opened a ticket) and
    the follow-up call after the first is overdue."""
    order = yield from f.sell("HDJM", "wang.fang", "GEAR-45", "2000", "HD-PO-2610-31", 24, delivery=-3,
                              extra_lines=[("BRK-200", "1200")], prepay="30",
                              specs="模数 2，齿数 45，材料 40Cr，调质 HB240-280")
    job = order.work_orders[0]
    yield f.at(19, "09:00")
    second = production.split(job, Decimal("1000"), f.people["zhang.wei"])
    yield from f.make(job, [(17, "520", "3"), (16, "480", "2")], materials=18)
    first = yield from f.ship(order, {1: "1000"}, 14, batch="B2611", freight="1500")
    yield f.at(14, "16:50")
    f.invoice(order, first)
    f.match(order)
    yield from f.transit(first, [(14, "17:30", "picked_up", "苏州工业园区", ""),
                                 (13, "08:20", "in_transit", "上海浦东分拨中心", ""),
                                 (13, "16:45", "attempt_failed", "上海市闵行区", "nobody_home"),
                                 (12, "09:30", "in_transit", "上海市闵行区", "")])
    yield from f.make(second, [(13, "510", "2"), (12, "490", "1")], worker="lin.dw")
    yield from f.transit(first, [(12, "10:35", "delivered", "上海市闵行区", "")])
    yield from f.receive(first, 12, clock="10:40")
    bracket = next(w for w in order.work_orders if w.order_line_id == order.lines[1].id)
    yield from f.make(bracket, [(11, "1200", "5")])
    last = yield from f.ship(order, {1: "1000", 2: "1200"}, 3, batch="B2611B", freight="1900")
    yield f.at(3, "16:50")
    f.invoice(order, last)
    yield from f.receive(last, 1, clock="15:10", problems={1: ("1000", "damaged", "12 件齿面磕伤，外箱受潮")},
                         photos=[f.photo("damaged", "damaged-gears.jpg", 1), f.photo("damaged", "carton.jpg", 2)])
    yield f.at(1, "16:20")
    ticket = aftersales.open_ticket(order, "第二批 12 件齿面磕伤", "第二批齿轮有 12 件齿面磕伤，外箱受潮，请安排补发并说明原因。",
                                    customer_name="钱经理", kind="complaint")
    # Handed to quality to judge the damage from the photos (its own clock, issue 15).
    yield f.at(1, "16:45")
    aftersales.assign(ticket, "qc", "请根据签收照片判断磕伤是运输造成还是出厂前已有，明早前回复。", f.people["wu.ting"])


def story_shipped(f: Firm):
    """Bavaria's housings: the first half delivered (4 pieces claimed short: refused, the weights prove
    them there), the second on its way (its receipt link is live); the customer's question about
    certificates is answered, waiting for their word."""
    p = f.people
    order = yield from f.sell("BAVM", "lucy", "HSG-AL6", "1600", "BM-4500217", 22, delivery=0,
                              specs="6061-T6, anodised black, CNC machined, drawing HSG-AL6 rev C")
    job = order.work_orders[0]
    yield f.at(17, "09:00")
    second = production.split(job, Decimal("800"), p["zhang.wei"])
    yield from f.make(job, [(15, "400", "3"), (14, "400", "2")], materials=16)
    first = yield from f.ship(order, {1: "800"}, 12, batch="B2611", carrier="DHL Express", freight="1700")
    yield f.at(12, "16:40")
    f.invoice(order, first)
    f.match(order)
    yield from f.make(second, [(9, "410", "2"), (8, "390", "1")], worker="lin.dw")
    yield from f.receive(first, 6, clock="09:50", problems={1: ("796", "ok", "4 pieces short on count")})
    yield f.at(6, "14:00")
    from .shipping import returns
    case = _case_of(first)
    shipping.start_return(case, p["wu.ting"], "Check the packing photos and the carton weights")
    yield f.at(5, "09:20")
    returns.refuse(case, p["wu.ting"], "The 20 cartons were weighed at dispatch and on your dock (DHL POD): "
                   "all 800 pieces arrived. Please count the second layer of carton 14 again.")
    yield f.at(5, "10:30")
    f.follow_up(order, "Klaus: first batch fits, anodising colour matches the sample.")
    yield f.at(3, "09:15")
    ticket = aftersales.open_ticket(order, "3.1 certificates for batch 2",
                                    "Please include EN 10204 3.1 material certificates with the second batch.",
                                    customer_name="Klaus Weber", kind="usage")
    last = yield from f.ship(order, {1: "800"}, 2, batch="B2611B", carrier="DHL Express", freight="1700")
    yield f.at(2, "16:00")
    aftersales.respond(ticket, "Certificates are in the box and attached to the shipping mail.", p["wu.ting"])
    yield from f.transit(last, [(2, "16:30", "picked_up", "Suzhou", ""), (1, "07:50", "in_transit", "Shanghai PVG hub", ""),
                                (1, "12:10", "in_transit", "Frankfurt FRA", "")])


def story_ready_to_ship(f: Firm):
    """苏州恒达's brackets: made in two work orders, all passed QC; the first shipment is packed for
    the courier (its courier link is live; 顺丰 is booked to pick it up this afternoon), the second is
    being packed."""
    p = f.people
    order = yield from f.sell("SZHD", "wang.fang", "BRK-200", "3600", "HD-QP-26-1187", 16, delivery=3,
                              specs="SUS304，厚 3 mm，IATF 16949 首件送检", prepay="30")
    yield f.at(11, "16:00")  # the deposit invoiced as a milestone (预付款发票) and matched to it
    f.invoice(order, milestone="预付款 30%", amount=order.prepayment_due)
    f.match(order)
    job = order.work_orders[0]
    yield f.at(12, "09:00")
    second = production.split(job, Decimal("1600"), p["zhang.wei"])
    yield from f.make(job, [(9, "1000", "6"), (8, "1000", "4")], materials=10)
    yield from f.make(second, [(6, "800", "2"), (4, "800", "3")], worker="lin.dw", materials=7)
    # The courier comes today: packed by scanning its ten cartons of 200, with the mill's certificate.
    packed = yield from f.ship(order, {1: "2000"}, 1, batch="B2611", until="packed", cartons="200")
    f.certificate(packed, "H2611-0742", "SUS304")
    yield f.at(1, "10:40")
    receivables.release_shipping(order, "沈科长承诺本周五前结清 6 月的旧发票；老客户，本单先放行", p["chen.jing"])
    yield f.at(1, "11:00")
    from .shipping import carriers
    carriers.book_pickup(p["liu.yang"], f.date(0), time(14, 0), time(16, 0), shipment=packed,
                         carrier=f.carriers["顺丰速运 SF Express"])
    second = yield from f.ship(order, {1: "1600"}, 1, batch="B2611B", until="packing")
    yield f.at(1, "11:40")
    # The second: its carton labels printed, the first three scanned so far.
    labelled = f.pack_cartons(second, Decimal("200"), scan=False)
    for carton in labelled[:3]:
        packing.count_carton(second, carton, p["liu.yang"])


def story_partial(f: Firm):
    """ACME's pins and brackets: the pins left from stock and were signed for (a partial
    shipment); the brackets are being made."""
    order = yield from f.sell("ACME", "lucy", "BRK-200", "2000", "ACME-77013", 14, delivery=6,
                              extra_lines=[("PIN-08", "8000")], prepay="0",
                              specs="SUS304 bracket with Ø8 locating pins, packed separately")
    stock = yield from f.ship(order, {2: "8000"}, 9, batch="STK2611", carrier="DHL Express", freight="900")
    yield f.at(9, "16:40")
    f.invoice(order, stock)
    yield from f.receive(stock, 6, clock="11:00")
    yield f.at(5, "16:40")
    f.follow_up(order, "John: pins received, brackets expected next week as planned.")
    yield from f.make(order.work_orders[0], [(4, "420", "3"), (3, "400", "2"), (2, "380", "4")], materials=4,
                      finish=False)


def story_late(f: Firm):
    """苏州恒达's housings are late: the CNC spindle failed (a blocking anomaly with a photo), a
    new date was given to the customer and part of the job went to a subcontractor."""
    p = f.people
    order = yield from f.sell("SZHD", "wang.fang", "HSG-AL6", "2500", "HD-QP-26-1152", 20, delivery=-1,
                              specs="6061-T6，黑色阳极氧化，CNC 加工，图号 HSG-AL6 C 版", priority="urgent")
    job = order.work_orders[0]
    f.kept_out.add(job.id)  # the last anodising batch is still at Kunshan, past its date
    # Materials and the start on the plan's days; the spindle fails before QC could begin.
    yield from f.make(job, [(9, "360", "4"), (8, "380", "3"), (7, "350", "2"), (6, "310", "6")],
                      materials=11, finish=False)
    yield f.at(5, "14:35")
    production.raise_anomaly(job, p["huang.xm"], "equipment_failure", "blocking",
                             "3 号加工中心主轴异响、温升过高，已停机。", "已联系厂家维修；剩余 1,100 件中 500 件外协昆山协作厂。",
                             f.date(5), "主轴轴承需更换，配件预计 5 个工作日到货。",
                             [f.photo("machine", "spindle.jpg", 1), f.photo("machine", "spindle-2.jpg", 2)])
    yield f.at(4, "10:00")
    production.raise_anomaly(job, p["zhou.jie"], "quality", "minor", "停机前最后 20 件孔位偏移 0.05 mm，已隔离。",
                             "全检隔离件，合格的放行。", None, "", [])
    # The daily stand-up writes the days that fell behind onto the sheet (表2), with what was done.
    yield f.at(4, "08:45")
    daily.set_cause(job, f.date(-5), "equipment_failure", "3 号加工中心主轴故障，全天停机",
                    "联系厂家维修；500 件外协昆山协作厂", p["zhang.wei"])
    daily.set_cause(job, f.date(-4), "quality", "孔位偏移 20 件隔离", "全检隔离件，合格放行", p["zhang.wei"])


def story_in_production(f: Firm):
    """SZCX's boards and housings: one job waiting for QC, one with its materials just in."""
    order = yield from f.sell("SZCX", "wang.fang", "PCB-X1", "1800", "SZCX-2026-121", 12, delivery=8,
                              extra_lines=[("HSG-AL6", "1200")], specs="4 层板，沉金，含 SMT 贴片；附 BOM V4")
    boards, housings = order.work_orders[0], order.work_orders[1]
    yield from f.make(boards, [(7, "600", "4"), (5, "620", "2"), (3, "580", "3")], worker="lin.dw", materials=8,
                      qc_pass=False)
    yield f.at(2, "08:50")
    f.materials_arrive(housings)
    yield f.at(1, "10:20")
    article = quality.start_first_article(housings, f.people["zhou.jie"], note="首件：CNC 加工后阳极氧化前")
    f.inspect(article.inspection, (), "pass", "首件尺寸全检合格")
    quality.send_first_article(article, f.people["zhou.jie"])
    yield f.at(1, "15:40")
    with force_locale("zh"):
        quality.answer_first_article(article, links.current("first_article", article.id), True, "陈志远",
                                     "首件确认，可以批量生产；注意倒角一致")


def story_stocking(f: Firm):
    """Two stocking instructions (备货指令), made with no customer order: locating pins for the housings,
    made and passed into stock three weeks ago; and brackets for 华东精密's monthly call-offs, on the
    floor now and due in three days."""
    p = f.people
    yield f.at(22, "09:10")
    pins = production.create_stocking(f.products["PIN-08"], Decimal("6000"), f.date(-12),
                                      "安全库存：外壳装配用定位销", p["zhang.wei"], owner=p["lin.dw"])
    yield from f.make(pins, [(20, "3000", "12"), (18, "3000", "8")], worker="lin.dw", materials=21)
    yield f.at(11, "08:30")
    brackets = production.create_stocking(f.products["BRK-200"], Decimal("3000"), f.date(3),
                                          "华东精密月度叫货备货（框架协议）", p["li.qiang"], owner=p["huang.xm"])
    yield from f.make(brackets, [(9, "600", "5"), (7, "650", "3"), (5, "700", "2"), (2, "520", "4")],
                      worker="huang.xm", materials=10, finish=False)


def story_on_hold(f: Firm):
    """Nordic's second cabinet order is on hold: their new warehouse is not ready."""
    p = f.people
    order = yield from f.sell("NORD", "lucy", "CAB-OAK", "200", "NF-45766", 18, delivery=10, prepay="30",
                              specs="Oak cabinet 900×450×1800 mm, two doors, oiled")
    yield from f.make(order.work_orders[0], [(12, "24", "0"), (10, "22", "1")], materials=13, finish=False)
    yield f.at(8, "11:15")
    orders.simple_transition(order, "hold", p["zhao.min"], "Customer's new warehouse in Jönköping is not ready; "
                                                          "resume on their call.")


def story_cancelled(f: Firm):
    """ACME's housings: the customer's project was cancelled while the order waited for approval."""
    order = yield from f.sell("ACME", "lucy", "HSG-AL6", "5000", "ACME-76655", 26, delivery=-2,
                              until="pending_approval", specs="Die-cast housing, powder coated RAL 7035")
    yield f.at(23, "10:30")
    orders.simple_transition(order, "cancel", f.people["zhao.min"], "客户项目取消（John Miller 邮件确认）")


def story_planned(f: Firm):
    """Released yesterday: a job not started yet, given to Lin Dawei."""
    order = yield from f.sell("HDJM", "wang.fang", "GEAR-45", "1200", "HD-PO-2611-02", 6, delivery=14,
                              specs="模数 2，齿数 45，材料 45#，高频淬火")
    order.work_orders[0].owner_id = f.people["lin.dw"].id


# Incoming inspection plans: material → (name, sampling AQL, items: name, method, lower, upper, unit).
INSPECTION_PLANS = [
    ("40CR-D50", "40Cr 圆钢来料检验", "1.0", [("硬度 Hardness", "布氏硬度计", "200", "250", "HB"),
                                         ("直径 Diameter", "千分尺", "49.8", "50.2", "mm"),
                                         ("材质证明 Mill certificate", "核对炉号", None, None, "")]),
    ("AL6061-T6", "6061 铝板来料检验", "1.0", [("厚度 Thickness", "千分尺", "7.9", "8.1", "mm"),
                                          ("表面 Surface", "目视", None, None, "")]),
]
# What the inspector measures on a good lot of each (in the plan's item order).
INCOMING_READINGS = {"40CR-D50": ("226", "50.02", True), "AL6061-T6": ("8.02", True)}

# Who the demo firm buys each material from (a supplier's name starts with the key).
MATERIAL_SUPPLIER = {"40CR-D50": "江阴兴澄特钢", "STEEL45-D8": "江阴兴澄特钢", "SUS304-1.5": "宝钢不锈",
                     "AL6061-T6": "南山铝业", "SCREW-M3": "苏州紧固件", "OAK-BOARD": "华东木业"}

SUPPLIERS = [
    ("江阴兴澄特钢 Xingcheng Special Steel", "周经理", "0510-8600 1200", 12),
    ("宝钢不锈 Baosteel Stainless", "陈工", "021-2664 7700", 7),
    ("南山铝业 Nanshan Aluminium", "刘女士", "0535-861 6000", 10),
    ("苏州紧固件 Suzhou Fasteners", "王先生", "0512-6523 1188", 3),
    ("华东木业 East China Timber", "赵经理", "0571-8801 6620", 14),
    ("常州热处理厂 Changzhou Heat Treatment", "钱工", "0519-8890 2211", 5),
    ("昆山表面处理 Kunshan Surface Finishing", "孙经理", "0512-5766 3090", 4),
]


def story_purchasing(f: Firm):
    """Purchasing: 40Cr bar ordered twelve days ago, due five days ago, partly received (heat 23A1455,
    incoming inspection passed) and still late, so the gears released since wait for it; screws
    received in full; a plate lot that failed incoming inspection went back to the supplier; the
    line-side store counted with a difference; what the brackets still lack ordered yesterday."""
    p = f.people
    yield f.at(HISTORY_DAYS + 4, "10:00")
    suppliers = {s.name.split()[0]: s for s in db.session.scalars(db.select(Supplier))}
    for code, name, aql, items in INSPECTION_PLANS:
        db.session.add(InspectionPlan(name=name, stage="incoming", material_id=f.materials[code].id, aql=aql,
                                      is_demo=True, items=[
                                          PlanItem(position=i, name=n, method=m, lower=Decimal(lo) if lo else None,
                                                   upper=Decimal(hi) if hi else None, unit=u)
                                          for i, (n, m, lo, hi, u) in enumerate(items, start=1)]))
    db.session.flush()
    yield f.at(12, "10:30")
    steel = purchasing.create_purchase_order(
        suppliers["江阴兴澄特钢"], f.date(-5), [purchasing.LineInput(f.materials["40CR-D50"], Decimal("3"),
                                                                 Decimal("6400"))], p["sun.lei"],
        note="齿轮订单备料，要求附材质证明")
    purchasing.send(steel, p["sun.lei"])
    screws = purchasing.create_purchase_order(
        suppliers["苏州紧固件"], f.date(-9), [purchasing.LineInput(f.materials["SCREW-M3"], Decimal("20"),
                                                               Decimal("12.50"))], p["sun.lei"])
    purchasing.send(screws, p["sun.lei"])
    yield f.at(9, "14:00")
    purchasing.receive(screws.lines[0], Decimal("20"), "盒", f.locations["LINE"], "M3-2611", "SZF-2611-08",
                       p["liu.yang"])
    yield f.at(6, "15:20")
    purchasing.receive(steel.lines[0], Decimal("300"), "kg", f.locations["RAW"], "23A1455", "XC-23A1455",
                       p["liu.yang"])
    f._release_lots(f.materials["40CR-D50"], ("221", "50.04", True))
    yield f.at(4, "09:00")
    plate = purchasing.create_purchase_order(
        suppliers["南山铝业"], f.date(-4), [purchasing.LineInput(f.materials["AL6061-T6"], Decimal("300"),
                                                              Decimal("24.80"))], p["sun.lei"])
    purchasing.send(plate, p["sun.lei"])
    purchasing.receive(plate.lines[0], Decimal("300"), "kg", f.locations["RAW"], "AL-2611-19", "NS-61-2611-19",
                       p["liu.yang"])
    yield f.at(4, "14:30")
    failed = f.inspect(quality.start_incoming(ledger.find_lot(f.materials["AL6061-T6"], "AL-2611-19"), p["zhou.jie"]),
                       ("8.35", False), "fail", "平面度超差，表面划伤 3 处")
    yield f.at(3, "10:00")
    quality.dispose(failed, p["zhou.jie"], Decimal("300"), "return", "整批退回南山铝业，要求 3 天内补货")
    yield f.at(2, "16:00")
    # The monthly count of the line-side store: the screws came out 180 short (dropped, swept up).
    count = stocktakes.start(f.locations["LINE"], p["liu.yang"])
    counts, found = {}, False
    for line in count.lines:
        short = not found and line.lot.material.code == "SCREW-M3" and line.expected > 180
        found = found or short
        counts[line.id] = (line.expected - 180 if short else line.expected, "散落报废 dropped and swept up" if short else "")
    stocktakes.record(count, counts, p["liu.yang"])
    stocktakes.submit(count, p["liu.yang"])
    yield f.at(2, "17:30")
    stocktakes.post(count, p["li.qiang"])
    yield f.at(1, "11:00")
    open_requests = db.session.scalars(db.select(PurchaseRequest).where(
        PurchaseRequest.status == "open", PurchaseRequest.material_id == f.materials["SUS304-1.5"].id)).all()
    if open_requests:
        sheet = purchasing.create_purchase_order(suppliers["宝钢不锈"], f.date(3), (), p["sun.lei"],
                                                 requests=open_requests, prices={f.materials["SUS304-1.5"].id:
                                                                                 Decimal("16500")})
        purchasing.send(sheet, p["sun.lei"])


def story_service_project(f: Firm):
    """A consulting project (服务业) for a new client: three deliverables; the study report accepted on
    the client's phone, the workshop day rejected (the minutes lacked the action list), reworked and
    accepted; the roadmap still open."""
    from .projects import services as projects
    sales, ops = f.people["wang.fang"], f.people["li.qiang"]
    yield f.at(30, "10:00")
    customer = Customer(name="杭州云策管理咨询有限公司", abbreviation="HZYC", contact_name="郑总", contact_phone="13600136004",
                        contact_email="zheng@hzyc.example.cn", address="杭州市西湖区文三路 477 号", locale="zh",
                        currency="CNY", prepayment_pct=Decimal("0"), credit_days=30, is_demo=True, owner_id=sales.id)
    db.session.add(customer)
    db.session.flush()
    titles = [("市场调研报告 Market study report", -18, "38000", ["访谈提纲", "初稿", "终稿"]),
              ("管理层研讨会（一天）Management workshop day", -14, "25000", ["议程确认", "场地预订", "会议纪要"]),
              ("实施路线图 Implementation roadmap", 12, "30000", ["现状评估", "路线图初稿"])]
    order = projects.create_project(customer, sales, delivery_date=f.date(20), customer_po="YC-2611-07",
                                    notes="精益生产咨询：调研、研讨会、路线图",
                                    deliverables=[{"title": t, "due_date": f.date(d), "price": Decimal(p),
                                                   "milestones": [(m, None) for m in ms]} for t, d, p, ms in titles])
    yield f.at(29, "10:00")
    orders.submit(order, sales)
    yield f.at(29, "15:00")
    for department in order.settings.get("reviews", []):
        if department == "finance":
            for category, amount in (("material", "0"), ("labour", "48000"), ("overhead", "9000"),
                                     ("logistics", "3000"), ("aftersales", "1000")):
                setattr(order, f"budget_{category}", Decimal(amount))
        person = {"production": "zhang.wei", "finance": "chen.jing", "warehouse": "liu.yang"}[department]
        orders.review(order, department, "agree", "人员可安排" if department == "production" else "", f.people[person])
    yield f.at(28, "11:00")
    for role in order.required_approvals():
        orders.decide(order, role, "approve", "", f.people["zhao.min" if role == "manager" else "chen.jing"])
    yield f.at(27, "16:00")
    f.sign(order, 21)
    yield f.at(27, "16:30")
    projects.send_acceptance_link(order, sales)
    report, workshop, roadmap = projects.deliverables_of(order.id)
    for day, deliverable, pct, note, milestone in (
            (24, report, 40, "完成 12 场客户访谈", 0), (18, report, 100, "终稿已发送客户", 2),
            (16, workshop, 60, "议程已确认，场地已订", 1), (14, workshop, 100, "研讨会已举行，纪要已发", 2)):
        yield f.at(day, "17:00")
        projects.report_progress(deliverable, pct, note, [], ops,
                                 deliverable.milestones[milestone] if milestone is not None else None)
    link = links.current("project_acceptance", order.id)
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) MicroMessenger/8.0"
    yield f.at(12, "10:20")
    with force_locale("zh"):
        projects.decide(order, link, {report.id: ("accept", "报告质量很好"),
                                      workshop.id: ("reject", "会议纪要缺少行动项清单和负责人")},
                        "郑总", demo_strokes(31), "203.0.113.31", agent)
    yield f.at(10, "16:00")
    projects.hand_over(workshop, ops, "补充了 18 项行动项，每项有负责人和完成日期")
    yield f.at(9, "09:40")
    with force_locale("zh"):
        projects.decide(order, link, {workshop.id: ("accept", "")}, "郑总", demo_strokes(32), "203.0.113.31", agent)
    yield f.at(6, "17:00")
    projects.report_progress(roadmap, 30, "现状评估进行中", [], ops, roadmap.milestones[0])


def story_reviews(f: Firm):
    """Last month's review meeting (复盘) three weeks ago, with four improvement actions against the
    built-in cause codes: one done, one overdue, one in progress, one due in two working days (the
    morning reminder's); and a review of ACME's spur-gear order (rework, air freight) the week before.
    (The demo's cost sheets carry their causes as notes, not cause codes yet: the cause trend shows
    "no data" until finance codes them.)"""
    from .costing import CostCause
    from .costing.models import ensure_builtin_causes
    from .orders import Order
    p = f.people
    ensure_builtin_causes()  # the migration makes them; a database made from the models (tests) has none yet
    causes = {c.key: c for c in db.session.scalars(db.select(CostCause).where(CostCause.key.is_not(None)))}
    held = f.working_day(-15)
    last_month_end = held.replace(day=1) - timedelta(days=1)
    yield f.at(20, "16:30")
    gears = db.session.scalar(db.select(Order).where(Order.customer_po == "ACME-76410"))
    if gears is not None and gears.status == "closed":
        review = reviews.create_review(
            p["chen.jing"], kind="order", order=gears, period=None, period_day=None, held_on=f.working_day(-20),
            findings="1. 40 件齿面粗糙度超差返修，热处理后变形未在首件发现。\n"
                     "2. 第二批一箱在运输中压坏，20 件报废，空运补发 1150 元。\n"
                     "3. 人工超预算 8%，主要是返修工时。",
            attendee_ids=[p[n].id for n in ("chen.jing", "zhao.min", "lucy", "zhang.wei", "zhou.jie", "wu.ting")],
            guests=[])
        action = reviews.add_action(review, p["chen.jing"], title="出口纸箱改五层加强箱并加护角",
                                    description="DHL 线路每箱不超过 25 kg，箱角加护角，外箱标注“重物勿压”。",
                                    owner=p["wu.ting"], due_date=f.working_day(-14), causes=[causes["scrap"]])
        yield f.at(16, "11:00")
        reviews.move(action, "complete", p["wu.ting"], "已与包装供应商确认新箱型，11 月起出口订单全部使用。")
    yield f.at(15, "15:00")
    review = reviews.create_review(
        p["chen.jing"], kind="period", order=None, period="month", period_day=last_month_end, held_on=held,
        findings="1. 不锈钢板、40Cr 圆钢涨价，材料超预算的订单占一半以上。\n"
                 "2. 齿轮返修和报废仍是最大的质量成本，热处理参数靠经验。\n"
                 "3. 加工中心排产过满，月底连续加班赶交期。\n"
                 "4. 两次空运补货未经审批，物流费超预算。",
        attendee_ids=[p[n].id for n in ("chen.jing", "zhao.min", "li.qiang", "zhang.wei", "wang.fang",
                                         "sun.lei", "zhou.jie")],
        guests=["宝钢销售 刘经理"])
    steel = reviews.add_action(review, p["chen.jing"], title="主要钢材改为季度锁价采购",
                               description="不锈钢板、40Cr 圆钢与供应商签季度锁价协议，报价按锁价核算。",
                               owner=p["sun.lei"], due_date=f.working_day(-6), causes=[causes["price_increase"]])
    heat = reviews.add_action(review, p["chen.jing"], title="齿轮热处理参数固化，首件双人检验",
                              description="把淬火、回火温度和时间写入工艺卡；首件由质检和班组长各检一次。",
                              owner=p["zhou.jie"], due_date=f.working_day(-3),
                              causes=[causes["rework"], causes["scrap"]])
    capacity = reviews.add_action(review, p["chen.jing"], title="加工中心排产预留 10% 余量",
                                  description="周计划只排到产能的 90%，急单用预留产能，减少月底加班。",
                                  owner=p["zhang.wei"], due_date=f.working_day(5), causes=[causes["delay_overtime"]])
    reviews.add_action(review, p["chen.jing"], title="空运补货须经理审批",
                       description="超过 1000 元的空运由运营提出、经理批准后再订舱。",
                       owner=p["li.qiang"], due_date=f.working_day(2), causes=[causes["expedited_freight"]])
    yield f.at(12, "10:00")
    reviews.move(steel, "start", p["sun.lei"])
    yield f.at(9, "09:30")
    reviews.move(capacity, "start", p["zhang.wei"])
    yield f.at(7, "16:00")
    reviews.move(steel, "complete", p["sun.lei"], "已与两家钢材供应商签订下季度锁价协议，价格较 10 月低 3%。")
    del heat  # still open, past its date: on the overdue list


def story_retail(f: Firm):
    """Two retail sales (零售业) from stock: a walk-in customer's brackets delivered to her address (signed
    for), and an online order of gears picked up at the store (packed, waiting)."""
    from .retail import services as retail
    sales, warehouse = f.people["wang.fang"], f.people["liu.yang"]
    yield f.at(3, "10:15")
    buyer = retail.walk_in_customer("刘女士", "13512345678", "上海市闵行区莘庄镇莘松路 958 弄 12 号", sales)
    order = retail.create_retail_order(buyer, retail.Sale(items=[(f.products["BRK-200"], Decimal("120"))],
                                                          address=buyer.address, receiver_name="刘女士",
                                                          receiver_phone="13512345678"), sales)
    yield f.at(3, "11:00")
    shipment = retail.ship_from_stock(order, warehouse)
    shipment.carrier, shipment.tracking_no = "顺丰速运 SF Express", "SF1400" + f"{order.id:06d}"
    for sline in shipment.lines:
        shipping.check_line(shipment, sline, sline.batch, warehouse)
    shipping.pack(shipment, warehouse)
    yield f.at(3, "16:00")
    shipping.dispatch(shipment, [], "已取件", courier_link=links.current("courier", shipment.id))
    yield from f.receive(shipment, 2, "11:30")
    yield f.at(1, "20:40")
    online = retail.walk_in_customer("陈强", "13900139000", "", sales, channel="online")
    pickup = retail.create_retail_order(online, retail.Sale(
        items=[(f.products["GEAR-45"], Decimal("4"))], method="pickup", store="上海嘉定门店", channel="online",
        shop_order_no="TB20261126088", receiver_name="陈强", receiver_phone="13900139000"), sales)
    yield f.at(0, "09:30")
    shipment = retail.ship_from_stock(pickup, warehouse)
    for sline in shipment.lines:
        shipping.check_line(shipment, sline, sline.batch, warehouse)
    shipping.pack(shipment, warehouse)


def _days_ago_of(f: Firm, wanted) -> int:
    """The working days before today of the last working day on or before the date wanted."""
    n = 0
    while f.working_day(-n) > wanted:
        n += 1
    return n


def _old_stock_sale(f: Firm, abbr: str, model: str, qty: str, day: int, note: str):
    """A customer's order of stock items by phone, day working days ago: entered, shipped the same
    day, signed for the next; yields the times, returns the order."""
    sales, warehouse = f.people["wang.fang"], f.people["liu.yang"]
    customer = f.customers[abbr]
    from .retail import services as retail
    yield f.at(day + 1, "09:40")
    order = retail.create_retail_order(customer, retail.Sale(
        items=[(f.products[model], Decimal(qty))], address=customer.address, receiver_name=customer.contact_name,
        receiver_phone=customer.contact_phone, note=note), sales)
    # A customer on credit buys from stock on its usual terms (the counter's sales are paid at once).
    order.credit_days, order.credit_basis = customer.credit_days, customer.credit_basis
    yield f.at(day + 1, "14:10")
    shipment = retail.ship_from_stock(order, warehouse)
    shipment.carrier, shipment.tracking_no = "顺丰速运 SF Express", "SF1400" + f"{order.id:06d}"
    for sline in shipment.lines:
        shipping.check_line(shipment, sline, sline.batch, warehouse)
    shipping.pack(shipment, warehouse)
    yield f.at(day + 1, "16:30")
    shipping.dispatch(shipment, [], "已取件", courier_link=links.current("courier", shipment.id))
    yield from f.receive(shipment, day, "10:30")
    return order, shipment


def story_old_receivables(f: Firm):
    """Money owed from before: 苏州恒达 bought spare gears from stock some 140 days ago (net 45
    days) and paid only part, now over 90 days overdue — so 款到发货 holds its shipments; 深圳创新,
    on 月结 60 天, bought boards from stock in a month whose invoice is now 31–60 days overdue,
    also paid in part."""
    p = f.people
    gears_day = _days_ago_of(f, f.today - timedelta(days=140))
    order, shipment = yield from _old_stock_sale(f, "SZHD", "GEAR-45", "120", gears_day, "电话补货：备件齿轮")
    yield f.at(gears_day, "16:20")
    f.invoice(order, shipment)
    yield f.at(gears_day - 30, "10:00")
    orders.record_payment(order, "receipt", Decimal("2000.00"), f.working_day(-(gears_day - 30)),
                          f.bank_reference(order, gears_day - 30), p["chen.jing"])
    f.match(order)
    # 月结 60 天: due 60 days after the end of the invoice's month. A sale in a month whose invoice is
    # now 31–60 days overdue (on a few days of each month no month gives that: 30 or 61 days apart,
    # then the month nearest to it), mid-month so the sale is well inside it.
    candidates = []
    for n in range(45, SETUP_DAYS - 5):
        issued = f.working_day(-n)
        overdue = (f.today - receivables_settlement.due_date(issued, 60, "month_end")).days
        if 8 <= issued.day <= 22 and overdue > 0:
            candidates.append((0 if 31 <= overdue <= 60 else abs(overdue - 45), n))
    day = min(candidates)[1]
    order, shipment = yield from _old_stock_sale(f, "SZCX", "PCB-X1", "60", day, "样机补单：控制板 60 块")
    yield f.at(day, "16:20")
    f.invoice(order, shipment)
    yield f.at(max(day - 40, 1), "10:00")
    orders.record_payment(order, "receipt", Decimal("3000.00"), f.working_day(-max(day - 40, 1)),
                          f.bank_reference(order, max(day - 40, 1)), p["chen.jing"])
    f.match(order)


def stage_two_stories(f: Firm):
    """Orders at every state of stage 2, and requirements at every state of stage 1."""
    p = f.people

    def draft():
        yield from f.sell("HDJM", "wang.fang", "BRK-200", "2400", "HD-PO-2611-07", 2, delivery=25, until="draft",
                          specs="SUS304，厚 3 mm，激光切割后折弯")

    def in_review():
        yield from f.sell("NORD", "lucy", "CAB-OAK", "150", "NF-45821", 3, delivery=35, until="in_review",
                          specs="Oak cabinet 1200×450×900 mm, oiled finish")

    def concern():
        yield from f.sell("ACME", "lucy", "HSG-AL6", "3000", "ACME-77120", 4, delivery=9, priority="urgent",
                          concern="CNC capacity is full for the next two weeks (spindle repair); need 3 more weeks.",
                          specs="6061-T6, anodised black, drawing HSG-AL6 rev C")

    def pending():
        yield from f.sell("SZCX", "wang.fang", "PCB-X1", "1200", "SZCX-2026-130", 5, delivery=22,
                          until="pending_approval", specs="4 层板，沉金")

    def countersign():
        yield from f.sell("HDJM", "wang.fang", "GEAR-45", "1500", "HD-PO-2611-12", 5, delivery=20,
                          until="awaiting_countersign", specs="模数 2，齿数 45，材料 40Cr")

    def prepay_open():
        yield from f.sell("ACME", "lucy", "BRK-200", "5000", "ACME-77098", 7, delivery=18, prepay="50",
                          until="effective_unpaid", specs="SUS304 bracket, electropolished")

    def paid():
        yield from f.sell("BAVM", "lucy", "GEAR-45", "2200", "BM-4500231", 7, delivery=24, until="effective",
                          specs="Module 2, 45 teeth, case hardened")

    def requirements_at_every_state():
        yield f.at(6, "09:30")
        f.requirement("NORD", "lucy", "CAB-OAK", "40", f.date(40), "long_term",
                      "Oak cabinet 1200×450×900 mm, oiled finish, soft-close hinges", ("30000", "36000"))
        yield f.at(8, "10:00")
        lost = f.requirement("BAVM", "lucy", "GEAR-45", "6000", f.date(20), "regular", "Module 3, 30 teeth",
                             ("200000", "240000"))
        yield f.at(8, "10:20")
        requirements.send(lost, p["lucy"])
        yield f.at(6, "16:00")
        requirements.cancel(lost, p["lucy"], "Customer placed the order with their local supplier.")
        yield f.at(4, "11:00")
        clar = f.requirement("HDJM", "wang.fang", "GEAR-45", "3000", f.date(30), "regular",
                             "模数 2，齿数 45，材料 40Cr，调质 HB240-280", ("100000", "120000"))
        yield f.at(4, "11:20")
        requirements.send(clar, p["wang.fang"])
        yield f.at(3, "09:40")
        f.customer_answers(clar, "clarification", "齿面是否需要高频淬火？请确认热处理要求。")
        yield f.at(3, "15:00")
        waiting = f.requirement("ACME", "lucy", "HSG-AL6", "2000", f.date(30), "urgent",
                                "6061-T6, anodised black, CNC machined, drawing HSG-AL6 rev C", ("105000", "125000"))
        yield f.at(3, "15:20")
        requirements.send(waiting, p["lucy"])
        yield f.at(2, "10:10")
        f.customer_answers(waiting)
        yield f.at(1, "14:00")
        sent = f.requirement("SZCX", "wang.fang", "PCB-X1", "5000", f.date(25), "urgent",
                             "4 层板，沉金，含 SMT 贴片；附 BOM", ("550000", "620000"))
        yield f.at(1, "14:30")
        requirements.send(sent, p["wang.fang"])

    return [draft(), in_review(), concern(), pending(), countersign(), prepay_open(), paid(),
            requirements_at_every_state()]


def story_quotations(f: Firm):
    """Quotations (报价) in every state: one accepted that became a draft order with its prices and
    its estimate as the budget, one sent whose validity ends in two days (sales' My work), one
    rejected, one expired, and a draft whose outsourced heat treatment has no price yet (named, so
    it cannot be sent until typed)."""
    p = f.people

    def quote(req_or_customer, rep, model, qty, valid, margin="22", price=None, logistics="0",
              logistics_note="", typed=None):
        requirement = req_or_customer if isinstance(req_or_customer, Requirement) else None
        customer = requirement.customer if requirement is not None else f.customers[req_or_customer]
        q = quotes.new_quote(customer, p[rep], requirement)
        product = f.products[model]
        typed = dict(typed or {})
        if logistics != "0":
            typed["logistics"] = (Decimal(logistics), logistics_note)
        return quotes.save(
            q, {"currency": customer.currency, "tax_rate": Decimal("13"), "valid_until": f.date(valid),
                "target_margin": Decimal(margin), "notes": ""},
            [quotes.LineInput(product.id, Decimal(qty), product.unit, product.name,
                              Decimal(price) if price else None)],
            {c: v for c, (v, _n) in typed.items()}, {c: n for c, (_v, n) in typed.items()}, p[rep])

    def accepted():
        yield f.at(14, "09:30")
        req = f.requirement("HDJM", "wang.fang", "BRK-200", "3000", f.date(30), "regular",
                            "SUS304，厚 1.5 mm，激光切割后折弯，去毛刺", ("60000", "75000"))
        yield f.at(14, "10:00")
        requirements.send(req, p["wang.fang"])
        yield f.at(13, "09:15")
        f.customer_answers(req)
        yield f.at(13, "14:00")
        q = quote(req, "wang.fang", "BRK-200", "3000", -3, margin="24", logistics="600",
                  logistics_note="两托盘，苏州—常州专车")
        yield f.at(13, "16:30")
        quotes.send(q, p["wang.fang"])
        yield f.at(11, "10:40")
        quotes.accept(q, p["wang.fang"], "客户邮件确认，采购单 HD-PO-2611-21 随后发出")

    def sent_expiring():
        yield f.at(6, "11:00")
        q = quote("ACME", "lucy", "HSG-AL6", "1500", 2, margin="28", logistics="1800",
                  logistics_note="DHL to Hamburg, 3 cartons",
                  typed={"labour": (Decimal("6200"), "Routing at piece rates 4,875 + anodising by 昆山表面处理 "
                                                     "at 0.88/pc quoted by phone")})
        yield f.at(6, "15:00")
        quotes.send(q, p["lucy"])

    def rejected():
        yield f.at(20, "10:00")
        q = quote("NORD", "lucy", "BRK-200", "800", -5, margin="30")
        yield f.at(20, "11:30")
        quotes.send(q, p["lucy"])
        yield f.at(17, "09:10")
        quotes.decide(q, "reject", p["lucy"], "Customer found a cheaper supplier (−12 %).")

    def expired():
        yield f.at(40, "10:00")
        q = quote("SZCX", "wang.fang", "PCB-X1", "2000", -30, margin="20")
        yield f.at(40, "15:00")
        quotes.send(q, p["wang.fang"])
        yield f.at(28, "09:00")
        quotes.decide(q, "expire", p["wang.fang"], "客户未答复")

    def draft_missing():
        yield f.at(1, "10:30")
        quote("BAVM", "lucy", "GEAR-45", "1200", 20, margin="25")

    return [accepted(), sent_expiring(), rejected(), expired(), draft_missing()]


# The firm's carriers (name, tracking code, phone) and its own van: the stories ship with them, so each
# carrier's record (on time, damaged) comes from the deliveries the history made.
CARRIERS = [("顺丰速运 SF Express", "SF", "95338"), ("DHL Express", "DHL", "400 810 8000"), ("Schenker", "", "021 6133 1000"),
            ("中通快递", "ZTO", "95311"), ("京东物流", "JD", "950616")]
VEHICLES = [("沪A·D3521", "ma.driver", "", "139 0000 1012"), ("沪B·7R862", None, "外包司机 老周", "137 0000 2233")]


def set_up_carriers(firm: "Firm") -> None:
    """The carriers' list and the own vehicles."""
    from .shipping.models import Carrier, Vehicle
    for name, code, phone in CARRIERS:
        firm.carriers[name] = Carrier(name=name, code=code, phone=phone)
        db.session.add(firm.carriers[name])
    for plate, driver, driver_name, phone in VEHICLES:
        firm.vehicles[plate] = Vehicle(plate=plate, driver_id=firm.people[driver].id if driver else None,
                                       driver_name=driver_name, phone=phone)
        db.session.add(firm.vehicles[plate])
    db.session.flush()


def set_up_stock(firm: "Firm") -> None:
    """Locations, materials (one supplied by a customer), two-level bills of materials, and the
    opening lots in two locations; the products' shelf stock becomes opening lots too."""
    for code, name in LOCATIONS:
        firm.locations[code] = Location(code=code, name=name)
        db.session.add(firm.locations[code])
    for code, name, unit, buy_unit, factor, supplier, inspect in MATERIALS:
        firm.materials[code] = Material(
            code=code, name=name, stock_unit=unit, purchase_unit=buy_unit, purchase_factor=Decimal(factor),
            customer_id=firm.customers[supplier].id if supplier else None, inspect_on_receipt=inspect, is_demo=True)
        db.session.add(firm.materials[code])
    db.session.flush()
    for product in firm.products.values():  # the shelf stock typed before: opening lots in FG
        firm.materials[product.model] = stock_products.material_for_product(
            product, opening_cost=(product.list_price * Decimal("0.55")).quantize(Decimal("0.01")))
    for model in ("PIN-08", "BRK-200", "GEAR-45", "HSG-AL6", "PCB-X1", "CAB-OAK"):  # the sub-assembly first
        boms.save_bom(firm.products[model], [
            boms.BomInput(firm.materials[code].id, Decimal(per), Decimal(scrap)) for code, per, scrap in BOMS[model]],
            firm.people["zhang.wei"], note="首版 BOM")
    for name, contact, phone, lead in SUPPLIERS:
        db.session.add(Supplier(name=name, contact=contact, phone=phone, lead_days=lead, is_demo=True))
    set_up_floor(firm)
    for code, lot, where, quantity, cost in OPENING_STOCK:
        material = firm.materials[code]
        existing = ledger.find_lot(material, lot)
        target = existing or ledger.new_lot(material, lot, status="available")
        ledger.post("opening", target, firm.locations[where], Decimal(quantity), unit_cost=Decimal(cost),
                    reason="期初库存 opening stock", user=firm.people["liu.yang"])
        # The opening stock was bought at this price: purchase orders start from it (not from ¥0).
        material.last_cost = material.last_cost or Decimal(cost)


def set_up_floor(firm: "Firm") -> None:
    """Work centres and the products' routings, with the outsourced steps at their suppliers."""
    centres = {}
    for code, name, hours, shifts, rate in WORK_CENTRES:
        centres[code] = WorkCentre(code=code, name=name, hours_per_day=Decimal(hours), shifts=shifts,
                                   hourly_rate=Decimal(rate))
        db.session.add(centres[code])
    db.session.flush()
    suppliers = {s.name.split()[0]: s for s in db.session.scalars(db.select(Supplier))}
    for model, steps in ROUTINGS.items():
        for position, (name, where, minutes, rate, lead) in enumerate(steps, start=1):
            outsourced = where not in centres
            db.session.add(RoutingStep(
                product_id=firm.products[model].id, position=position, name=name,
                work_centre_id=None if outsourced else centres[where].id, minutes_per_piece=Decimal(minutes),
                piece_rate=Decimal(rate) if rate else None, outsourced=outsourced,
                supplier_id=suppliers[where].id if outsourced else None, lead_days=lead))
    db.session.flush()


def run_stories(stories) -> int:
    """Run the stories' steps in the order of their times, the clock set to each; return how many.
    A step never starts before the previous one ended, so the audit trail is in time order."""
    queue, count, finished = [], 0, None
    for sequence, story in enumerate(stories):
        heapq.heappush(queue, (next(story), sequence, story))
    while queue:
        moment, sequence, story = heapq.heappop(queue)
        if finished is not None and moment <= finished:
            moment = finished + timedelta(milliseconds=1)
        with clock_at(moment):
            try:
                following = next(story)
            except StopIteration:
                following = None
            db.session.flush()  # the column defaults (created_at, at) take this step's time
            finished = utcnow()
        # The next step reads afresh, as the next request would (a service that adds a row by its
        # foreign key, such as a split work order, leaves the parent's loaded list behind).
        db.session.expire_all()
        count += 1
        if following is not None:
            # One story's steps never go back in time (a step on a non-working day moves earlier).
            heapq.heappush(queue, (max(following, moment + timedelta(minutes=3)), sequence, story))
    return count


def demo_statements(firm: "Firm") -> None:
    """Last month's statements (对账单, issue 15): one confirmed by the customer, one disputed with a
    reason and its corrected version sent, one sent and waiting. A customer with no invoice in that
    month gets one for its first order (recorded as finance does; the invoices' own demo may have
    made them already)."""
    from .receivables import settlement, statements
    from .receivables.models import Invoice
    from .orders.models import Order
    finance = firm.people["chen.jing"]
    period = (firm.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first, last = statements.month_days(period)
    chosen = []
    for abbr in ("HDJM", "ACME", "SZCX", "NORD", "SZHD", "BAVM"):
        customer = firm.customers[abbr]
        order = db.session.scalars(db.select(Order).where(
            Order.customer_id == customer.id, Order.status.notin_(("draft", "cancelled")))
            .order_by(Order.id)).first()
        if order is not None:
            chosen.append((customer, order))
        if len(chosen) == 3:
            break
    for index, (customer, order) in enumerate(chosen):
        has_invoice = db.session.scalar(db.select(Invoice.id).join(Order, Order.id == Invoice.order_id).where(
            Order.customer_id == customer.id, Invoice.voided_at.is_(None),
            Invoice.issued_on >= first, Invoice.issued_on <= last).limit(1))
        if has_invoice is None:
            issued = last - timedelta(days=3 + 5 * index)
            amount = order.total
            tax = (amount * order.tax_rate / (Decimal("100") + order.tax_rate)).quantize(Decimal("0.01"))
            db.session.add(Invoice(order_id=order.id, kind="vat_special",
                                   number=f"3200{issued:%y%m}{index + 1:04d}", issued_on=issued,
                                   due_on=settlement.due_date(issued, customer.credit_days, customer.credit_basis),
                                   tax_rate=order.tax_rate, amount=amount, tax_amount=tax, recorded_by_id=finance.id))
            db.session.flush()
    for index, (customer, _order) in enumerate(chosen):
        statement = statements.draft(customer, period, finance)
        statements.send(statement, finance)
        if index == 0:
            statements.answer(statement, "confirm", customer.contact_name or customer.name)
        elif index == 1:
            statements.answer(statement, "dispute", customer.contact_name or customer.name,
                              "上月 20 日的付款未列入，请核对后重发。" if customer.locale == "zh"
                              else "Our payment of the 20th is missing; please check and send it again.")
            corrected = statements.draft(customer, period, finance)
            statements.send(corrected, finance)
        db.session.flush()


def load_demo() -> None:
    """Create the demo firm: people, customers and products, then some sixty working days of
    history up to today, in which orders reach every state of all six stages."""
    from flask import g
    settings = get_settings()
    firm = Firm()
    year = firm.today.year
    calendar.load_defaults(settings.calendar_country, sorted({year - 1, year, year + 1}))
    db.session.flush()
    firm.overrides = {row.day: row.is_working for row in db.session.scalars(db.select(CalendarDay))}
    with clock_at(firm.at(SETUP_DAYS, "09:00")):
        ensure_builtin_causes()  # made by the migration; a database made from the models has none yet
        if not overhead.rules():  # the firm's overhead rule: 60 % by machine hour, 40 % on direct cost
            db.session.add_all([overhead.OverheadRule(basis="machine_hour", rate=Decimal("35"), share=Decimal("60"),
                                                      position=1),
                                overhead.OverheadRule(basis="direct_cost", rate=Decimal("8"), share=Decimal("40"),
                                                      position=2)])
        settings.firm_name = "演示制造有限公司 Demo Manufacturing Co."
        settings.firm_address = "江苏省苏州市工业园区星湖街 328 号 215123"
        settings.firm_phone = "0512-6288 1000"
        settings.demo_loaded = True
        settings.weekly_capacity = Decimal("8000")
        for index, (username, name, roles, number, pin) in enumerate(USERS):
            # A mobile number each (fictitious, 139 0000 xxxx): customers' copies and the courier call them.
            user = User(username=username, name=name, employee_no=number, password_hash="",
                        email=f"{username}@demo.example.cn", phone=f"139 0000 {1001 + index}", is_demo=True)
            user.roles = roles
            user.set_password(DEMO_PASSWORD)
            user.set_pin(pin)
            db.session.add(user)
            firm.people[username] = user
        for index, (username, name, number) in enumerate(FLOOR_CREW, start=len(USERS)):
            user = User(username=username, name=name, employee_no=number, password_hash="",
                        email=f"{username}@demo.example.cn", phone=f"139 0000 {1001 + index}", is_demo=True)
            user.roles = ["worker"]
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            firm.people[username] = user
        for name, abbr, contact, phone, email, address, locale, currency, pre, credit, quality in CUSTOMERS:
            customer = Customer(name=name, abbreviation=abbr, contact_name=contact, contact_phone=phone,
                                contact_email=email, address=address, locale=locale, currency=currency,
                                prepayment_pct=Decimal(pre), credit_days=credit, quality_standard=quality,
                                is_demo=True)
            customer.credit_basis = "month_end" if abbr == "SZCX" else "net"  # 深圳创新: 月结 60 天
            db.session.add(customer)
            firm.customers[abbr] = customer
        for model, name, unit, price, stock in PRODUCTS:
            product = Product(model=model, name=name, unit=unit, list_price=Decimal(price),
                              on_hand=Decimal(stock), is_demo=True, barcode=DEMO_BARCODES.get(model))
            db.session.add(product)
            firm.products[model] = product
        db.session.flush()
        set_up_stock(firm)
        set_up_carriers(firm)
    stories = [story_closed_clean(firm), story_closed_return(firm), story_closed_override(firm),
               story_delivered_to_cost(firm), story_delivered_damaged(firm), story_shipped(firm),
               story_ready_to_ship(firm), story_partial(firm), story_late(firm), story_in_production(firm),
               story_stocking(firm),
               story_on_hold(firm), story_cancelled(firm), story_planned(firm), story_purchasing(firm),
               story_service_project(firm), story_retail(firm), story_reviews(firm), story_old_receivables(firm),
               *stage_two_stories(firm),
               *story_quotations(firm)]
    run_stories(stories)
    demo_statements(firm)
    # 款到发货: from now on a customer with money overdue ships only when paid or released by finance.
    settings.hold_overdue_shipping = True
    for customer in firm.customers.values():  # a customer nobody sold to yet: the first sales rep's
        customer.owner_id = customer.owner_id or firm.people["wang.fang"].id
    example_robot()
    # The history's mail went out when it happened; none of it is sent again now (nor robot posts, texts).
    g.pop("outgoing_mail", None)
    g.pop("notify_after_commit", None)


# The demo's example group robot: switched off, its address a placeholder for the group's real key.
DEMO_ROBOT_NAME = "发货群（企业微信示例）"
DEMO_ROBOT_EVENTS = ("shipment.dispatched", "shipment.arrived", "shipment.attempt_failed", "order.eta_changed",
                     "ticket.opened_by_customer")


def example_robot() -> ChatRobot:
    """A switched-off WeCom robot that would post shipping news into a group (docs/notifications.md:
    paste the group's webhook address, switch it on, send a test message)."""
    robot = db.session.scalar(db.select(ChatRobot).where(ChatRobot.name == DEMO_ROBOT_NAME))
    if robot is None:
        robot = ChatRobot(name=DEMO_ROBOT_NAME, kind="wecom", locale="zh", enabled=False,
                          webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + PLACEHOLDER_KEY)
        db.session.add(robot)
        db.session.flush()
        db.session.add_all(RobotEvent(robot_id=robot.id, event=event) for event in DEMO_ROBOT_EVENTS)
        db.session.flush()
    return robot


# The firm's own configuration stays with it: its people, settings, calendar, cost causes and overhead rule.
KEEP_TABLES = {"user", "device_session", "firm_settings", "calendar_day", "cost_cause", "overhead_rule",
               # who is told of what through which channel, and the group robots
               "chat_robot", "robot_event", "notify_event"}


def remove_demo() -> dict[str, int]:
    """Delete every business record (all tables but people, devices, settings and the calendar),
    their stored files, and the demo logins; keep the settings and real users."""
    from .uploads import delete_stored
    counts = {}
    names = list(db.session.scalars(db.select(Attachment.stored_name)))
    names += db.session.scalars(db.select(ShipmentDocument.stored_name))
    names += db.session.scalars(db.select(Photo.stored_name))
    for name in names:
        delete_stored(name)  # the file and a photo's thumbnail
    for table in reversed(db.metadata.sorted_tables):  # children before parents
        if table.name not in KEEP_TABLES:
            counts[table.name] = db.session.execute(table.delete()).rowcount
    demo_ids = db.select(User.id).where(User.is_demo.is_(True))
    db.session.execute(db.delete(DeviceSession).where(
        db.or_(DeviceSession.user_id.in_(demo_ids), DeviceSession.login_user_id.in_(demo_ids))))
    counts["user"] = db.session.execute(db.delete(User).where(User.is_demo.is_(True))).rowcount
    return {name: count for name, count in counts.items() if count}
