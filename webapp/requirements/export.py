"""The requirement record (客户需求记录表, 表1) as a spreadsheet: one record as the label/value sheet a
manager prints, or the records of a period one row each, headers in the reader's language."""
from datetime import date, datetime

from flask_babel import get_locale

from .. import spreadsheets
from ..firm import get_settings
from ..i18n import firm_zone
from ..labels import label, state_label
from .models import Requirement

# The template's fields in its own words, and English ones for English readers. The budget pair is
# left out for readers who may not see prices (the record page hides it from them too).
FIELDS = (
    ("customer", "客户名称", "Customer"), ("contact_name", "联系人", "Contact person"),
    ("contact_phone", "联系电话", "Contact phone"), ("product", "产品/服务", "Product or service"),
    ("customer_part_no", "客户料号", "Customer part no."), ("drawing_rev", "图纸版本", "Drawing rev."),
    ("specs", "规格参数", "Specifications"), ("quality_standard", "质量标准", "Quality standard"),
    ("quantity", "数量", "Quantity"), ("unit", "单位", "Unit"),
    ("expected_date", "期望交付日期", "Expected delivery date"),
    ("budget_min", "预算范围（下限）", "Budget from"), ("budget_max", "预算范围（上限）", "Budget to"),
    ("currency", "币种", "Currency"),
    ("special_requirements", "特殊要求", "Special requirements"), ("priority", "优先级", "Priority"),
    ("status", "状态", "Status"),
)
PRICE_FIELDS = frozenset({"budget_min", "budget_max", "currency"})
MONEY_FIELDS = frozenset({"budget_min", "budget_max"})
# What the period's one row per record adds around the fields.
PERIOD_BEFORE = (("number", "记录编号", "Record no."), ("created", "登记日期", "Recorded on"),
                 ("sales_rep", "销售员", "Sales rep"))
PERIOD_AFTER = (("rounds", "确认轮次", "Rounds"), ("answer", "客户答复", "Customer's answer"),
                ("answered", "答复时间", "Answered at"), ("confirmed", "确认时间", "Confirmed at"))
TITLE = ("客户需求记录表", "Customer requirement record")


def chinese() -> bool:
    """Whether the reader reads Chinese (the headers and the sheet's own words follow)."""
    locale = get_locale()
    return bool(locale) and locale.language == "zh"


def words(zh: str, en: str) -> str:
    """The sheet's own words in the reader's language."""
    return zh if chinese() else en


def _local(moment: datetime | None) -> datetime | None:
    """A stored UTC time as the firm's local time (a spreadsheet has no time zones)."""
    return None if moment is None else moment.astimezone(firm_zone()).replace(microsecond=0)


def _fields(show_prices: bool) -> list[tuple[str, str, str]]:
    """The record's fields this reader sees (the budget only for who may see prices)."""
    return [f for f in FIELDS if show_prices or f[0] not in PRICE_FIELDS]


def _value(requirement: Requirement, key: str):
    """One field's value as the sheet stores it: numbers as Decimals, dates as dates, keys as labels."""
    if key == "customer":
        return requirement.customer.name
    if key == "priority":
        return label(requirement.priority, "priority")
    if key == "status":
        return state_label(requirement.status, "requirement")
    return getattr(requirement, key)


def _answer(round_) -> str:
    """The customer's answer to a round, in words: confirmed or a clarification (with its comment)."""
    if round_.response is None:
        return words("尚无答复", "No answer yet")
    status = state_label(round_.response, "requirement")
    who = round_.responder_name or ""
    text = f"{status}（{who}）" if chinese() and who else f"{status} ({who})" if who else status
    if round_.comment:
        text += ("：" if chinese() else ": ") + round_.comment
    return text


def _record_number(requirement: Requirement) -> str:
    """How the pages name a record (it has no number of its own)."""
    return f"#{requirement.id}"


def title_rows(subtitle: str, empty: bool = False) -> list[str]:
    """The lines above the table: the firm's name and the form's title, then what it covers."""
    firm = get_settings().firm_name or ""
    rows = [f"{firm} {words(*TITLE)}".strip(), subtitle]
    if empty:
        rows.append(words("（本期间没有记录）", "(No records in this period.)"))
    return rows


def record_sheet(requirement: Requirement, show_prices: bool) -> tuple[list[str], list[list], dict, list[str]]:
    """One record as label/value rows (the paper form), then its rounds with the customer: headers,
    rows, per-cell number formats and the title lines."""
    headers = [words("项目", "Item"), words("内容", "Details"), words("时间", "Date")]
    rows, formats = [], {}
    for key, zh, en in _fields(show_prices):
        value = _value(requirement, key)
        if key in MONEY_FIELDS and value is not None:
            formats[(len(rows), 1)] = spreadsheets.MONEY_FORMAT
        rows.append([words(zh, en), value, None])
    rows.append([words("销售员", "Sales rep"), requirement.sales_rep.name, None])
    rows.append([words("登记时间", "Recorded at"), None, _local(requirement.created_at)])
    for round_ in requirement.rounds:
        n = round_.number
        rows.append([words(f"第 {n} 轮 发送", f"Round {n} sent"), round_.sent_by.name, _local(round_.sent_at)])
        rows.append([words(f"第 {n} 轮 客户答复", f"Round {n} answer"), _answer(round_), _local(round_.responded_at)])
    if not requirement.rounds:
        rows.append([words("确认轮次", "Rounds"), words("尚未发送给客户", "Not sent to the customer yet"), None])
    subtitle = words(f"记录 {_record_number(requirement)} · {requirement.customer.name}",
                     f"Record {_record_number(requirement)} · {requirement.customer.name}")
    return headers, rows, formats, title_rows(subtitle)


def period_headers(show_prices: bool) -> list[str]:
    """The period table's headers: one column per field, with the record's number, date and rounds."""
    return [words(zh, en) for _key, zh, en in (*PERIOD_BEFORE, *_fields(show_prices), *PERIOD_AFTER)]


def period_row(requirement: Requirement, show_prices: bool) -> list:
    """One record of a period as one row in the period headers' columns."""
    last = requirement.current_round
    return [_record_number(requirement), _local(requirement.created_at).date(), requirement.sales_rep.name,
            *[_value(requirement, key) for key, _zh, _en in _fields(show_prices)],
            len(requirement.rounds), _answer(last) if last else None,
            _local(last.responded_at) if last else None, _local(requirement.confirmed_at)]


def period_formats(show_prices: bool) -> dict[int, str]:
    """The period table's money columns."""
    keys = [key for key, _zh, _en in (*PERIOD_BEFORE, *_fields(show_prices), *PERIOD_AFTER)]
    return {index: spreadsheets.MONEY_FORMAT for index, key in enumerate(keys) if key in MONEY_FIELDS}


def period_subtitle(first: date, last: date) -> str:
    """What a period's file covers, in words."""
    return words(f"登记日期 {first.isoformat()} 至 {last.isoformat()}", f"Recorded {first.isoformat()} to {last.isoformat()}")


def file_name(*parts: str, extension: str) -> str:
    """The download's name: the form's title and what it covers (Chinese for Chinese readers)."""
    return "-".join([words("客户需求记录表", "Requirement record"), *parts]) + "." + extension

