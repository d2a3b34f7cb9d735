-- wrk script: each request asks for a name drawn from the sample file (URL-encoded, one per line).
-- Set BENCH_NAMES (file) and BENCH_PATH (path with a %s where the name goes) in the environment.
local names = {}
for line in io.lines(os.getenv("BENCH_NAMES")) do names[#names + 1] = line end
local path = os.getenv("BENCH_PATH")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(seed * 7919)
end

request = function()
  local name = names[math.random(#names)]
  return wrk.format("GET", string.format(path, name))
end
