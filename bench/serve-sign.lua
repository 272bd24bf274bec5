-- serve-sign.lua - wrk script for bench/serve.sh: POST a different,
-- pre-built body with every request, never one twice.
--
--   wrk -t T -c C -d D -s serve-sign.lua URL -- PREFIX PATH [CONTENT-TYPE]
--
-- Thread k (0 .. T-1) reads PREFIX.k, one request body per line, and sends
-- them in order, each once: the bodies carry single-use tokens. A thread
-- that runs out stops (wrk then reports the time it really ran) rather
-- than replay a token; done() says so on a line of its own.
--
-- done() prints one machine-readable line for serve.sh:
--   WRK requests=N seconds=S p50_ms=X p99_ms=Y max_ms=Z non2xx=N
--       connect=N read=N write=N timeout=N sent=N exhausted=N
-- (non2xx is wrk's count of responses with a status above 399).
--
-- SPDX-License-Identifier: GPL-3.0-or-later

local nthreads = 0
local threads = {}

function setup(thread)
	thread:set("id", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

function init(args)
	local prefix, path = args[1], args[2]
	local ctype = args[3] or "application/json"
	local f = assert(io.open(prefix .. "." .. id, "r"))
	local headers = { ["Content-Type"] = ctype }

	-- Formatted once here, so that request() costs the load generator
	-- (on the same CPUs as the server) as little as possible.
	reqs = {}
	for line in f:lines() do
		reqs[#reqs + 1] = wrk.format("POST", path, headers, line)
	end
	f:close()
	-- What a thread that ran out sends while it stops: harmless.
	spare = wrk.format("GET", "/health")
	sent = 0
	exhausted = 0
end

function request()
	if sent >= #reqs then
		if exhausted == 0 then
			exhausted = 1
			wrk.thread:stop()
		end
		return spare
	end
	sent = sent + 1
	return reqs[sent]
end

function done(summary, latency, requests)
	local e = summary.errors
	local nsent, nexh = 0, 0

	for _, t in ipairs(threads) do
		nsent = nsent + (t:get("sent") or 0)
		nexh = nexh + (t:get("exhausted") or 0)
	end
	io.write(string.format(
	    "WRK requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
	    "non2xx=%d connect=%d read=%d write=%d timeout=%d sent=%d exhausted=%d\n",
	    summary.requests, summary.duration / 1e6,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    latency.max / 1000, e.status, e.connect, e.read, e.write,
	    e.timeout, nsent, nexh))
end
