-- dpop.lua: wrk script for bench/run.sh's DPoP figure: the peers' bench.lua (BENCH_LUA: its token
-- request, POST with HTTP Basic and grant_type=client_credentials&scope=read%20write, and its
-- RESULT line), with each request built by request(). With PROOFS (a file of DPoP proofs, one per
-- line, from `bench/mgmt.py proofs`) each request carries the next proof in a DPoP header; without
-- PROOFS the requests are the same but carry none, so the "off" side pays the same per-request Lua
-- cost. A proof is accepted once: when the file runs out, requests reuse proofs and get 400
-- (counted as non2xx, never as tokens). One wrk thread (-t1): each thread would read the file.
-- Env: BENCH_LUA, PROOFS, and bench.lua's CLIENT_ID, CLIENT_SECRET.
dofile(os.getenv("BENCH_LUA"))

local proofs, next_proof = {}, 0
local file = os.getenv("PROOFS")
if file and file ~= "" then
  for line in io.lines(file) do proofs[#proofs + 1] = line end
end

function request()
  if #proofs > 0 then
    next_proof = next_proof % #proofs + 1
    wrk.headers["DPoP"] = proofs[next_proof]
  end
  return wrk.format()
end
