-- handshake.lua: wrk script for bench/run.sh's TLS handshake figure: GET /healthz with
-- "Connection: close", so that every request opens a new connection and makes a full TLS
-- handshake (wrk resumes no session). Prints the RESULT line of the peers' bench.lua (BENCH_LUA).
dofile(os.getenv("BENCH_LUA"))
wrk.method = "GET"
wrk.body = nil
wrk.headers = { ["Connection"] = "close" }
