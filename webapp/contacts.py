"""Who to call and where to go: an order's contact, phone links and map links (issue 9, "call with one tap")."""
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

_NOT_DIALLED = re.compile(r"[^+0-9]")


def tel_href(phone: str | None) -> str:
    """A `tel:` URL for a phone number as typed ("+86 138-0013-8000", "０２１ 6688"): only + and the
    digits are kept (NFKC first, so full-width digits count); "" when no digit is left."""
    dialled = _NOT_DIALLED.sub("", unicodedata.normalize("NFKC", phone or ""))
    return f"tel:{dialled}" if any(ch.isdigit() for ch in dialled) else ""


def map_links(address: str | None) -> dict[str, str]:
    """Links that open an address in the phone's map app: `geo:` (Android hands it to the default
    map app, Amap or Baidu included) and Apple Maps (iPhone; `geo:` does nothing there). {} if no address."""
    one_line = " ".join((address or "").split())
    if not one_line:
        return {}
    query = quote(one_line, safe="")
    return {"geo": f"geo:0,0?q={query}", "apple": f"https://maps.apple.com/?q={query}"}


@dataclass(frozen=True)
class Contact:
    """A person to call about an order, and where the goods go."""

    name: str
    phone: str
    address: str

    @property
    def tel(self) -> str:
        """The phone as a `tel:` URL ("" without a number)."""
        return tel_href(self.phone)

    @property
    def maps(self) -> dict[str, str]:
        """The address as map links."""
        return map_links(self.address)


def order_contact(order) -> Contact:
    """The customer's contact for an order: the person named on its requirement when that record has
    a phone (the one who asked for the goods), else the customer's contact; the address is the
    order's delivery place, else the customer's address."""
    requirement = order.requirement
    customer = order.customer
    if requirement is not None and tel_href(requirement.contact_phone):
        name, phone = requirement.contact_name or customer.contact_name, requirement.contact_phone
    else:
        name, phone = customer.contact_name, customer.contact_phone
    return Contact(name=name or "", phone=phone or "", address=order.delivery_place or customer.address or "")
