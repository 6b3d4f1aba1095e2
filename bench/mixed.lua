-- wrk script: a mix of the routes a remote-assist session uses, each request as another user.
-- TOKENS names a token file (load_target --distinct N); THREADS must equal wrk's -t.
-- Per user: validate, profile (Graph), contacts (Graph), ACS token, and a health probe.
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  tokens = {}
  for line in io.lines(os.getenv("TOKENS")) do
    tokens[#tokens + 1] = line
  end
  stride = tonumber(os.getenv("THREADS") or "1")
  position = index + 1
  step = 0
end

local routes = {
  { "POST", "/api/token/validate" },
  { "GET", "/api/users/me" },
  { "GET", "/api/contacts?q=pump&top=5" },
  { "POST", "/api/acs/token" },
  { "GET", "/api/health" },
}

function request()
  step = step + 1
  local route = routes[(step % #routes) + 1]
  if step % #routes == 0 then
    position = position + stride
    if position > #tokens then position = index + 1 end
  end
  return wrk.format(route[1], route[2], { ["Authorization"] = "Bearer " .. tokens[position] })
end

function done(summary, latency, requests)
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
