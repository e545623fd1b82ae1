// Package mvpapp is a small but real web app with a typical MVP architecture,
// built as a target for spike: its layers break in a known order under load.
//
// Every capacity comes from a pool size, a lock, a rate limit or a sleep, never
// from CPU work, so the order holds on a busy two-core machine.
//
// # Endpoints
//
//	GET  /                    HTML page (links app.js and hero.png)          frontend
//	GET  /static/app.js       48 kB unminified script                        frontend
//	GET  /static/hero.png     ≈361 kB uncompressed PNG                       frontend
//	GET  /api/feed            20 newest posts + a count: 2 queries           database
//	GET  /api/profile/{id}    one user (404 if unknown): 1 query             database
//	POST /api/login           {"user":"u123","password":"password"}          auth
//	                          200 {"user":"u123","id":123} + session cookie,
//	                          401 for bad credentials
//	POST /api/signup          {"user":"ann","email":"ann@example.com"}       database + third-party
//	                          1 insert, then the welcome email: 201 (202 with the queue fix)
//	GET  /api/me              the session's user (cookie from login)         auth
//	GET  /healthz             "ok", outside the in-flight limit
//
// # Sessions
//
// A login stores a session and sets the cookie mvp_session (HttpOnly, Path=/).
// The feed and profiles are public, but a request that sends the cookie has
// its session looked up first, as a logged-in visitor's would: an unknown or
// expired session is answered 401 ("session mvp_session="3f2a91…" unknown or
// expired: log in again"), and each lookup holds the session shard's lock for
// LookupCost, like a login holds it for LoginCost. Requests without the cookie,
// as in every request-mix scenario, never touch the session store, so their
// capacities do not change; journeys (examples/launch-journeys.yaml) carry
// the cookie from login to the next steps and load the store with lookups.
//
// Static files carry a weak ETag (HomeETag, AppJSETag, HeroETag): a request
// that sends it back in If-None-Match gets 304 Not Modified with no body and
// no static slot, as a returning visitor's browser revalidating its cache.
//
// The database is SQLite (modernc.org/sqlite, pure Go) in a temporary file in
// WAL mode, so that readers run in parallel with the one writer; Close removes
// it. Seeded users are u1 … uN with password SeedPassword.
//
// Every response carries a Server-Timing header: db, auth and ext durations for
// the components used, cache;desc=hit|miss on the feed and profiles, and app,
// the handler's total time (ms, one decimal).
//
// # How each layer breaks
//
//	layer        limit                                        answer when it breaks
//	database     DBPool conns, each query holds one DBLatency  503 "database pool exhausted: no connection within 1s (pool 4)"
//	auth         one lock per session shard, LoginCost held    503 "session store busy: lock not acquired within 1s"
//	third-party  EmailRate calls/s token bucket                502 "email provider: 429 Too Many Requests"
//	frontend     StaticSlots at StaticBandwidth bytes/s        slow static files, then 503 "static server busy"
//	backend      MaxInFlight requests at once                  503 "server overloaded: N requests in flight"
//
// # Designed capacities
//
// Under the ProductHunt mix (weights: / 10, app.js 8, hero.png 4, feed 30,
// profile 30, login 12, signup 6; baseline 20 req/s), DefaultConfig breaks at
// these total rates:
//
//	database     4 conns / 70 ms = 57.1 queries/s; 0.3×2 + 0.3 + 0.06 = 0.96 queries/request   R ≈ 60   (3×)
//	third-party  6 emails/s; signups are 6%                                               R = 100  (5×)
//	auth         1 lock / 70 ms = 14.3 logins/s; logins are 12%                            R ≈ 119  (6×)
//	frontend     1 slot at 3 MB/s; 6.2 slot-ms per request                                 R ≈ 162  (8.1×)
//	backend      128 slots / 91 ms mean request                                            R ≈ 1410 (70×)
//
// At baseline the slowest common request, a synchronous signup, takes ≈220 ms
// and the feed ≈140 ms, so p95 stays well under 500 ms.
//
// The fixes (Config.WithFixes) move the breakpoints:
//
//	cache     feed and profiles served from memory (TTL 1 min and 5 min); even with a
//	          cold cache the database only sees profiles and signups: R ≈ 159, so the
//	          email limit (R = 100) breaks first, 1.7× later than without the cache
//	cdn       static files cached, compressed and smaller, no slot cost: frontend never breaks
//	queue     signup answers 202 and the email is sent in the background: third-party never
//	          breaks the request path
//	sessions  32 session shards: auth at R ≈ 3,800
//	scale     4 instances: 4× the database pool and the in-flight slots
//
// Under the launch journeys (LaunchJourneysMix: 8 requests per visitor, 3 in 4
// visitors log in and read the feed three times and a profile with their
// session; see Config.JourneyCapacity), DefaultConfig breaks at these visitor
// rates:
//
//	database     7.25 queries per visitor                                        V ≈ 7.9/s
//	auth         0.75 × (70 ms login + 4 × 10 ms lookups) = 82.5 lock-ms/visitor  V ≈ 12.1/s
//	third-party  0.25 signups per visitor                                        V = 24/s
//	frontend     34.7 slot-ms per visitor (members revalidate: 304)              V ≈ 28.8/s
//
// With the cache fix the database needs 1.25 queries per visitor (V ≈ 45.7/s)
// and the session store breaks first.
//
// EmailWeakest, SessionsWeakest and InFlightWeakest are configs where one other
// layer breaks first, at about 2× baseline (R ≈ 40), with the rest at R ≥ 100.
// Config.Capacity computes all of this from the fields.
package mvpapp
