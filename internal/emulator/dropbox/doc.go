// Package dropbox is an emulator of the Dropbox Team API v2: the member,
// group and team routes a provisioning tool uses, with faithful shapes and
// errors (.tag unions, plain-text 400s, JSON 401/409 envelopes with
// error_summary, scopes per route), per-team state, async jobs, cursor
// paging, an OAuth 2 authorization-code pair, fault injection, and a separate
// admin endpoint under /_emulator/ to seed and inspect state.
//
// It shares no code with Roster's connector: the two are independent readings
// of docs/dropbox-team-api.md (“the reference”) and test each other.
//
// # Use
//
//	srv, err := dropbox.New(dropbox.Options{Teams: []dropbox.TeamConfig{{Name: "acme", Token: "tok"}}})
//	defer srv.Close()
//	http.ListenAndServe("127.0.0.1:8765", srv)
//
// In tests, StartTest runs it on a loopback port for the life of the test.
// From the command line: roster emulate dropbox --addr 127.0.0.1:8765 --token tok.
//
// # Fault spec
//
// Faults are set with --faults, Options.Faults (or ParseFaults), or
// PUT /_emulator/faults. The compact form is a comma-separated list of
// key=value pairs; unknown keys are an error:
//
//	spec    = [ pair { "," pair } ]
//	pair    = key "=" value
//	latency=5ms          fixed delay before every Team API call (Go duration)
//	jitter=20ms          extra random delay, uniform in [0, jitter)
//	rate429=0.05         share (0..1) of calls answered 429 too_many_requests
//	plain429=0.5         share of those injected 429s with a plain-text body instead of JSON
//	retry_after=2        Retry-After seconds of injected 429s (default 1)
//	rate5xx=0.02         share of calls answered 500 or 503 (503 carries Retry-After)
//	code5xx=503          always use this status for injected 5xx (default: 500 and 503 alternate at random)
//	lost=0.01            share of write calls whose change is committed but whose
//	                     connection is then closed without any answer
//	writes_per_sec=100   per-team write budget (token bucket); a write over it gets
//	                     429 with Retry-After; the bucket holds write_burst tokens
//	write_burst=10       bucket size (default: max(1, writes_per_sec))
//	routes=a|b           limit rate429, rate5xx and lost to these routes
//	                     (e.g. routes=members/add_v2|members/remove); default all
//	async_add=10         add_v2 batches of at least this many members answer with
//	                     an async_job_id (force_async always does); 0: only when forced
//	job_polls=2          async jobs answer in_progress this many times before complete
//	job_fail=0.1         share of async jobs that end in internal_error (the change is made)
//	seed=42              random seed, for repeatable runs (0: random)
//
// Example: latency=5ms,rate429=0.05,rate5xx=0.02,lost=0.01,writes_per_sec=100,seed=42
//
// Injected 429s and 5xx are answered before the call touches state; rejected
// calls do not consume write budget, so a client that honours Retry-After
// gets through on its next attempt.
//
// # Counters
//
// Each team counts the calls its tokens make (Stats: calls in all and per
// route, writes, 429s with those of the write budget apart, 5xx, lost
// answers, the most calls and writes in any sliding second of wall time,
// and the calls that arrived inside a Retry-After the team was given). Read them with Team.Stats or Server.Stats in-process, or over HTTP
// (GET /_emulator/stats, GET /_emulator/teams/{team}/stats), from another
// process most simply with AdminClient.
//
// # State file
//
// With Options.StateFile, state (teams, members, groups, files, jobs, tokens,
// OAuth clients, the clock offset) is loaded at start and written as JSON,
// atomically (temporary file, fsync, rename, fsync of the directory), at most
// Options.SaveInterval after a change and again by Close. Because Close runs
// after the HTTP server has drained (http.Server.Shutdown waits for running
// handlers), every write that was answered is in the file after a clean stop;
// a crash loses at most the last SaveInterval of changes.
//
// # Concurrency
//
// Each team has its own mutex, held for the whole of one API call, so calls
// on one team are serialised and calls on different teams run in parallel.
// Members are indexed by team_member_id, lower-cased email, external id and
// persistent id; list paging and add_v2 cost O(page) and O(batch).
package dropbox
