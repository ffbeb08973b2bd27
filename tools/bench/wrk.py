"""Load drivers for the benchmark: wrk when installed (its text output parsed here), else a small
Python driver with the same shape of result. Both return {"p50", "p99" (ms), "rps", "requests",
"errors"} — errors counting non-2xx/3xx answers and socket errors."""
import http.client
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
import uuid

LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "post.lua")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    """'1.23ms' → 1.23; '850.00us' → 0.85; '1.02s' → 1020.0."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse(output: str) -> dict:
    """The figures of one `wrk --latency` run from its text output."""
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and total and "50" in percentiles and "99" in percentiles):
        raise ValueError("wrk output without its latency distribution:\n" + output)
    errors = int((re.search(r"Non-2xx or 3xx responses: (\d+)", output) or [0, 0])[1])
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return {"p50": _ms(percentiles["50"]), "p99": _ms(percentiles["99"]), "rps": float(rps.group(1)),
            "requests": int(total.group(1)), "errors": errors}


def combine(runs: list[dict]) -> dict:
    """Several short loads of one target as one: the median of their percentiles (the mean of two),
    requests and errors summed, requests/s averaged."""
    if len(runs) == 1:
        return runs[0]
    return {"p50": statistics.median(r["p50"] for r in runs), "p99": statistics.median(r["p99"] for r in runs),
            "rps": statistics.fmean(r["rps"] for r in runs), "requests": sum(r["requests"] for r in runs),
            "errors": sum(r["errors"] for r in runs)}


def available() -> bool:
    """Whether the wrk binary is on the PATH."""
    return shutil.which("wrk") is not None


def drive(url: str, seconds: int, connections: int, headers: dict, post: dict | None = None) -> dict:
    """Load url for seconds with connections at once; post = {"auth", "actor"} makes it the "+1" post."""
    if available():
        return _wrk(url, seconds, connections, headers, post)
    return _python(url, seconds, connections, headers, post)


def _wrk(url, seconds, connections, headers, post) -> dict:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = dict(os.environ)
    if post is not None:
        command += ["-s", LUA]
        env.update(BENCH_POST_PATH=urllib.parse.urlsplit(url).path, BENCH_POST_AUTH=post["auth"],
                   BENCH_POST_ACTOR=str(post["actor"]), BENCH_RUN_ID=uuid.uuid4().hex[:12])
    done = subprocess.run(command + [url], capture_output=True, text=True, env=env, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def post_headers(post: dict, key: str) -> dict:
    """The headers of one outbox replay (static/js/outbox-store.js: send)."""
    return {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
            "Authorization": post["auth"], "X-Actor": str(post["actor"]), "Idempotency-Key": key,
            "X-Recorded-At": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "X-Attempt": "1"}


POST_BODY = "p-good=1&p-scrap=0&p-note="


def _python(url, seconds, connections, headers, post) -> dict:
    """The fallback driver: `connections` threads, each on one keep-alive connection."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                if post is None:
                    connection.request("GET", path, headers=headers)
                else:
                    connection.request("POST", path, body=POST_BODY,
                                       headers={**headers, **post_headers(post, uuid.uuid4().hex)})
                response = connection.getresponse()
                response.read()
                if response.status >= 400:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                continue
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    if len(latencies) < 2:
        raise RuntimeError(f"no answers from {url}")
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49], "p99": cuts[98], "rps": len(latencies) / elapsed, "requests": len(latencies),
            "errors": errors[0]}
