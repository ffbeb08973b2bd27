-- wrk: POST a "+1" progress report as the phone's outbox replays it, a fresh Idempotency-Key each.
-- The path, the device credential and the actor come from the environment (tools/bench/run.py).
local counter = 0
local thread_id = 0
local threads = {}
local path = os.getenv("BENCH_POST_PATH")
local auth = os.getenv("BENCH_POST_AUTH")
local actor = os.getenv("BENCH_POST_ACTOR")
local run = os.getenv("BENCH_RUN_ID") or tostring(os.time())
local body = "p-good=1&p-scrap=0&p-note="

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  headers["Accept"] = "application/json"
  headers["Authorization"] = auth
  headers["X-Actor"] = actor
  headers["X-Recorded-At"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
  headers["Idempotency-Key"] = "bench-" .. run .. "-" .. tostring(id) .. "-" .. tostring(counter)
  return wrk.format("POST", path, headers, body)
end
