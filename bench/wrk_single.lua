-- One event per request, a fresh transaction id each time (thread id + counter).
local counter = 0

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  subscription = args[1] or "bench_sub_0"
  key = args[2]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"event":{"transaction_id":"s-%d-%d-%d","external_subscription_id":"%s","code":"tokens","timestamp":null,"properties":{"tokens":%d,"model":"gpt-4o"}}}',
    os.time(), thread_id, counter, subscription, counter % 5000)
  return wrk.format(nil, "/api/v1/events", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
