-- wrk script: cycles through the request paths listed one per line in the file
-- named by the first script argument, so that no two neighbouring requests are
-- alike; adds the Authorization header; reports requests/s and p50/p99 latency.
local paths = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        paths[#paths + 1] = line
    end
    i = math.random(#paths)
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i], {["Authorization"] = "Bearer benchkey-0001"})
end

function done(summary, latency, requests)
    io.write(string.format("RESULT %.0f %.3f %.3f\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
