-- wrk script for bench/run.py. Usage (run.py builds the command line):
--   wrk -s bench/wrk_bench.lua URL -- award   <data.lua> <admin bearer token> <rule code>
--   wrk -s bench/wrk_bench.lua URL -- balance <data.lua>
--   wrk -s bench/wrk_bench.lua URL -- get     <data.lua> <path>   (bench/reads.py: any GET, tokens in turn)
-- <data.lua> returns a table: member ids (award) or member access tokens (balance).
-- Counts every response status per thread, keeps the first non-2xx body, and prints one
-- line "BENCH_RESULT {json}" from done() with throughput, latency percentiles and statuses.

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   items = dofile(args[2])
   n_items = #items
   statuses = {}
   first_error = ""
   math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
   for _ = 1, 10 do math.random() end
   cursor = math.random(n_items)
   if mode == "award" then
      award_headers = {
         ["Authorization"] = "Bearer " .. args[3],
         ["Content-Type"] = "application/json",
      }
      rule_code = args[4]
   elseif mode == "get" then
      get_path = args[3]
   elseif mode ~= "balance" then
      error("unknown mode " .. tostring(mode))
   end
end

function request()
   if mode == "award" then
      local member_id = items[math.random(n_items)]
      local body = '{"member_id":"' .. member_id .. '","rule_code":"' .. rule_code .. '","quantity":1}'
      return wrk.format("POST", "/api/v1/admin/awards", award_headers, body)
   end
   cursor = cursor % n_items + 1
   return wrk.format("GET", get_path or "/api/v1/me/balance", { ["Authorization"] = "Bearer " .. items[cursor] }, nil)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if (status < 200 or status > 299) and first_error == "" then
      first_error = tostring(status) .. " " .. string.sub(body or "", 1, 400)
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
   for _, thread in ipairs(threads) do
      local s = thread:get("statuses")
      if s then
         for code, count in pairs(s) do all[code] = (all[code] or 0) + count end
      end
      local e = thread:get("first_error")
      if err == "" and e and e ~= "" then err = e end
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
      '"statuses":{%s},"first_error":%s}\n',
      summary.requests, summary.duration, summary.bytes,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency:percentile(99.9), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout,
      table.concat(parts, ","), json_string(err)))
end
