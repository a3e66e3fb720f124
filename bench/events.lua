-- wrk script: POST /events, each request a batch of 100 events with ids never sent
-- before (the thread's number, the request's and the event's), on the demo shop's
-- products and 5,000 sessions; reports events/s, p50/p99 latency and non-2xx answers.
local batch = 100
local thread_no = 0
local n = 0
local kinds = {"impression", "click", "add_to_cart", "view"}
local headers = {["Authorization"] = "Bearer benchkey-0001", ["Content-Type"] = "application/json"}

function setup(thread)
    thread_no = thread_no + 1
    thread:set("me", thread_no)
end

function request()
    n = n + 1
    local parts = {}
    for i = 1, batch do
        local k = (n + i) % 4 + 1
        local p = string.format("P%03d", (n * 7 + i * 13) % 96 + 1)
        if k == 1 then
            parts[i] = string.format('{"event_id":"b%d-%d-%d","type":"impression","session_id":"s%d","items":["%s"]}',
                me, n, i, (n + i) % 5000, p)
        else
            parts[i] = string.format('{"event_id":"b%d-%d-%d","type":"%s","session_id":"s%d","product_id":"%s"}',
                me, n, i, kinds[k], (n + i) % 5000, p)
        end
    end
    return wrk.format("POST", "/events", headers, "[" .. table.concat(parts, ",") .. "]")
end

function done(summary, latency, requests)
    io.write(string.format("RESULT %.0f %.3f %.3f %d\n",
        batch * summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.errors.status + summary.errors.connect + summary.errors.read +
        summary.errors.write + summary.errors.timeout))
end
