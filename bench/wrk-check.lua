-- wrk script for scripts/bench.sh: sends one kind of request and checks EVERY answer.
--
-- A fast wrong answer is an error: each response must have the expected status and
-- contain every expected text, otherwise it is counted in `bad` (the first few are
-- printed to stderr). `done` prints one machine-readable `RESULT ...` line.
--
-- Configured through the environment (wrk passes no options to the Lua threads):
--   BENCH_METHOD      GET (default) or POST
--   BENCH_BODY_FILE   request body (trailing whitespace trimmed); REST/direct rows
--   BENCH_HEADERS     extra headers, "Name: value|Name: value"
--   BENCH_STATUS      expected status (default 200)
--   BENCH_CONTAINS    texts every answer must contain, "a|b" (plain text, no patterns)
--   BENCH_MAX_REQUESTS  stop each thread after this many answers (profiling runs)
--   BENCH_MCP_TOOL    MCP mode: POST a JSON-RPC tools/call of this tool, a fresh id per
--                     request; BENCH_MCP_ARGS_FILE holds its `arguments` object

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    return default
  end
  return v
end

local function split(s, sep)
  local out = {}
  if s == nil then
    return out
  end
  for part in string.gmatch(s, "([^" .. sep .. "]+)") do
    table.insert(out, part)
  end
  return out
end

local function read_file(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local text = f:read("*a")
  f:close()
  return (text:gsub("%s+$", ""))
end

wrk.method = env("BENCH_METHOD", "GET")
local body_file = env("BENCH_BODY_FILE", nil)
if body_file then
  wrk.body = read_file(body_file)
end
for _, h in ipairs(split(env("BENCH_HEADERS", nil), "|")) do
  local name, value = h:match("^%s*([^:]+):%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

local want_status = tonumber(env("BENCH_STATUS", "200"))
local needles = split(env("BENCH_CONTAINS", nil), "|")

-- MCP mode: a per-request JSON-RPC id (wrk's static request would repeat one id).
local tool = env("BENCH_MCP_TOOL", nil)
if tool then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local args = read_file(assert(env("BENCH_MCP_ARGS_FILE", nil), "BENCH_MCP_ARGS_FILE"))
  local head = '{"jsonrpc":"2.0","id":'
  local tail = ',"method":"tools/call","params":{"name":"' .. tool .. '","arguments":' .. args .. "}}"
  local next_id = 0
  function request()
    next_id = next_id + 1
    return wrk.format(nil, nil, nil, head .. (id_base + next_id) .. tail)
  end
end

-- Per-thread state (each wrk thread runs this file in its own Lua state).
id_base = 0
bad = 0
local shown = 0
local answers = 0
local max_answers = tonumber(env("BENCH_MAX_REQUESTS", "0"))

function response(status, headers, body)
  answers = answers + 1
  local ok = status == want_status
  if ok then
    for _, n in ipairs(needles) do
      if body == nil or not body:find(n, 1, true) then
        ok = false
        break
      end
    end
  end
  if not ok then
    bad = bad + 1
    if shown < 3 then
      shown = shown + 1
      io.stderr:write(string.format("bad answer: status %d (want %d), body: %s\n",
        status, want_status, string.sub(body or "", 1, 300)))
    end
  end
  if answers == max_answers then
    -- wrk itself runs for its whole -d; the profiling script waits for this line.
    io.stderr:write(string.format("BENCH_DONE answers=%d bad=%d\n", answers, bad))
    io.stderr:flush()
    wrk.thread:stop()
  end
end

-- Runs in wrk's main Lua state.
local threads = {}

function setup(thread)
  thread:set("id_base", #threads * 1000000000)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, t in ipairs(threads) do
    total_bad = total_bad + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bad=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, total_bad, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
