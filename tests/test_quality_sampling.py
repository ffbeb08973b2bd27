"""ISO 2859-1 sample sizes (general inspection level II, single sampling, normal inspection), checked
by hand against Table 1 and Table 2-A, arrows included; fixed counts, every piece, and bad input."""
from types import SimpleNamespace

import pytest

from webapp.quality.sampling import SamplingError, code_letter, plan_sample, sample_for


def plan(sampling="iso2859", aql="1.0", fixed_count=5):
    return SimpleNamespace(sampling=sampling, aql=aql, fixed_count=fixed_count)


@pytest.mark.parametrize("lot, letter", [
    (2, "A"), (8, "A"), (9, "B"), (15, "B"), (16, "C"), (25, "C"), (26, "D"), (50, "D"), (51, "E"), (90, "E"),
    (91, "F"), (150, "F"), (151, "G"), (280, "G"), (281, "H"), (500, "H"), (501, "J"), (1200, "J"),
    (1201, "K"), (3200, "K"), (3201, "L"), (10000, "L"), (10001, "M"), (35000, "M"), (35001, "N"),
    (150000, "N"), (150001, "P"), (500000, "P"), (500001, "Q"), (5_000_000, "Q")])
def test_code_letters_at_level_two(lot, letter):
    assert code_letter(lot) == letter


@pytest.mark.parametrize("lot, aql, expected", [
    (500, "1.0", (50, 1, 2)),      # H, AQL 1.0: Ac 1 Re 2
    (500, "2.5", (50, 3, 4)),      # H, 2.5
    (500, "6.5", (50, 7, 8)),      # H, 6.5
    (500, "0.65", (80, 1, 2)),     # H at 0.65 is ↓: J's plan, n=80
    (1000, "1.0", (80, 2, 3)),     # J
    (2000, "4.0", (125, 10, 11)),  # K
    (5000, "1.0", (200, 5, 6)),    # L
    (5000, "6.5", (200, 21, 22)),  # L, 6.5
    (20000, "6.5", (200, 21, 22)),  # M at 6.5 is ↑: L's plan, n=200
    (600000, "2.5", (500, 21, 22)),  # Q at 2.5 is ↑↑: N's plan
    (200, "1.5", (32, 1, 2)),      # G
    (200, "0.65", (20, 0, 1)),     # G at 0.65 is ↑: F's plan, n=20
    (200, "1.0", (50, 1, 2)),      # G at 1.0 is ↓: H's plan, n=50
    (100, "1.0", (13, 0, 1)),      # F at 1.0 is ↑: E's plan, n=13
    (60, "2.5", (20, 1, 2)),       # E at 2.5 is ↓: F's plan
    (1000, "1", (80, 2, 3)),       # "1" is AQL 1.0
])
def test_table_2a_with_arrows(lot, aql, expected):
    assert plan_sample(plan(aql=aql), lot) == expected


def test_a_sample_that_reaches_the_lot_inspects_every_piece():
    found = sample_for(plan(aql="0.65"), 10)  # B at 0.65: ↓ to F, n=20 ≥ 10
    assert (found.size, found.accept, found.reject, found.whole_lot) == (10, 0, 1, True)
    assert (found.letter, found.used_letter) == ("B", "F")
    assert plan_sample(plan(aql="1.0"), 1) == (1, 0, 1)


def test_fixed_all_and_no_plan():
    assert plan_sample(plan("fixed", fixed_count=5), 500) == (5, 0, 1)
    assert plan_sample(plan("fixed", fixed_count=50), 20) == (20, 0, 1)  # capped at the lot
    assert plan_sample(plan("all"), "2,000".replace(",", "")) == (2000, 0, 1)
    assert plan_sample(None, 300) == (1, 0, 1)
    assert plan_sample(plan(), "12.5") == (13, 0, 1)  # 13 pieces (a part piece counts): B, 1.0 ↓ to E, n 13 ≥ 13


@pytest.mark.parametrize("lot", [0, -5, "abc", "NaN", "Infinity", 10**12, "1e30"])
def test_absurd_lot_sizes_are_refused(lot):
    with pytest.raises(SamplingError):
        plan_sample(plan(), lot)


@pytest.mark.parametrize("bad", [plan(aql="0.7"), plan(aql="x"), plan("fixed", fixed_count=0),
                                 plan("fixed", fixed_count=10**12), plan("weird")])
def test_bad_plans_are_refused(bad):
    with pytest.raises(SamplingError):
        plan_sample(bad, 100)
