-- revocation-ocsp.lua - wrk script for bench/revocation.sh: POST DER OCSP
-- requests, round robin over a few pre-built ones.
--
--   wrk -t T -c C -d D -s revocation-ocsp.lua URL -- PATH MODE FILE...
--   wrk ... -s revocation-ocsp.lua URL -- PATH MODE @serials TEMPLATE LIST
--
-- Every FILE is a DER OCSPRequest (openssl ocsp -reqout). Thread k starts
-- at file k and takes them in turn, so that all of them are asked for.
-- With @serials, TEMPLATE is such a request without nonce for a 17-octet
-- serial (its last 17 octets), and one request is made from it for each
-- serial (17 octets in hex) on the lines of LIST.
-- MODE is "keep" (HTTP/1.1 keep-alive) or "close" (a Connection: close
-- header: the server closes after each answer and wrk connects again, a
-- TLS handshake per request on https).
--
-- done() prints one machine-readable line for revocation.sh:
--   WRK requests=N seconds=S p50_ms=X p99_ms=Y max_ms=Z non2xx=N
--       connect=N read=N write=N timeout=N
-- (non2xx is wrk's count of responses with a status above 399).
--
-- SPDX-License-Identifier: GPL-3.0-or-later

local nthreads = 0

function setup(thread)
	thread:set("id", nthreads)
	nthreads = nthreads + 1
end

function init(args)
	local path, mode = args[1], args[2]
	local headers = { ["Content-Type"] = "application/ocsp-request" }

	if mode == "close" then
		headers["Connection"] = "close"
	elseif mode ~= "keep" then
		error("MODE must be keep or close, not " .. tostring(mode))
	end
	-- Formatted once here, so that request() costs the load generator
	-- (on the same CPUs as the server) as little as possible.
	reqs = {}
	if args[3] == "@serials" then
		local f = assert(io.open(args[4], "rb"))
		local der = f:read("*a")
		f:close()
		local head = der:sub(1, #der - 17)
		for line in io.lines(args[5]) do
			local hex = line:match("^(%x+)")
			assert(hex and #hex == 34, "not a 17-octet serial: " .. line)
			local body = head .. hex:gsub("%x%x", function(b)
				return string.char(tonumber(b, 16))
			end)
			reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
		end
	else
		for i = 3, #args do
			local f = assert(io.open(args[i], "rb"))
			local der = f:read("*a")
			f:close()
			reqs[#reqs + 1] = wrk.format("POST", path, headers, der)
		end
	end
	assert(#reqs > 0, "no request files")
	-- Threads start apart, so that they do not ask the same in step.
	next_req = (id * math.floor(#reqs / 2 + 1)) % #reqs
end

function request()
	next_req = next_req % #reqs + 1
	return reqs[next_req]
end

function done(summary, latency, requests)
	local e = summary.errors

	io.write(string.format(
	    "WRK requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
	    "non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
	    summary.requests, summary.duration / 1e6,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    latency.max / 1000, e.status, e.connect, e.read, e.write,
	    e.timeout))
end
