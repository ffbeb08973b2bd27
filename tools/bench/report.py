"""docs/benchmarks.md from a bench run's results (tools/bench/run.py), with the budgets of DESIGN §6
and issue 17 judged: each one holds, misses (with the pages that miss it), or was not measured."""
from pathlib import Path

NOTES = Path(__file__).resolve().parent / "notes.md"

PHONE_RATIO, POST_RATIO, OFFICE_RATIO, GROWTH = 1.5, 2.0, 3.0, 1.2
PHONE_BYTES, SCAN_HTML_CSS = 60 * 1024, 14 * 1024
LIGHTHOUSE_PERFORMANCE, LIGHTHOUSE_ACCESSIBILITY = 95, 100
REPLAY_SECONDS = 15
RATIO_LIMIT = {"phone": PHONE_RATIO, "post": POST_RATIO, "office": OFFICE_RATIO}


def failed(figures: dict) -> bool:
    """Whether a load mostly failed (no answer timed, or errors on half its requests or more): its times
    are then the errors'."""
    return figures["requests"] == 0 or figures["errors"] * 2 >= figures["requests"]


def ratio(entry: dict) -> float | None:
    """Page ÷ bare baseline at the median, None when either was not timed or mostly failed."""
    if "page" not in entry or "bare" not in entry or not entry["bare"]["p50"]:
        return None
    if failed(entry["page"]) or failed(entry["bare"]):
        return None
    return entry["page"]["p50"] / entry["bare"]["p50"]


def problem(entry: dict) -> str | None:
    """Why a page has no ratio, or None."""
    if entry.get("error"):
        return entry["error"]
    for side in ("page", "bare"):
        if side in entry and failed(entry[side]):
            what = f"{entry[side]['errors']} errors" if entry[side]["requests"] else "no answer timed"
            return f"{'baseline' if side == 'bare' else 'page'} failed ({what})"
    return None


def growth(small: dict, large: dict) -> tuple[float | None, float | None]:
    """Large ÷ demo for one page: (raw medians, medians each divided by its own baseline). The second
    is the one judged: the baseline runs beside the page, so load from elsewhere cancels out."""
    if "page" not in small or "page" not in large:
        return None, None
    raw = large["page"]["p50"] / small["page"]["p50"]
    small_ratio, large_ratio = ratio(small), ratio(large)
    return raw, (large_ratio / small_ratio) if small_ratio and large_ratio else None


def _runs(results: dict) -> list[dict]:
    return [run for run in results["runs"] if "pages" in run]


def _demo_of(results: dict, database: str) -> dict | None:
    return next((run for run in _runs(results) if run["database"] == database and run["size"] == "demo"), None)


def budgets(results: dict) -> list[dict]:
    """Each budget: {"budget", "holds" (True / False / None when not measured), "misses": [text]}."""
    out = []
    runs = _runs(results)

    def judge(name: str, misses: list, measured: bool):
        out.append({"budget": name, "holds": (not misses) if measured else None, "misses": misses})

    for kind, limit, label in (("phone", PHONE_RATIO, "Phone pages ≤ 1.5× the bare page (with session)"),
                               ("post", POST_RATIO, "“+1” post ≤ 2× a bare post writing the same rows"),
                               ("office", OFFICE_RATIO, "Office pages ≤ 3× the bare page")):
        misses, measured = [], False
        for run in runs:
            for page, entry in run["pages"].items():
                if entry["kind"] != kind:
                    continue
                value = ratio(entry)
                if value is None:
                    if problem(entry):
                        misses.append(f"{page} ({run['database']}, {_size(run['size'])}): {problem(entry)}")
                    continue
                measured = True
                if value > limit:
                    misses.append(f"{page} ({run['database']}, {_size(run['size'])}): {value:.1f}×")
        judge(label, misses, measured)

    misses, measured = [], False
    for run in runs:
        if run["size"] == "demo":
            continue
        demo = _demo_of(results, run["database"])
        for page, entry in run["pages"].items():
            if demo is None or page not in demo["pages"]:
                continue
            _raw, normalised = growth(demo["pages"][page], entry)
            if normalised is None:
                continue
            measured = True
            if normalised > GROWTH:
                misses.append(f"{page} ({run['database']}, {run['size']:,} orders): {normalised:.2f}×")
    judge("Large ÷ demo ≤ 1.2 for every page", misses, measured)

    misses, scan_misses, measured = [], [], False
    for run in runs:
        if run["size"] != "demo":
            continue
        for page, sizes in run["first_visit"].items():
            if sizes.get("status") != 200:
                continue
            measured = True
            total = sizes["html"] + sizes["css"] + sizes["js"]
            if total > PHONE_BYTES:
                misses.append(f"{page} ({run['database']}): {total / 1024:.1f} KB")
            if page == "scan landing" and sizes["html"] + sizes["css"] > SCAN_HTML_CSS:
                scan_misses.append(f"scan landing ({run['database']}): {(sizes['html'] + sizes['css']) / 1024:.1f} KB")
    judge("Phone pages ≤ 60 KB on first visit (HTML+CSS+JS, compressed)", misses, measured)
    judge("Scan landing page ≤ 14 KB of HTML+CSS", scan_misses, measured)

    misses, measured = [], False
    for run in runs:
        for page, scores in run.get("lighthouse", {}).items():
            if not isinstance(scores, dict) or "performance" not in scores:
                continue
            measured = True
            if scores["performance"] < LIGHTHOUSE_PERFORMANCE or scores["accessibility"] < LIGHTHOUSE_ACCESSIBILITY:
                misses.append(f"{page}: performance {scores['performance']}, accessibility {scores['accessibility']}")
    judge("Lighthouse mobile: performance ≥ 95, accessibility 100", misses, measured)

    misses, measured = [], False
    for run in runs:
        if run["size"] == "demo" or "replay" not in run:
            continue
        measured = True
        done = run["replay"]
        if done["seconds"] > REPLAY_SECONDS or done["applied"] != done["actions"]:
            misses.append(f"{run['database']}, {run['size']:,} orders: {done['applied']}/{done['actions']} "
                          f"applied in {done['seconds']:.1f} s")
    judge("500 queued actions replay in ≤ 15 s against the large database", misses, measured)
    return out


