-- Batches of N events per request, fresh transaction ids, spread over the bench subscriptions.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  key = args[1]
  batch = tonumber(args[2] or "1000")
  subscriptions = tonumber(args[3] or "10")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local parts = {}
  local stamp = os.time()
  for i = 1, batch do
    parts[i] = string.format(
      '{"transaction_id":"b-%d-%d-%d-%d","external_subscription_id":"bench_sub_%d","code":"tokens","timestamp":%d,"properties":{"tokens":%d,"model":"gpt-4o"}}',
      stamp, thread_id, counter, i, i % subscriptions, stamp - (i % 3600), i)
  end
  local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format(nil, "/api/v1/events/batch", nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
