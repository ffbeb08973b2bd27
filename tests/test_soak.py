"""The one-minute soak in CI (issue 17; `make soak` runs ten minutes): simulated phones write progress
reports, scans and receipts through gunicorn as `make run` serves it, a worker is killed (SIGKILL)
twice, and the database holds every acknowledged write exactly once: no 5xx, nothing lost, nothing
twice. On SQLite and on PostgreSQL (a database of its own, which the soak empties)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import worker_database

ROOT = Path(__file__).resolve().parent.parent
SECONDS = os.environ.get("CI_SOAK_SECONDS", "60")
PHONES = os.environ.get("CI_SOAK_PHONES", "20")

pytestmark = pytest.mark.slow


def run_soak(database_url: str = "") -> dict:
    """tools/soak.py for a minute; its JSON summary (the script's exit status is its verdict)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SOAK_REPORT")}
    env.update(SOAK_SECONDS=SECONDS, SOAK_PHONES=PHONES, SOAK_DATABASE_URL=database_url)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "soak.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.stdout.strip(), done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert done.returncode == (0 if summary["passed"] else 1), done.stderr[-3000:]
    return summary


def check(summary: dict) -> None:
    """No 5xx, no refusal, nothing lost or twice, both kills made, each kind of write acknowledged."""
    assert summary["kills"] == 2 and summary["worker_respawns_logged"] == 2, summary
    assert summary["five_xx"] == 0 and summary["refused_count"] == 0, summary
    assert summary["lost"] == 0 and summary["duplicated"] == 0, summary["counts"]
    for kind in ("report", "scan", "receipt"):
        counts = summary["counts"][kind]
        assert counts["acknowledged"] > 0 and counts["in_database"] == counts["acknowledged"], (kind, counts)
    assert summary["counts"]["idempotency_records"] == summary["acknowledged"]
    assert summary["unhandled_errors_logged"] == 0 and summary["passed"], summary


def test_a_one_minute_soak_on_sqlite_with_two_workers_killed():
    """SQLite: every acknowledged write once, no 5xx, through two worker kills."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the SQLite soak runs in the SQLite run of the suite (CI's `make test` step), not again")
    check(run_soak())


@pytest.mark.postgres
def test_a_one_minute_soak_on_postgres_with_two_workers_killed():
    """PostgreSQL: the same, on a database of its own."""
    url = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("no PostgreSQL: set TEST_POSTGRES_URL")
    check(run_soak(worker_database(url, suffix="_soak")))
