package mvpapp

import (
	"fmt"
	"strings"
	"time"
)

// SeedPassword is the password of every seeded user (u1 … uN).
const SeedPassword = "password"

// Config describes an App: the size of its data and the capacity of each layer.
//
// Every capacity comes from a pool size, a lock, a rate limit or a sleep, never from
// CPU work, so it holds on a busy machine. The numbers in brackets are the defaults
// (DefaultConfig) and the capacity they imply; "R" is the total request rate of the
// ProductHunt mix (see ProductHuntMix), baseline R = 20 req/s.
//
// The zero Config is not valid: start from DefaultConfig or one of the *Weakest
// functions and change fields.
type Config struct {
	// Users is the number of seeded users, named u1 … uN, all with password
	// SeedPassword. [2,000]
	Users int
	// Posts is the number of seeded posts, spread over the last 30 days. [20,000]
	Posts int

	// DBPool is the number of database connections per instance (SetMaxOpenConns).
	// With DBLatency it makes the database capacity: DBPool×Instances/DBLatency
	// queries/s. [4 → 4/70 ms ≈ 57 queries/s ≈ 40 db-bound requests/s under the
	// ProductHunt mix, which needs 0.96 queries per request: breaks at R ≈ 60]
	DBPool int
	// DBLatency is how long each query holds its connection before it runs,
	// standing for the network round trip to a remote database. The feed runs two
	// queries, a profile or a signup one. [70 ms]
	DBLatency time.Duration
	// DBWait is how long a request waits for a free connection before it answers
	// 503 "database pool exhausted". [1 s]
	DBWait time.Duration

	// LoginCost is the time a login holds its session-store lock (session write,
	// token signing), so one lock serves 1/LoginCost logins/s.
	// [70 ms → 14.3 logins/s; login is 12% of the mix: breaks at R ≈ 119]
	LoginCost time.Duration
	// AuthWait is how long a login waits for the session-store lock before it
	// answers 503 "session store busy". [1 s]
	AuthWait time.Duration
	// SessionShards is the number of independently locked session-store shards;
	// login capacity is SessionShards/LoginCost. [1; the sessions fix makes it 32]
	SessionShards int
	// LookupCost is the time a session lookup holds its shard's lock (session
	// read, expiry check). Only requests that send the session cookie look it up:
	// the feed and profiles sent by a logged-in visitor, and /api/me. Traffic
	// without the cookie never pays it. [10 ms → 100 lookups/s per shard; under
	// the launch journeys (LaunchJourneysMix) a member's login and four lookups
	// hold the lock 110 ms: auth breaks at 12.1 visitors/s]
	LookupCost time.Duration

	// EmailRate is the third-party email API's rate limit, in calls/s (a token
	// bucket of EmailBurst tokens). Above it the provider answers 429, which a
	// synchronous signup passes on as 502. [6/s; signup is 6% of the mix: breaks
	// at R ≈ 100]
	EmailRate float64
	// EmailBurst is the size of the provider's token bucket. [6]
	EmailBurst int
	// EmailLatency is the duration of one call to the email API. [150 ms]
	EmailLatency time.Duration
	// Queue makes signup put the email on a bounded queue and answer 202 at once;
	// background workers send it within the rate limit, retrying 429s with
	// exponential backoff. [false; the queue fix sets it]
	Queue bool
	// QueueSize bounds the email queue; when full, signup answers 503. [1,000]
	QueueSize int

	// StaticSlots is the number of static files (/, app.js, hero.png) the app sends
	// at once, standing for its disk and uplink. [1]
	StaticSlots int
	// StaticBandwidth is the speed of one static slot in bytes/s: a response holds
	// its slot for size/StaticBandwidth. [3,000,000 → hero.png (≈361 kB) 120 ms,
	// app.js (48 kB) 16 ms; 6.2 slot-ms per mix request: breaks at R ≈ 162]
	StaticBandwidth int
	// StaticWait is how long a static request waits for a slot before it answers
	// 503 "static server busy". [1 s]
	StaticWait time.Duration
	// CDN stands for a CDN in front of the static files: long-lived Cache-Control,
	// gzip, a small image/webp hero, X-Cache/Age markers and no slot or bandwidth
	// cost. [false; the cdn fix sets it]
	CDN bool

	// Cache keeps hot reads in process: the database is only asked on a miss.
	// [false; the cache fix sets it]
	Cache bool
	// FeedTTL is how long a cached feed lives. [1 min]
	FeedTTL time.Duration
	// ProfileTTL is how long a cached profile lives. [5 min]
	ProfileTTL time.Duration

	// MaxInFlight is the number of requests one instance handles at once; past
	// it, it answers 503 "server overloaded" at once (/healthz is exempt).
	// Capacity is MaxInFlight×Instances divided by the mean request duration.
	// [128; ≈91 ms mean under the mix: breaks at R ≈ 1,410, last]
	MaxInFlight int
	// AppLatency is a fixed time every request (but /healthz) spends in the app
	// itself, holding its in-flight slot: rendering, serialisation, middleware. [0]
	AppLatency time.Duration
	// Instances is the number of app instances behind a load balancer; it
	// multiplies DBPool and MaxInFlight. [1; the scale fix makes it 4]
	Instances int
}

