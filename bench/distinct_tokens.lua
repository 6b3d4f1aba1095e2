-- wrk script: POST /api/token/validate with a different SSO token on every request (after the
-- file wraps, the cache answers). See bench/tokens.lua for TOKENS and THREADS.
dofile("bench/tokens.lua")

function init(args)
  load_tokens()
  wrk.method = "POST"
end

function request()
  local token = tokens[position]
  next_user()
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. token })
end
