"""Stocktaking (盘点): a count of one location from start to posted differences — the sheet with
expected hidden, a lot added by code or label, submit with every difference explained, approval by
another person, one "count" movement per difference; posting twice (also at once, on SQLite and
PostgreSQL) posts nothing twice; a lot that moved since the count started stops the post by name."""
from decimal import Decimal

import pytest

from webapp.extensions import db
from webapp.stock import Location, Lot, Material, StockBalance, StockMove, Stocktake, ledger
from webapp.stock.ledger import Doc
from webapp.stock.models import StocktakeLine

from .helpers import at_once, text_of


@pytest.fixture
def shelf(app):
    """Location A1 with two lots of steel and one of a customer's film; B2 with another steel lot."""
    with app.app_context(), app.test_request_context():
        a, b = Location(code="A1", name="Main store"), Location(code="B2", name="Staging")
        steel = Material(code="ST-304", name="Steel sheet", stock_unit="kg")
        film = Material(code="FILM-C", name="Film", stock_unit="m")
        db.session.add_all([a, b, steel, film])
        db.session.flush()
        one = ledger.receive(steel, Decimal("100"), a, unit_cost=Decimal("8"), lot_code="H1").lot
        two = ledger.receive(steel, Decimal("40.5"), a, unit_cost=Decimal("8"), lot_code="H2").lot
        roll = ledger.receive(film, Decimal("250"), a, unit_cost=Decimal("1"), lot_code="F1").lot
        far = ledger.receive(steel, Decimal("7"), b, unit_cost=Decimal("8"), lot_code="H3").lot
        db.session.commit()
        return {"a": a.id, "b": b.id, "h1": one.id, "h2": two.id, "f1": roll.id, "h3": far.id,
                "h3_token": far.token, "steel": steel.id}


def lines_of(app, stocktake_id):
    with app.app_context():
        rows = db.session.scalars(db.select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake_id)).all()
        return {db.session.get(Lot, r.lot_id).code: r for r in rows}


def start(app, counter, location_id) -> int:
    response = counter.post("/stock/stocktakes", data={"location_id": str(location_id)})
    assert response.status_code == 303, text_of(response)[:300]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def count_form(app, stocktake_id, counts: dict, submit=False) -> dict:
    """counts: lot code → (counted, reason)."""
    data = {"submit": "1"} if submit else {}
    for code, line in lines_of(app, stocktake_id).items():
        counted, reason = counts.get(code, ("", ""))
        data[f"counted-{line.id}"], data[f"reason-{line.id}"] = counted, reason
    return data


def on_hand(app, lot_id, location_id):
    with app.app_context():
        return db.session.scalar(db.select(StockBalance.on_hand).where(
            StockBalance.lot_id == lot_id, StockBalance.location_id == location_id))


def count_moves(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(StockMove).where(StockMove.kind == "count"))


def test_a_count_from_start_to_posted(app, shelf, as_user):
    """Start snapshots the location's lots (ST-yyyy-0001); expected is hidden until asked; a lot
    found there is added by its label's URL; counts and reasons are saved; submitted; another person
    approves and each difference is one count movement with its reason and the stocktake's number."""
    counter = as_user("warehouse", name="Wang")
    stocktake_id = start(app, counter, shelf["a"])
    with app.app_context():
        number = db.session.get(Stocktake, stocktake_id).number
    assert number.startswith("ST-") and number.endswith("-0001")
    assert set(lines_of(app, stocktake_id)) == {"H1", "H2", "F1"}
    assert lines_of(app, stocktake_id)["H2"].expected == Decimal("40.5")
    sheet = text_of(counter.get(f"/stock/stocktakes/{stocktake_id}"))
    assert "H1" in sheet and "40.5" not in sheet and "Show expected quantities" in sheet
    assert "40.5" in text_of(counter.get(f"/stock/stocktakes/{stocktake_id}?expected=1"))
    printed = text_of(counter.get(f"/stock/stocktakes/{stocktake_id}/print"))
    assert "Count sheet" in printed and "H2" in printed and "40.5" not in printed
    added = counter.post(f"/stock/stocktakes/{stocktake_id}/add",
                         data={"add-code": f"https://tracker.example.com/stock/l/{shelf['h3_token']}"})
    assert added.status_code == 303
    assert lines_of(app, stocktake_id)["H3"].expected == Decimal("0")  # its 7 kg are in B2
    assert counter.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, {
        "H1": ("100", ""), "H2": ("38", "two sheets damaged, scrapped"), "F1": ("250", ""),
        "H3": ("7", "found on the wrong shelf")})).status_code == 303
    assert lines_of(app, stocktake_id)["H2"].counted == Decimal("38")
    response = counter.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, {
        "H1": ("100", ""), "H2": ("38", "two sheets damaged, scrapped"), "F1": ("250", ""),
        "H3": ("7", "found on the wrong shelf")}, submit=True))
    assert response.status_code == 303
    assert counter.post(f"/stock/stocktakes/{stocktake_id}/post").status_code == 403  # the counter's role
    approver = as_user("manager", name="Boss")
    page = text_of(approver.get(f"/stock/stocktakes/{stocktake_id}"))
    assert "-2.5" in page and "Approve and post" in page
    assert approver.post(f"/stock/stocktakes/{stocktake_id}/post").status_code == 303
    assert on_hand(app, shelf["h2"], shelf["a"]) == Decimal("38")
    assert on_hand(app, shelf["h3"], shelf["a"]) == Decimal("7")
    with app.app_context():
        moves = db.session.scalars(db.select(StockMove).where(StockMove.kind == "count").order_by(StockMove.id)).all()
        assert sorted((m.quantity, m.reason) for m in moves) == [
            (Decimal("-2.5"), "two sheets damaged, scrapped"), (Decimal("7"), "found on the wrong shelf")]
        assert {m.doc_ref for m in moves} == {number} and {m.doc_type for m in moves} == {"stocktake"}
        stocktake = db.session.get(Stocktake, stocktake_id)
        assert stocktake.status == "posted" and stocktake.approved_by_id == approver.user_id
        for material_id in (shelf["steel"],):
            assert ledger.ledger_total(material_id) == ledger.on_hand(material_id)
    assert "Posted" in text_of(approver.get(f"/stock/stocktakes/{stocktake_id}"))