// DefaultConfig returns the default configuration. Under the ProductHunt mix
// (baseline 20 req/s) its layers break in this order: database at R ≈ 60 (3×),
// third-party email at R ≈ 100 (5×), auth at R ≈ 119 (6×), frontend at R ≈ 162
// (8.1×), backend in-flight limit at R ≈ 1,410. With the cache fix the database
// moves to R ≈ 159 and the email limit (R ≈ 100) breaks first.
func DefaultConfig() Config {
	return Config{
		Users:           2000,
		Posts:           20000,
		DBPool:          4,
		DBLatency:       70 * time.Millisecond,
		DBWait:          time.Second,
		LoginCost:       70 * time.Millisecond,
		AuthWait:        time.Second,
		SessionShards:   1,
		LookupCost:      10 * time.Millisecond,
		EmailRate:       6,
		EmailBurst:      6,
		EmailLatency:    150 * time.Millisecond,
		QueueSize:       1000,
		StaticSlots:     1,
		StaticBandwidth: 3_000_000,
		StaticWait:      time.Second,
		FeedTTL:         time.Minute,
		ProfileTTL:      5 * time.Minute,
		MaxInFlight:     128,
		Instances:       1,
	}
}

// EmailWeakest returns a Config whose third-party email limit breaks first, at
// about 2× baseline: EmailRate 2.4/s (signups are 6% of the mix, so R ≈ 40).
// The database pool is 12 (R ≈ 179); auth (R ≈ 119), frontend (R ≈ 162) and
// backend stay as in DefaultConfig.
func EmailWeakest() Config {
	c := DefaultConfig()
	c.DBPool = 12
	c.EmailRate = 2.4
	c.EmailBurst = 3
	return c
}

// SessionsWeakest returns a Config whose session store breaks first, at about 2×
// baseline: LoginCost 200 ms gives 5 logins/s (logins are 12% of the mix, so
// R ≈ 41.7). The database pool is 12 (R ≈ 179); email (R ≈ 100), frontend
// (R ≈ 162) and backend stay as in DefaultConfig.
func SessionsWeakest() Config {
	c := DefaultConfig()
	c.DBPool = 12
	c.LoginCost = 200 * time.Millisecond
	return c
}

// InFlightWeakest returns a Config whose in-flight limit (the backend) breaks
// first, at about 2× baseline: every request spends AppLatency 150 ms in the app,
// the mean request takes ≈241 ms, and MaxInFlight 10 allows R ≈ 41.5. The database
// pool is 12 (R ≈ 179); email (R ≈ 100), auth (R ≈ 119) and frontend (R ≈ 162)
// stay as in DefaultConfig.
func InFlightWeakest() Config {
	c := DefaultConfig()
	c.DBPool = 12
	c.AppLatency = 150 * time.Millisecond
	c.MaxInFlight = 10
	return c
}

// Fix names one remedy from the fix order; Config.WithFixes switches it on.
type Fix string

// The fixes, each standing for a step of the fix order.
const (
	// FixCDN puts a CDN in front of static files (Config.CDN).
	FixCDN Fix = "cdn"
	// FixCache caches hot reads in process (Config.Cache).
	FixCache Fix = "cache"
	// FixQueue sends signup emails from a queue (Config.Queue).
	FixQueue Fix = "queue"
	// FixSessions shards the session store (Config.SessionShards = ShardedSessions).
	FixSessions Fix = "sessions"
	// FixScale runs ScaledInstances instances (Config.Instances).
	FixScale Fix = "scale"
)

