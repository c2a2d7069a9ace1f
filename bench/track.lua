-- bench/track.py's mix for wrk: each line of the requests file is "o PATH" (an open), "c PATH"
-- (a click) or "u PATH" (an RFC 8058 one-click unsubscribe, a POST). Thread k of n takes lines
-- k, k+n, k+2n... in order; answers are counted by kind (a GIF is an open, a 302 a click, any
-- other 200 an unsubscribe) and done() prints one JSON line for the bench.
--   wrk -t1 -c16 -d20s -s bench/track.lua http://127.0.0.1:PORT -- requests.txt 1
local threads = {}
local made = 0
local agent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
  .. "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"

function setup(thread)
  thread:set("tid", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  local every = tonumber(args[2])
  local get = { ["User-Agent"] = agent }
  local post = {
    ["User-Agent"] = agent,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  reqs = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % every == tid then
      local kind, path = line:match("^(%a) (%S+)$")
      if kind == "u" then
        reqs[#reqs + 1] = wrk.format("POST", path, post, "List-Unsubscribe=One-Click")
      else
        reqs[#reqs + 1] = wrk.format("GET", path, get)
      end
    end
    n = n + 1
  end
  at = 0
  wrapped = 0
  opens = 0
  clicks = 0
  unsubscribes = 0
  others = 0
end

function request()
  at = at + 1
  if at > #reqs then
    at = 1
    wrapped = wrapped + 1
  end
  return reqs[at]
end

function response(status, headers, body)
  if status == 302 then
    clicks = clicks + 1
  elseif status == 200 then
    local kind = headers["content-type"] or headers["Content-Type"] or ""
    if kind:find("image/gif", 1, true) then
      opens = opens + 1
    else
      unsubscribes = unsubscribes + 1
    end
  else
    others = others + 1
  end
end

function done(summary, latency, requests)
  local sum = { opens = 0, clicks = 0, unsubscribes = 0, others = 0, wrapped = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(sum) do
      sum[name] = sum[name] + (thread:get(name) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
      .. '"opens": %d, "clicks": %d, "unsubscribes": %d, "others": %d, "wrapped": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout,
    sum.opens, sum.clicks, sum.unsubscribes, sum.others, sum.wrapped))
end
