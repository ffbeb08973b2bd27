"""`make bench`'s own parts that need no server: wrk's output parsed, and docs/benchmarks.md written
with each budget judged from the figures (the benchmark itself stays out of CI)."""
import pytest

from tools.bench import report, wrk

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8250/scan
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.31ms    4.02ms  61.20ms   80.12%
    Req/Sec   325.11     40.12   410.00     70.00%
  Latency Distribution
     50%   11.50ms
     75%   13.90ms
     90%   16.80ms
     99%    1.02s
  3251 requests in 5.01s, 9.87MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:    648.90
Transfer/sec:      1.97MB
"""


def test_wrk_output_is_read_in_milliseconds_with_errors_counted():
    """Percentiles in us/ms/s become milliseconds; non-2xx answers and socket errors are errors."""
    figures = wrk.parse(WRK_OUTPUT)
    assert figures == {"p50": 11.5, "p99": 1020.0, "rps": 648.9, "requests": 3251, "errors": 7}
    assert wrk.parse(WRK_OUTPUT.replace("11.50ms", "850.00us"))["p50"] == pytest.approx(0.85)


def test_wrk_output_without_its_distribution_is_refused():
    """A run that failed (no latency lines) is an error, never a row of zeros."""
    with pytest.raises(ValueError):
        wrk.parse("unable to connect to 127.0.0.1:8250 Connection refused\n")


def timed(page_p50: float, bare_p50: float, kind: str = "phone", statements: int = 5) -> dict:
    return {"kind": kind, "path": "/x", "statements": statements,
            "page": {"p50": page_p50, "p99": page_p50 * 3, "rps": 100.0, "requests": 500, "errors": 0},
            "bare": {"p50": bare_p50, "p99": bare_p50 * 3, "rps": 400.0, "requests": 2000, "errors": 0}}


def results() -> dict:
    demo = {"database": "sqlite", "size": "demo", "generated_seconds": 30,
            "pages": {"scan landing": timed(12, 10), "+1 progress post": timed(30, 10, "post"),
                      "board": timed(25, 10, "office"), "order page": timed(20, 10, "office")},
            "first_visit": {"scan landing": {"status": 200, "html": 3000, "css": 12000, "js": 9000},
                            "worker page": {"status": 200, "html": 3000, "css": 10000, "js": 60000}},
            "lighthouse": {"scan landing": {"performance": 99, "accessibility": 100}},
            "replay": {"actions": 500, "applied": 500, "seconds": 8.0, "statuses": {"201": 500}}}
    large = {"database": "sqlite", "size": 100000, "generated_seconds": 400,
             "pages": {"scan landing": timed(12, 10), "+1 progress post": timed(18, 10, "post"),
                       "board": timed(50, 10, "office"), "order page": timed(21, 10, "office")},
             "first_visit": {}, "lighthouse": {},
             "replay": {"actions": 500, "applied": 500, "seconds": 16.5, "statuses": {"201": 500}}}
    machine = {"date": "2026-11-30 04:00 UTC", "cpu": "Test CPU", "cores": 2, "memory_mb": 4096,
               "python": "3.11", "sqlite": "3.40", "commit": "abc1234", "wrk": True}
    return {"machine": machine, "seconds": 5, "connections": 8,
            "runs": [demo, large, {"database": "postgres", "size": 100000, "skipped": "no `flask bench-data`"}]}


def test_budgets_judged_from_the_figures():
    """Each budget holds or misses by its own limit, naming the page, database and size that miss."""
    judged = {item["budget"]: item for item in report.budgets(results())}
    phone = judged["Phone pages ≤ 1.5× the bare page (with session)"]
    assert phone["holds"] is True
    post = judged["“+1” post ≤ 2× a bare post writing the same rows"]
    assert post["holds"] is False and post["misses"] == ["+1 progress post (sqlite, demo): 3.0×"]
    office = judged["Office pages ≤ 3× the bare page"]
    assert office["holds"] is False and office["misses"] == ["board (sqlite, 100,000 orders): 5.0×"]
    growth = judged["Large ÷ demo ≤ 1.2 for every page"]
    assert growth["misses"] == ["board (sqlite, 100,000 orders): 2.00×"]
    first_visit = judged["Phone pages ≤ 60 KB on first visit (HTML+CSS+JS, compressed)"]
    assert first_visit["misses"] == ["worker page (sqlite): 71.3 KB"]
    assert judged["Scan landing page ≤ 14 KB of HTML+CSS"]["misses"] == ["scan landing (sqlite): 14.6 KB"]
    assert judged["Lighthouse mobile: performance ≥ 95, accessibility 100"]["holds"] is True
    replay = judged["500 queued actions replay in ≤ 15 s against the large database"]
    assert replay["misses"] == ["sqlite, 100,000 orders: 500/500 applied in 16.5 s"]


def test_nothing_measured_is_said_so_not_passed():
    """A run with no large size and no Lighthouse leaves those budgets "not measured"."""
    only_demo = results()
    only_demo["runs"] = only_demo["runs"][:1]
    only_demo["runs"][0]["lighthouse"] = {"skipped": "npm/lighthouse unavailable"}
    judged = {item["budget"]: item["holds"] for item in report.budgets(only_demo)}
    assert judged["Large ÷ demo ≤ 1.2 for every page"] is None
    assert judged["Lighthouse mobile: performance ≥ 95, accessibility 100"] is None
    assert judged["500 queued actions replay in ≤ 15 s against the large database"] is None


def test_the_document_has_the_machine_the_tables_and_the_skipped_runs():
    """docs/benchmarks.md: machine and date, a row per page with its ratios, the first-visit bytes,
    Lighthouse, the replay, and a run that could not happen named with its reason."""
    text = report.write(results())
    assert "Test CPU, 2 cores; memory 4096 MB" in text and "2026-11-30 04:00 UTC" in text
    assert "| board | office | 25.0 | 75.0 | 100 | 10.0 | 2.50 | 5 |" in text
    assert "| board | office | 50.0 | 150.0 | 100 | 10.0 | 5.00 ✗ | 5 | 2.00 | 2.00 ✗ |" in text
    assert "| worker page | 3,000 | 10,000 | 60,000 | 73,000 | **no** |" in text
    assert "| scan landing | 99 | 100 |" in text
    assert "500 of 500 queued “+1” reports applied in 16.5 s" in text
    assert "## postgres, 100,000 orders\n\nNot run: no `flask bench-data`." in text
    assert "| Office pages ≤ 3× the bare page | **no** | board (sqlite, 100,000 orders): 5.0× |" in text


def test_turns_of_one_target_combine_into_one_figure():
    """Page and baseline run in turns; each side's turns become one row: median percentiles, summed
    requests and errors, mean requests/s."""
    turns = [{"p50": 10.0, "p99": 40.0, "rps": 100.0, "requests": 250, "errors": 0},
             {"p50": 14.0, "p99": 60.0, "rps": 80.0, "requests": 200, "errors": 2}]
    assert wrk.combine(turns) == {"p50": 12.0, "p99": 50.0, "rps": 90.0, "requests": 450, "errors": 2}
    assert wrk.combine(turns[:1]) == turns[0]


def test_a_baseline_that_failed_gives_no_ratio_and_is_named():
    """A load whose answers were mostly errors is timed errors: no ratio, and the budget names it."""
    figures = results()
    figures["runs"][0]["pages"]["+1 progress post"]["bare"].update(errors=1900, p50=0.5)
    judged = {item["budget"]: item for item in report.budgets(figures)}
    post = judged["“+1” post ≤ 2× a bare post writing the same rows"]
    assert post["misses"] == ["+1 progress post (sqlite, demo): baseline failed (1900 errors)"]
    assert "| +1 progress post | post | 30.0 | 90.0 | 100 | 0.5 | – | 5 | baseline failed (1900 errors)" in report.write(figures)
