"""`make bench`: cold start, warm latency, reset cost, scale and throughput, each next to its floor.

Figures are medians with a spread (p10-p90 for cold starts, p99 for latencies). The database is an
embedded PostgreSQL in a scratch folder unless BENCH_DATABASE_URL names one (it must be a database
the benchmark may fill and wipe, on a server that lets it create a second one and a login; the
routes connect as that login, squelch_app, or as BENCH_RUNTIME_URL). BENCH_QUICK=1 runs fewer
iterations; BENCH_SECONDS sets the load; BENCH_BASELINE=<git revision> also times the cold starts of
the layer's package and the functions as they were at that revision, round by round beside today's.

One module per kind of measurement: common (settings, statistics, events), cold (cold starts and
where the init goes), database (preparing the database), warm (in-process latency next to the
replayed SQL), server (the local server and its throughput), reset, sandboxes (creating and
resetting sandboxes; the routes with 200 of them), scale (the large database and its plans), report
(the Markdown tables); __main__ runs them in order.
"""
