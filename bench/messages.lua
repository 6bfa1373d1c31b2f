-- wrk script: customers posting messages to Switchboard.
--
--   wrk -t1 -c32 -d15s --latency -s bench/messages.lua URL -- CONVS QUESTIONS [ACKS_PREFIX] [RUN_ID]
--
-- CONVS      file of "id token" lines (bench/create_conversations.py)
-- QUESTIONS  one question a line (bench/corpus/questions.txt)
-- ACKS_PREFIX if given, every 2xx answer's message_id is written to
--            ACKS_PREFIX.<thread>, for the persistence check
-- RUN_ID     prefix of the client_ids (default: the start time), so no two
--            requests share a client_id and none is deduplicated
-- WRK_THREADS (environment) must equal wrk's -t when it is not 1: init()
--            runs before later threads exist, so it cannot count them
--
-- Each request posts the next question (round robin) to the next
-- conversation (round robin). Thread t of T owns conversations t, t+T, ...
-- and starts at question offset t*Q/T, so threads never share a
-- conversation. Every response is classified in response(); done()
-- aggregates the per-thread counters and prints a summary plus one
-- "BENCH_JSON {...}" line for scripts.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function json_escape(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end)
  return s
end

local function read_lines(path)
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  local out = {}
  for line in f:lines() do
    if #line > 0 then out[#out + 1] = line end
  end
  f:close()
  return out
end

-- Per-thread state (each wrk thread has its own Lua state; these globals
-- are what thread:get reads in done()).
total, ok2xx, non2xx = 0, 0, 0
st429, st4xx, st5xx = 0, 0, 0
bot_answered, kb_answered, clarified = 0, 0, 0
handoff_notice, silent, duplicates, other = 0, 0, 0, 0
sent, nconvs, nquestions = 0, 0, 0

local convs_path, paths, tokens, bodies_q = nil, {}, {}, {}
local conv_i, q_i, seq = 0, 0, 0
local acks = nil
acks_n = 0
local run_id

function init(args)
  local convs = read_lines(args[1])
  local questions = read_lines(args[2])
  local T = tonumber(os.getenv("WRK_THREADS") or "1")
  for i = 1, #convs do
    if (i - 1) % T == tid then
      local id, token = convs[i]:match("^(%S+)%s+(%S+)")
      paths[#paths + 1] = "/api/v1/conversations/" .. id .. "/messages"
      tokens[#tokens + 1] = "Bearer " .. token
    end
  end
  for i = 1, #questions do
    bodies_q[i] = '{"text":"' .. json_escape(questions[i]) .. '","client_id":"'
  end
  nconvs, nquestions = #paths, #bodies_q
  assert(nconvs > 0, "no conversations for thread " .. tid)
  q_i = math.floor(tid * nquestions / T)
  run_id = args[4] or tostring(os.time())
  if args[3] and #args[3] > 0 then
    acks = assert(io.open(args[3] .. "." .. tid, "w"))
  end
end

function request()
  local c = conv_i % nconvs + 1
  local q = q_i % nquestions + 1
  conv_i, q_i, seq = conv_i + 1, q_i + 1, seq + 1
  sent = seq
  local body = bodies_q[q] .. run_id .. "-" .. tid .. "-" .. seq .. '"}'
  return wrk.format("POST", paths[c], {
    ["Authorization"] = tokens[c],
    ["Content-Type"] = "application/json",
  }, body)
end

function response(status, headers, body)
  total = total + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if status == 429 then
      st429 = st429 + 1
    elseif status >= 500 then
      st5xx = st5xx + 1
    else
      st4xx = st4xx + 1
    end
    return
  end
  ok2xx = ok2xx + 1
  if acks then
    local mid = body:match('"message_id":(%d+)')
    if mid then
      acks:write(mid, "\n")
      acks_n = acks_n + 1
      if acks_n % 4096 == 0 then acks:flush() end
    end
  end
  if body:find('"duplicate":true', 1, true) then duplicates = duplicates + 1 end
  local st = body:match('"status":"(%a+)"')
  local empty = body:find('"replies":[]', 1, true) ~= nil
  if st == "bot" and not empty then
    bot_answered = bot_answered + 1
    -- A confident knowledge-base answer carries the "did this help?" buttons;
    -- anything else from the bot is a clarifying question.
    if body:find('"/helped"', 1, true) then
      kb_answered = kb_answered + 1
    else
      clarified = clarified + 1
    end
  elseif empty then
    silent = silent + 1
  elseif st == "queued" then
    handoff_notice = handoff_notice + 1
  else
    other = other + 1
  end
  -- flush on the way: there is no per-thread teardown hook in wrk
  if acks and total % 65536 == 0 then acks:flush() end
end

local keys = {
  "sent", "total", "ok2xx", "non2xx", "bot_answered", "kb_answered", "clarified",
  "handoff_notice", "silent", "duplicates", "other", "nconvs", "acks_n",
  "st429", "st4xx", "st5xx",
}

function done(summary, latency, requests)
  local agg = {}
  for _, k in ipairs(keys) do agg[k] = 0 end
  for _, t in ipairs(threads) do
    for _, k in ipairs(keys) do agg[k] = agg[k] + (tonumber(t:get(k)) or 0) end
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  local function rate(n) return n / secs end
  io.write("------------------------------------------------------------\n")
  io.write(string.format("messages: %d responses in %.2f s = %.1f msg/s (wrk completed %d)\n",
    agg.total, secs, rate(agg.total), summary.requests))
  io.write(string.format("  2xx %d, non-2xx %d (429 %d, other 4xx %d, 5xx %d), socket errors connect %d read %d write %d timeout %d\n",
    agg.ok2xx, agg.non2xx, agg.st429, agg.st4xx, agg.st5xx, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("  answered by bot %d (%.1f/s, %.1f%%): KB answers %d, clarifying %d\n",
    agg.bot_answered, rate(agg.bot_answered), 100 * agg.bot_answered / math.max(agg.total, 1),
    agg.kb_answered, agg.clarified))
  io.write(string.format("  handoff notices %d, queued/silent %d, duplicates %d, other %d\n",
    agg.handoff_notice, agg.silent, agg.duplicates, agg.other))
  io.write(string.format("  conversations %d, latency p50 %.3f ms p90 %.3f ms p99 %.3f ms max %.3f ms\n",
    agg.nconvs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = string.format('"%s":%d', k, agg[k]) end
  parts[#parts + 1] = string.format('"duration_s":%.6f', secs)
  parts[#parts + 1] = string.format('"wrk_requests":%d', summary.requests)
  parts[#parts + 1] = string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"err_status":%d',
    e.connect, e.read, e.write, e.timeout, e.status)
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    parts[#parts + 1] = string.format('"p%s_ms":%.3f', tostring(p):gsub("%.", "_"), latency:percentile(p) / 1000)
  end
  parts[#parts + 1] = string.format('"mean_ms":%.3f,"max_ms":%.3f', latency.mean / 1000, latency.max / 1000)
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end
