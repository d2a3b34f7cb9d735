-- wrk script for bench/booking.py: run with -t N -c N (one connection per thread, so each
-- thread is one client that sends, waits for the answer, then sends the next).
-- BENCH_LINES: one request per line, "method<TAB>path<TAB>sessionid<TAB>csrftoken<TAB>body";
-- thread i sends lines i, i+N, i+2N, ... once each, then writes what it saw to
-- BENCH_OUT/thread-i.txt ("first_send last_answer" then "status code latency_us" per
-- request) and stops. The latencies are timed here, send to answer, so that the figures
-- cover exactly these requests (wrk's own run time includes its idle end).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1e6 + tonumber(tv.tv_usec)
end

local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  mine = {}
  local i = 0
  for line in io.lines(os.getenv("BENCH_LINES")) do
    if i % n == id then
      local method, path, session, csrf, body = line:match("^(%S+)\t(%S+)\t(%S*)\t(%S*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json", ["X-CSRFToken"] = csrf,
                        ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf }
      if body == "" then body = nil end
      mine[#mine + 1] = wrk.format(method, path, headers, body)
    end
    i = i + 1
  end
  position, results, first, finished = 0, {}, nil, false
end

request = function()
  if position >= #mine then position = #mine - 1 end  -- never reached: the thread stopped
  position = position + 1
  sent = now()
  if first == nil then first = sent end
  return mine[position]
end

response = function(status, headers, body)
  local took = now() - sent
  local code = ""
  if status >= 400 then code = body:match('"code": "([%w_]+)"') or "" end
  results[#results + 1] = status .. " " .. code .. " " .. string.format("%.0f", took)
  if position >= #mine and not finished then
    finished = true
    local out = io.open(os.getenv("BENCH_OUT") .. "/thread-" .. id .. ".txt", "w")
    out:write(string.format("%.0f %.0f\n", first, now()))
    out:write(table.concat(results, "\n"), "\n")
    out:close()
    wrk.thread:stop()
  end
end
