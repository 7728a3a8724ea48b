-- GET one URL repeatedly (current_usage), reporting latency percentiles.
function init(args)
  key = args[1]
  path = args[2]
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f}\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
