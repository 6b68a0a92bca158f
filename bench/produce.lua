-- wrk script for the closed-loop produce workloads (bench/wrk.ts starts it): every connection POSTs the prepared v2
-- body, back to back, until the deadline; then it sends nothing more and waits for its last answer, so that every
-- record the gateway stored was also counted here (the correctness check compares them with the end offsets).
-- Arguments after `--`: body file, seconds, connections per thread.
-- Each thread prints IDLE_MARK once its connections are all idle; done() prints RESULT_MARK and one JSON line
-- (statuses as [status, count] pairs, one per thread and status; latencies in milliseconds).
-- A connection is idle when wrk asks delay() for its next request after the deadline: wrk calls response() and
-- delay() in different turns of its event loop, so a connection answered just before the deadline and asked just
-- after it sends nothing more and gets no further response(); counting idleness in response() missed it, and the
-- thread then waited out the whole grace period.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kosha_timespec;
int clock_gettime(int clk_id, kosha_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("kosha_timespec")
local function now ()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local IDLE_MARK = "kosha-wrk idle"
local RESULT_MARK = "kosha-wrk result"

local threads = {}

function setup (thread)
  table.insert(threads, thread)
end

function init (args)
  local file = assert(io.open(args[1], "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/vnd.kafka.json.v2+json"
  wrk.headers["Accept"] = "application/vnd.kafka.json.v2+json"
  deadline = now() + tonumber(args[2])
  connections = tonumber(args[3])
  idle = 0
  records = 0
  statuses = {}
end

-- After the deadline no connection sends again (wrk asks for a delay before every request, the first included):
-- each connection is parked once, after its last answer, and the last one parked stops the thread.
function delay ()
  if now() < deadline then return 0 end
  idle = idle + 1
  if idle == connections then
    io.stdout:write(IDLE_MARK .. "\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
  return 1e9
end

-- Entries of "offsets" are flat objects: one acknowledged record is one with a numeric offset and a null (or no) error.
local function acknowledged (body)
  local n = 0
  local offsets = body:match('"offsets"%s*:%s*(%b[])')
  if offsets == nil then return 0 end
  for entry in offsets:gmatch("%b{}") do
    local error = entry:match('"error"%s*:%s*([^,}%s]+)')
    if entry:find('"offset"%s*:%s*%-?%d') and (error == nil or error == "null") then n = n + 1 end
  end
  return n
end

function response (status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then records = records + acknowledged(body) end
end

function done (summary, latency, requests)
  local total = 0
  local mix = {}
  for _, thread in ipairs(threads) do
    total = total + (thread:get("records") or 0)
    for status, n in pairs(thread:get("statuses") or {}) do
      mix[#mix + 1] = string.format("[%d,%d]", status, n)
    end
  end
  local e = summary.errors
  local ms = function (us) return us / 1000 end
  io.stdout:write(RESULT_MARK .. "\n")
  io.stdout:write(string.format(
    '{"requests":%d,"records":%d,"durationSec":%.6f,"statuses":[%s],' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
    '"latencyMs":{"p50":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,"count":%d}}\n',
    summary.requests, total, summary.duration / 1e6, table.concat(mix, ","),
    e.connect, e.read, e.write, e.timeout, e.status,
    ms(latency:percentile(50)), ms(latency:percentile(99)), ms(latency:percentile(99.9)), ms(latency.max),
    summary.requests))
  io.stdout:flush()
end