// ShardedSessions is the number of session-store shards the sessions fix sets.
const ShardedSessions = 32

// ScaledInstances is the number of instances the scale fix sets.
const ScaledInstances = 4

// Fixes returns every Fix, in the order they are usually applied.
func Fixes() []Fix {
	return []Fix{FixCDN, FixCache, FixQueue, FixSessions, FixScale}
}

// ParseFixes parses a comma-separated list of fixes such as "cache,cdn". Spaces
// around names are ignored, as are empty items; repeated fixes are kept once.
// An empty string gives no fixes.
func ParseFixes(s string) ([]Fix, error) {
	var out []Fix
	seen := make(map[Fix]bool)
	for _, part := range strings.Split(s, ",") {
		name := strings.ToLower(strings.TrimSpace(part))
		if name == "" {
			continue
		}
		f := Fix(name)
		if !f.valid() {
			return nil, fmt.Errorf("parse fixes: unknown fix %q; valid fixes: %s", name, fixList())
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

func (f Fix) valid() bool {
	for _, v := range Fixes() {
		if f == v {
			return true
		}
	}
	return false
}

func fixList() string {
	names := make([]string, 0, len(Fixes()))
	for _, f := range Fixes() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// WithFixes returns a copy of c with the given fixes switched on. It is
// idempotent: applying a fix twice is the same as once. Unknown fixes are
// ignored (ParseFixes rejects them).
func (c Config) WithFixes(fixes ...Fix) Config {
	for _, f := range fixes {
		switch f {
		case FixCDN:
			c.CDN = true
		case FixCache:
			c.Cache = true
		case FixQueue:
			c.Queue = true
		case FixSessions:
			c.SessionShards = max(c.SessionShards, ShardedSessions)
		case FixScale:
			c.Instances = max(c.Instances, ScaledInstances)
		}
	}
	return c
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	type check struct {
		name string
		ok   bool
		val  any
	}
	checks := []check{
		{"Users", c.Users > 0, c.Users},
		{"Posts", c.Posts >= 0, c.Posts},
		{"DBPool", c.DBPool > 0, c.DBPool},
		{"DBLatency", c.DBLatency >= 0, c.DBLatency},
		{"DBWait", c.DBWait > 0, c.DBWait},
		{"LoginCost", c.LoginCost >= 0, c.LoginCost},
		{"AuthWait", c.AuthWait > 0, c.AuthWait},
		{"SessionShards", c.SessionShards > 0, c.SessionShards},
		{"LookupCost", c.LookupCost >= 0, c.LookupCost},
		{"EmailRate", c.EmailRate > 0, c.EmailRate},
		{"EmailBurst", c.EmailBurst > 0, c.EmailBurst},
		{"EmailLatency", c.EmailLatency >= 0, c.EmailLatency},
		{"QueueSize", c.QueueSize > 0, c.QueueSize},
		{"StaticSlots", c.StaticSlots > 0, c.StaticSlots},
		{"StaticBandwidth", c.StaticBandwidth > 0, c.StaticBandwidth},
		{"StaticWait", c.StaticWait > 0, c.StaticWait},
		{"FeedTTL", c.FeedTTL > 0, c.FeedTTL},
		{"ProfileTTL", c.ProfileTTL > 0, c.ProfileTTL},
		{"MaxInFlight", c.MaxInFlight > 0, c.MaxInFlight},
		{"AppLatency", c.AppLatency >= 0, c.AppLatency},
		{"Instances", c.Instances > 0, c.Instances},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("mvpapp config: %s out of range, got %v", ch.name, ch.val)
		}
	}
	return nil
}

// dbPool is the number of connections across all instances.
func (c Config) dbPool() int { return c.DBPool * c.Instances }

// maxInFlight is the number of in-flight slots across all instances.
func (c Config) maxInFlight() int { return c.MaxInFlight * c.Instances }

// staticCost is how long a body of n bytes holds a static slot.
func (c Config) staticCost(n int) time.Duration {
	if c.CDN {
		return 0
	}
	return time.Duration(float64(n) / float64(c.StaticBandwidth) * float64(time.Second))
}
