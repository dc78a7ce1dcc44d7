-- wrk script for bench/redemptions.py. Usage (redemptions.py builds the command line):
--   wrk -s bench/wrk_redemptions.lua URL -- redeem <tokens.lua> <threads> <reward id> <codes prefix>
--   wrk -s bench/wrk_redemptions.lua URL -- fulfil <codes.lua> <threads> <clerk token> <first> <last> <reserve>
--
-- redeem: POST /api/v1/me/redemptions {"reward_id", "quantity": 1} as the members of <tokens.lua> (a table of
--   access tokens). Thread k of <threads> takes its own contiguous slice of the tokens and cycles through it, so
--   a member's next request comes only after every other member of the slice had one: with N tokens and C
--   connections, N/threads >> C/threads keeps the requests in flight on distinct members. Each 201's "code" is
--   appended to "<codes prefix>.<k>.txt" (one file per thread; "-" writes none).
-- fulfil: POST /api/v1/merchant/redemptions/fulfil {"code"} as the clerk. Thread k takes its own slice of
--   codes[first..last] and uses each code once. When fewer than <reserve> codes (the thread's connections) are
--   left, the thread stops, so no code is ever sent twice; "exhausted" in the result says it happened (wrk then
--   idles to the end of -d, and the rate is a lower bound).
--
-- Counts every response status per thread, keeps the first non-2xx body, and prints one line
-- "BENCH_RESULT {json}" from done() with throughput, latency percentiles, statuses and codes written/used.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   local items = dofile(args[2])
   local n_threads = tonumber(args[3])
   statuses = {}
   first_error = ""
   written = 0
   used = 0
   padded = 0
   exhausted = 0
   headers = { ["Content-Type"] = "application/json" }
   local first, last = 1, #items
   if mode == "fulfil" then
      headers["Authorization"] = "Bearer " .. args[4]
      first, last = tonumber(args[5]), math.min(tonumber(args[6]), #items)
      reserve = tonumber(args[7])
   elseif mode ~= "redeem" then
      error("unknown mode " .. tostring(mode))
   end
   -- this thread's contiguous slice of items[first..last]
   local total = last - first + 1
   local lo = first + math.floor(total * (tid - 1) / n_threads)
   local hi = first + math.floor(total * tid / n_threads) - 1
   slice = {}
   for i = lo, hi do slice[#slice + 1] = items[i] end
   n_slice = #slice
   if n_slice == 0 then error("thread " .. tid .. " has no items") end
   if mode == "redeem" then
      reward_id = args[4]
      math.randomseed(os.time() * 1000 + tid * 7919)
      for _ = 1, 10 do math.random() end
      cursor = math.random(n_slice) - 1
      if args[5] ~= "-" then
         out = assert(io.open(args[5] .. "." .. tid .. ".txt", "a"))
         out:setvbuf("line")
      end
   else
      cursor = 0
   end
end

function request()
   if mode == "redeem" then
      cursor = cursor % n_slice + 1
      local body = '{"reward_id":"' .. reward_id .. '","quantity":1}'
      local h = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. slice[cursor] }
      return wrk.format("POST", "/api/v1/me/redemptions", h, body)
   end
   if cursor >= n_slice then
      -- Out of codes despite the reserve: never resend one. A liveness probe keeps wrk's connection busy; it is
      -- counted as padded and taken out of the 2xx count by redemptions.py.
      padded = padded + 1
      exhausted = 1
      return wrk.format("GET", "/health/live", nil, nil)
   end
   cursor = cursor + 1
   used = used + 1
   return wrk.format("POST", "/api/v1/merchant/redemptions/fulfil", headers, '{"code":"' .. slice[cursor] .. '"}')
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if (status < 200 or status > 299) and first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 400)
   end
   if mode == "redeem" then
      if status == 201 and out then
         local code = string.match(body or "", '"code"%s*:%s*"([^"]+)"')
         if code then
            out:write(code, "\n")
            written = written + 1
         end
      end
   elseif exhausted == 0 and n_slice - cursor < reserve then
      exhausted = 1
      wrk.thread:stop()
   end
end

local function json_string(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local all = {}
   local err = ""
   local total_written, total_used, total_padded, total_exhausted = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      local s = thread:get("statuses")
      if s then
         for code, count in pairs(s) do all[code] = (all[code] or 0) + count end
      end
      local e = thread:get("first_error")
      if err == "" and e and e ~= "" then err = e end
      total_written = total_written + (thread:get("written") or 0)
      total_used = total_used + (thread:get("used") or 0)
      total_padded = total_padded + (thread:get("padded") or 0)
      total_exhausted = total_exhausted + (thread:get("exhausted") or 0)
   end
   local parts = {}
   for code, count in pairs(all) do
      table.insert(parts, string.format('"%d":%d', code, count))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"latency_us":{"min":%d,"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"statuses":{%s},"first_error":%s,' ..
      '"codes_written":%d,"codes_used":%d,"padded":%d,"threads_exhausted":%d}\n',
      summary.requests, summary.duration, summary.bytes,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(parts, ","), json_string(err),
      total_written, total_used, total_padded, total_exhausted))
end
