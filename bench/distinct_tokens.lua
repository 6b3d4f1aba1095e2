-- wrk script: POST /api/token/validate with a different SSO token on every request.
-- TOKENS names a file with one token per line (load_target --distinct N writes one);
-- THREADS must equal wrk's -t. Thread i sends lines i, i+THREADS, i+2*THREADS, ...
-- so no token is sent twice until the file runs out (then it wraps, and the cache answers).
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
  wrk.method = "POST"
end

function request()
  local token = tokens[position]
  position = position + stride
  if position > #tokens then position = index + 1 end
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. token })
end
