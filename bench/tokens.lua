-- Shared by the wrk scripts: each wrk thread walks its own slice of a token file, so no token is
-- sent twice until the file runs out. TOKENS names the file (load_target --distinct N writes one,
-- line i being user i); THREADS must equal wrk's -t. Thread k reads lines k+1, k+1+THREADS, ...
-- Load with dofile("bench/tokens.lua") from the repository root.
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function load_tokens()
  tokens = {}
  for line in io.lines(os.getenv("TOKENS")) do
    tokens[#tokens + 1] = line
  end
  stride = tonumber(os.getenv("THREADS") or "1")
  position = index + 1
end

function next_user()
  position = position + stride
  if position > #tokens then position = index + 1 end
end