def test_bad_counts_and_missing_reasons(app, shelf, as_user):
    """Text or a negative count: 422, nothing saved, what was typed kept; submitting with a lot not
    counted or a difference without a reason keeps the counts and marks the rows (409); a lot code
    that does not exist or a bad label: 422."""
    counter = as_user("warehouse")
    stocktake_id = start(app, counter, shelf["a"])
    bad = counter.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, {
        "H1": ("abc", ""), "H2": ("-1", ""), "F1": ("250", "")}))
    assert bad.status_code == 422
    page = text_of(bad)
    assert 'value="abc"' in page and 'value="-1"' in page and "nothing was saved" in page
    assert lines_of(app, stocktake_id)["F1"].counted is None
    missing = counter.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, {
        "H1": ("99", ""), "F1": ("250", "")}, submit=True))
    assert missing.status_code == 409
    assert "Not counted yet." in text_of(missing) and "Give the reason for the difference." in text_of(missing)
    assert lines_of(app, stocktake_id)["H1"].counted == Decimal("99")  # kept
    with app.app_context():
        assert db.session.get(Stocktake, stocktake_id).status == "counting"
    for code, message in (("NOPE", "No lot has this code."),
                          ("https://tracker.example.com/stock/l/forged", "No lot has this label."), ("", "required")):
        response = counter.post(f"/stock/stocktakes/{stocktake_id}/add", data={"add-code": code})
        assert response.status_code == 422 and message in text_of(response)


def submitted(app, shelf, as_user, counts=None) -> int:
    """A count of A1 submitted by a warehouse person, with H2 short by 0.5."""
    counter = as_user("warehouse")
    stocktake_id = start(app, counter, shelf["a"])
    counts = counts or {"H1": ("100", ""), "H2": ("40", "short"), "F1": ("250", "")}
    response = counter.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, counts, submit=True))
    assert response.status_code == 303
    return stocktake_id


def test_posting_twice_posts_nothing_twice(app, shelf, as_user):
    """The second post is refused (409, translated), the counts are not changed again; counting after
    submit is refused too."""
    stocktake_id = submitted(app, shelf, as_user)
    approver = as_user("operations")
    assert approver.post(f"/stock/stocktakes/{stocktake_id}/post").status_code == 303
    again = approver.post(f"/stock/stocktakes/{stocktake_id}/post")
    assert again.status_code == 409 and "already posted" in text_of(again)
    assert count_moves(app) == 1 and on_hand(app, shelf["h2"], shelf["a"]) == Decimal("40")
    zh = as_user("finance", locale="zh")
    assert "already posted" not in text_of(zh.post(f"/stock/stocktakes/{stocktake_id}/post"))
    late = as_user("warehouse").post(f"/stock/stocktakes/{stocktake_id}", data={})
    assert late.status_code == 409


def test_the_counter_cannot_approve_their_own_count(app, shelf, make_user, as_user):
    """A person with both roles who counted may not approve."""
    both = as_user("warehouse", "manager")
    stocktake_id = start(app, both, shelf["a"])
    both.post(f"/stock/stocktakes/{stocktake_id}", data=count_form(app, stocktake_id, {
        "H1": ("100", ""), "H2": ("40.5", ""), "F1": ("250", "")}, submit=True))
    refused = both.post(f"/stock/stocktakes/{stocktake_id}/post")
    assert refused.status_code == 409 and "other than the counter" in text_of(refused)
    assert as_user("manager").post(f"/stock/stocktakes/{stocktake_id}/post").status_code == 303
    assert count_moves(app) == 0  # no differences: nothing to correct


