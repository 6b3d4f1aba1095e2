-- wrk script: a mix of the routes a remote-assist session uses, each request as another user.
-- See bench/tokens.lua for TOKENS and THREADS.
-- Per user: validate, profile (Graph), contacts (Graph), ACS token, and a health probe.
dofile("bench/tokens.lua")

function init(args)
  load_tokens()
  step = 0
end

-- Users in the token file alternate between the two seeded tenants (line 1 Fieldworks, line 2
-- Experts Inc., ...); each looks up a colleague from their own tenant, whom Graph can see.
local colleague = {
  [1] = "0b1d0000-0000-4000-8000-000000000004",
  [0] = "0b1d0000-0000-4000-8000-000000000005",
}

local routes = {
  { "POST", function() return "/api/token/validate" end },
  { "GET", function() return "/api/users/" .. colleague[position % 2] end },
  { "GET", function() return "/api/contacts?q=pump&top=5" end },
  { "POST", function() return "/api/acs/token" end },
  { "GET", function() return "/api/health" end },
}

function request()
  step = step + 1
  local route = routes[(step % #routes) + 1]
  if step % #routes == 0 then
    next_user()
  end
  return wrk.format(route[1], route[2](), { ["Authorization"] = "Bearer " .. tokens[position] })
end

function done(summary, latency, requests)
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