def _f(value, pattern="{:.1f}") -> str:
    return "–" if value is None else pattern.format(value)


def _size(size) -> str:
    return "demo" if size == "demo" else f"{size:,} orders"


def write(results: dict) -> str:
    """The whole of docs/benchmarks.md."""
    machine = results["machine"]
    lines = ["# Benchmarks", "",
             "Written by `make bench` (tools/bench/run.py); do not edit by hand — the causes of misses live in "
             "tools/bench/notes.md and are copied in below.", "",
             "## Machine", "",
             f"- Date: {machine['date']} (commit {machine.get('commit') or '?'})",
             f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine.get('memory_mb') or '?'} MB",
             f"- Python {machine['python']}, SQLite {machine['sqlite']}"
             + (f", PostgreSQL {machine['postgres']}" if machine.get("postgres") else ""),
             f"- Load: {'wrk' if machine.get('wrk') else 'the Python driver (wrk was not installed)'}, "
             f"{results.get('connections', '?')} connections, {results.get('seconds', '?')} s per page and per "
             "baseline, on loopback; the load generator shares the cores with the server, so the ratios "
             "(measured side by side) are the figures to read, not the absolute times.", "",
             "## Budgets", "", "| Budget | Holds | Misses |", "|---|---|---|"]
    for item in budgets(results):
        holds = {True: "yes", False: "**no**", None: "not measured"}[item["holds"]]
        lines.append(f"| {item['budget']} | {holds} | {'; '.join(item['misses']) or '–'} |")
    lines += ["", "## Method", "",
              "Each database is made fresh (`flask db upgrade`, `flask demo`, and `flask bench-data --orders N` "
              "for the large size) and cached under instance/bench/. The app runs under gunicorn as `make run` "
              "runs it (2 workers × 4 threads, webapp.serving); the **bare baseline** (tools/bench/bare.py) "
              "runs under the same settings on the same database: a page that loads the session cookie, runs "
              "one indexed query and renders a tiny template, and a post that inserts the rows a progress "
              "post writes (progress report, audit event, idempotency record; the phone's last-seen time) in "
              "one write transaction. Each page's load is followed at once by the baseline's (page, baseline, "
              "page, baseline …), and the ratio is page p50 ÷ that baseline's p50. Requests ask for "
              "`br, gzip`. SQL statements are counted for one warm request through the test client (a "
              "SQLAlchemy event). Large ÷ demo is judged on the page ÷ baseline ratios (raw medians shown "
              "too). First-visit bytes: the page and the stylesheets and scripts it links, as sent "
              "(compressed).", ""]
    for run in results["runs"]:
        title = f"## {run['database']}, {_size(run['size'])}"
        if "skipped" in run:
            lines += [title, "", f"Not run: {run['skipped']}.", ""]
            continue
        demo = _demo_of(results, run["database"]) if run["size"] != "demo" else None
        lines += [title, ""]
        if run.get("generated_seconds"):
            lines += [f"Generated in {run['generated_seconds']:.0f} s.", ""]
        header = "| Page | Kind | p50 ms | p99 ms | req/s | bare p50 ms | page ÷ bare | SQL/request |"
        rule = "|---|---|---:|---:|---:|---:|---:|---:|"
        if demo:
            header += " ÷ demo (raw) | ÷ demo (vs bare) |"
            rule += "---:|---:|"
        lines += [header, rule]
        for page, entry in run["pages"].items():
            if "page" not in entry:
                lines.append(f"| {page} | {entry['kind']} | {entry.get('error', '–')} |" + " |" * (6 + 2 * bool(demo)))
                continue
            value = ratio(entry)
            limit = RATIO_LIMIT[entry["kind"]]
            flag = " ✗" if value is not None and value > limit else ""
            row = (f"| {page} | {entry['kind']} | {_f(entry['page']['p50'])} | {_f(entry['page']['p99'])} | "
                   f"{_f(entry['page']['rps'], '{:.0f}')} | {_f(entry['bare']['p50'])} | {_f(value, '{:.2f}')}{flag} | "
                   f"{_f(entry.get('statements'), '{}')} |")
            if demo:
                raw, normalised = growth(demo["pages"].get(page, {}), entry)
                flag = " ✗" if normalised is not None and normalised > GROWTH else ""
                row += f" {_f(raw, '{:.2f}')} | {_f(normalised, '{:.2f}')}{flag} |"
            if problem(entry):
                row += f" {problem(entry)}"
            elif entry["page"].get("errors") or entry["bare"].get("errors"):
                row += f" ({entry['page']['errors']} errors, baseline {entry['bare']['errors']})"
            lines.append(row)
        lines.append("")
        if run.get("first_visit"):
            lines += ["First visit, bytes as sent (compressed):", "",
                      "| Page | HTML | CSS | JS | Total | ≤ 60 KB |", "|---|---:|---:|---:|---:|---|"]
            for page, sizes in run["first_visit"].items():
                if sizes.get("status") != 200:
                    lines.append(f"| {page} | answered {sizes.get('status')} | | | | |")
                    continue
                total = sizes["html"] + sizes["css"] + sizes["js"]
                lines.append(f"| {page} | {sizes['html']:,} | {sizes['css']:,} | {sizes['js']:,} | {total:,} | "
                             f"{'yes' if total <= PHONE_BYTES else '**no**'} |")
            lines.append("")
        if run.get("lighthouse"):
            lines += ["Lighthouse 12.8.2, mobile:", "", "| Page | Performance | Accessibility |", "|---|---:|---:|"]
            for page, scores in run["lighthouse"].items():
                if isinstance(scores, dict) and "performance" in scores:
                    lines.append(f"| {page} | {scores['performance']} | {scores['accessibility']} |")
                else:
                    lines.append(f"| {page} | {scores if isinstance(scores, str) else scores.get('error', '?')} | |")
            lines.append("")
        if run.get("replay"):
            done = run["replay"]
            lines += [f"Outbox replay: {done['applied']} of {done['actions']} queued “+1” reports applied in "
                      f"{done['seconds']:.1f} s, one after another from one phone "
                      f"({done['actions'] / max(done['seconds'], 0.001):.0f}/s).", ""]
    if NOTES.exists():
        lines += ["## Misses and their causes", "", NOTES.read_text().strip(), ""]
    return "\n".join(lines)


def main() -> None:
    """Write docs/benchmarks.md again from the last run's instance/bench/results.json (after editing
    tools/bench/notes.md, say): `python -m tools.bench.report`."""
    import json
    import os
    root = Path(__file__).resolve().parents[2]
    results = json.loads((root / "instance" / "bench" / "results.json").read_text())
    output = Path(os.environ.get("BENCH_OUTPUT", root / "docs" / "benchmarks.md"))
    output.write_text(write(results) + kept_sections(output))


def kept_sections(output: Path) -> str:
    """The sections other tools write into the same document (make soak's "## Soak"), kept as they are."""
    if not output.exists():
        return ""
    _, heading, rest = output.read_text().partition("\n## Soak\n")
    return "\n## Soak\n" + rest if heading else ""


if __name__ == "__main__":
    main()