def test_a_lot_that_moved_since_the_count_started_stops_the_post(app, shelf, as_user):
    """Something was issued from H1 after the count started: the post is refused naming H1, nothing
    is posted; sent back, H1 takes the new expected and must be counted again."""
    stocktake_id = submitted(app, shelf, as_user)
    with app.app_context(), app.test_request_context():
        ledger.post("scrap", db.session.get(Lot, shelf["h1"]), db.session.get(Location, shelf["a"]), Decimal("3"),
                    reason="meanwhile")
        db.session.commit()
    approver = as_user("manager")
    refused = approver.post(f"/stock/stocktakes/{stocktake_id}/post")
    assert refused.status_code == 409
    assert "Lot H1 of ST-304 changed since the count started (now 97, expected 100)" in text_of(refused)
    assert count_moves(app) == 0 and on_hand(app, shelf["h2"], shelf["a"]) == Decimal("40.5")
    assert approver.post(f"/stock/stocktakes/{stocktake_id}/reopen").status_code == 303
    lines = lines_of(app, stocktake_id)
    assert lines["H1"].expected == Decimal("97") and lines["H1"].counted is None
    assert lines["H2"].counted == Decimal("40")


def test_work_item_for_approvers(app, shelf, as_user):
    """A submitted count is on the approvers' My work, not on the counter's."""
    stocktake_id = submitted(app, shelf, as_user)
    with app.app_context():
        number = db.session.get(Stocktake, stocktake_id).number
    assert number in text_of(as_user("manager").get("/"))
    assert number not in text_of(as_user("warehouse").get("/"))


def test_starting_needs_a_location_and_the_role(app, shelf, as_user):
    """No such location: 422; a manager may not start a count (the warehouse counts)."""
    response = as_user("warehouse").post("/stock/stocktakes", data={"location_id": "99999"})
    assert response.status_code == 422
    assert as_user("manager").post("/stock/stocktakes", data={"location_id": str(shelf["a"])}).status_code == 403


@pytest.mark.parametrize("app", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
], indirect=True)
def test_two_posts_at_once_post_once(app, shelf, as_user, make_user):
    """Two approvers press post at the same moment: one posts, the other gets 409; one movement."""
    stocktake_id = submitted(app, shelf, as_user)
    for name in ("ops1", "ops2"):
        make_user("operations", username=name)
    path = f"/stock/stocktakes/{stocktake_id}/post"
    statuses = at_once(app, ["ops1", "ops2"], [(path, {}), (path, {})])
    assert sorted(statuses) == [303, 409]
    assert count_moves(app) == 1 and on_hand(app, shelf["h2"], shelf["a"]) == Decimal("40")


def test_two_tablets_counting_one_sheet_keep_each_others_rows(app, shelf, as_user):
    """Two tablets open the same empty sheet; one counts H1, the other F1 and saves later: H1 keeps the
    first tablet's count (the second did not touch that row), F1 has the second's. A row the second
    tablet did change (H2, typed over) takes its value."""
    import re
    first, second = as_user("warehouse", name="A"), as_user("warehouse", name="B")
    stocktake_id = start(app, first, shelf["a"])

    def sheet_form(client, counts):
        """What the tablet's open sheet posts: its hidden 'was' values as loaded, and the rows typed now."""
        page = text_of(client.get(f"/stock/stocktakes/{stocktake_id}"))
        data = dict(re.findall(r'name="((?:was|wasr|counted|reason)-\d+)"[^>]*value="([^"]*)"', page))
        for code, (counted, reason) in counts.items():
            line = lines_of(app, stocktake_id)[code]
            data[f"counted-{line.id}"], data[f"reason-{line.id}"] = counted, reason
        return data

    later = sheet_form(second, {})  # the second tablet opens the sheet first, counts slowly
    assert first.post(f"/stock/stocktakes/{stocktake_id}",
                      data=sheet_form(first, {"H1": ("100", ""), "H2": ("40", "short")})).status_code == 303
    for code, counted in {"F1": "249", "H2": "40.5"}.items():
        line = lines_of(app, stocktake_id)[code]
        later[f"counted-{line.id}"] = counted
    assert second.post(f"/stock/stocktakes/{stocktake_id}", data=later).status_code == 303
    rows = lines_of(app, stocktake_id)
    assert rows["H1"].counted == Decimal("100")  # not blanked by the second tablet
    assert rows["F1"].counted == Decimal("249") and rows["H2"].counted == Decimal("40.5")
