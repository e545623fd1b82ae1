package mvpapp

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Layer names a layer of the app, as spike's analysis names them.
type Layer string

// The layers of the app.
const (
	// LayerDatabase is the SQLite connection pool.
	LayerDatabase Layer = "database"
	// LayerBackend is the in-flight request limit of the app instances.
	LayerBackend Layer = "backend"
	// LayerFrontend is the static files the app serves itself.
	LayerFrontend Layer = "frontend"
	// LayerThirdParty is the rate-limited email API.
	LayerThirdParty Layer = "third-party"
	// LayerAuth is the session store.
	LayerAuth Layer = "auth"
)

// Mix is a request mix: the relative weight of each endpoint. Weights need not
// sum to 1; shares are weight/total. Written per visitor (LaunchJourneysMix),
// the weights are requests per visitor and Total is a visitor's request count.
type Mix struct {
	Home    float64 // GET /
	AppJS   float64 // GET /static/app.js
	Hero    float64 // GET /static/hero.png
	Feed    float64 // GET /api/feed
	Profile float64 // GET /api/profile/{id}
	Login   float64 // POST /api/login
	Signup  float64 // POST /api/signup

	// SessionFeed and SessionProfile are feeds and profiles sent with the
	// session cookie of a login: each also looks the session up.
	SessionFeed    float64
	SessionProfile float64
	// NotModified are static files revalidated with their ETag
	// (If-None-Match): 304, no body, no static slot.
	NotModified float64
}

// ProductHuntMix returns the mix of examples/producthunt.yaml (weights sum to 100).
func ProductHuntMix() Mix {
	return Mix{Home: 10, AppJS: 8, Hero: 4, Feed: 30, Profile: 30, Login: 12, Signup: 6}
}

// LaunchJourneysMix returns the requests of an average visitor of
// examples/launch-journeys.yaml when every visitor completes their journey
// (weights are requests per visitor; they sum to 8):
//
//	member    (3 in 4)  GET /, app.js and hero.png revalidated (304), login,
//	                    feed ×3 and their own profile with the session cookie
//	newcomer  (1 in 4)  GET /, app.js, hero.png, signup, feed ×3 and the new
//	                    profile, without a session (signup does not log in)
func LaunchJourneysMix() Mix {
	const member, newcomer = 0.75, 0.25
	return Mix{
		Home:           member + newcomer,
		NotModified:    2 * member,
		Login:          member,
		SessionFeed:    3 * member,
		SessionProfile: member,
		AppJS:          newcomer,
		Hero:           newcomer,
		Signup:         newcomer,
		Feed:           3 * newcomer,
		Profile:        newcomer,
	}
}

// Total returns the sum of the weights: the requests per visitor of a mix
// written per visitor.
func (m Mix) Total() float64 {
	return m.Home + m.AppJS + m.Hero + m.Feed + m.Profile + m.Login + m.Signup +
		m.SessionFeed + m.SessionProfile + m.NotModified
}

// share returns the mix normalised so that the weights sum to 1.
func (m Mix) share() Mix {
	t := m.Total()
	if t <= 0 {
		return Mix{}
	}
	return Mix{
		Home: m.Home / t, AppJS: m.AppJS / t, Hero: m.Hero / t, Feed: m.Feed / t, Profile: m.Profile / t,
		Login: m.Login / t, Signup: m.Signup / t,
		SessionFeed: m.SessionFeed / t, SessionProfile: m.SessionProfile / t, NotModified: m.NotModified / t,
	}
}

// Breakpoint is the total request rate of a mix at which one layer saturates.
type Breakpoint struct {
	Layer  Layer
	Rate   float64 // total req/s of the mix
	Detail string  // the arithmetic, for humans
}

// Capacities are the designed capacities of a Config, from its pool sizes, locks,
// rate limits and sleeps, under a given mix. They ignore CPU time and queueing,
// so real breakpoints are a little lower.
type Capacities struct {
	// DBQueries is the pool's throughput in queries/s: DBPool×Instances/DBLatency.
	DBQueries float64
	// DB is the number of db-bound requests/s (feed, profile and signup in the
	// mix's proportions) the pool sustains: DBQueries / queries per db-bound request.
	// With Cache it assumes a cold cache: every profile misses, the feed never.
	DB float64
	// Auth is logins/s: SessionShards/LoginCost.
	Auth float64
	// Lookups is session lookups/s without logins: SessionShards/LookupCost.
	// Logins and lookups share the shards' locks: the auth breakpoint is where
	// their lock time per second reaches SessionShards.
	Lookups float64
	// Email is synchronous signups/s: EmailRate (+Inf with Queue: the email is
	// sent in the background and the request path does not wait for it).
	Email float64
	// Static is static requests/s (/, app.js, hero.png in the mix's proportions):
	// StaticSlots / mean slot time (+Inf with CDN).
	Static float64
	// InFlight is the number of requests handled at once: MaxInFlight×Instances.
	InFlight int
	// MeanLatency is the mean request duration under the mix without queueing.
	MeanLatency time.Duration
	// Backend is the total req/s the in-flight limit allows: InFlight/MeanLatency.
	Backend float64
	// Breakpoints are the total rates of the mix at which each layer saturates,
	// lowest first. Layers that cannot saturate (email with Queue, static with
	// CDN) are left out.
	Breakpoints []Breakpoint
}

// First returns the layer that breaks first, the lowest breakpoint.
func (c Capacities) First() Breakpoint {
	if len(c.Breakpoints) == 0 {
		return Breakpoint{}
	}
	return c.Breakpoints[0]
}

// Of returns the breakpoint of layer l, and false if l cannot saturate.
func (c Capacities) Of(l Layer) (Breakpoint, bool) {
	for _, b := range c.Breakpoints {
		if b.Layer == l {
			return b, true
		}
	}
	return Breakpoint{}, false
}

// Capacity returns the designed capacities of c under ProductHuntMix.
//
// With DefaultConfig:
//
//	database    4 conns / 70 ms = 57.1 queries/s; the mix needs 0.3×2 + 0.3×1 + 0.06×1 = 0.96 queries per request → R = 59.5
//	third-party 6 emails/s; signups are 6% → R = 100
//	auth        1 lock / 70 ms = 14.3 logins/s; logins are 12% → R = 119
//	frontend    1 slot; 0.1×0.7 ms + 0.08×16 ms + 0.04×120 ms = 6.2 ms per request → R ≈ 162
//	backend     128 slots / 91 ms mean request → R ≈ 1,410
func (c Config) Capacity() Capacities { return c.CapacityUnder(ProductHuntMix()) }

// JourneyCapacity returns the designed capacities of c under
// LaunchJourneysMix, in req/s; a visitor makes LaunchJourneysMix().Total() = 8
// requests, so visitors/s are the rates divided by 8.
//
// With DefaultConfig (V is visitors/s):
//
//	database    57.1 queries/s; a visitor needs 3 feeds × 2 + 1 profile + 0.25 signup = 7.25 queries → V = 7.9  (R = 63)
//	auth        1 lock; a visitor holds it 0.75 × (70 ms login + 4 × 10 ms lookups) = 82.5 ms     → V = 12.1 (R = 97)
//	third-party 6 emails/s; 0.25 signups per visitor                                            → V = 24   (R = 192)
//	frontend    1 slot; 0.7 ms + 0.25 × (16 + 120) ms = 34.7 ms per visitor (members get 304s)  → V = 28.8 (R = 231)
//	backend     128 slots / 83 ms mean request                                                  → V ≈ 193
//
// With the cache fix the feeds cost no query and a visitor needs 1 profile
// (a cold cache: each visitor reads a different one) + 0.25 signup = 1.25
// queries: the database moves to V = 45.7, and the session store, at V = 12.1,
// breaks first. The sessions fix (32 shards) moves auth to V = 388.
func (c Config) JourneyCapacity() Capacities { return c.CapacityUnder(LaunchJourneysMix()) }

// CapacityUnder returns the designed capacities of c under the mix m.
func (c Config) CapacityUnder(m Mix) Capacities {
	s := m.share()
	inf := math.Inf(1)
	var out Capacities

	// Database: connection-seconds per request of the mix.
	feedQ, profileQ := 2.0, 1.0
	if c.Cache {
		feedQ = 0 // one miss per FeedTTL, whatever the rate
	}
	feeds, profiles := s.Feed+s.SessionFeed, s.Profile+s.SessionProfile
	dbQPerReq := feeds*feedQ + profiles*profileQ + s.Signup*1
	dbBound := feeds + profiles + s.Signup
	out.DBQueries = rate(float64(c.dbPool()), c.DBLatency)
	out.DB = inf
	if dbQPerReq > 0 {
		out.DB = out.DBQueries * dbBound / dbQPerReq
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerDatabase, out.DBQueries / dbQPerReq,
			fmt.Sprintf("%d conns / %s = %.1f queries/s; %.3f queries per request", c.dbPool(), c.DBLatency, out.DBQueries, dbQPerReq)})
	}

	// Third-party: the email rate limit, on the request path only without a queue.
	out.Email = inf
	if !c.Queue {
		out.Email = c.EmailRate
		if s.Signup > 0 {
			out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerThirdParty, c.EmailRate / s.Signup,
				fmt.Sprintf("%.1f emails/s; signups are %.0f%%", c.EmailRate, 100*s.Signup)})
		}
	}

	// Auth: each shard's lock serves 1/LoginCost logins/s or 1/LookupCost
	// lookups/s; logins and lookups share it.
	out.Auth = rate(float64(c.SessionShards), c.LoginCost)
	out.Lookups = rate(float64(c.SessionShards), c.LookupCost)
	lookups := s.SessionFeed + s.SessionProfile
	lockPerReq := s.Login*c.LoginCost.Seconds() + lookups*c.LookupCost.Seconds()
	switch {
	case lookups == 0 && s.Login > 0:
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerAuth, out.Auth / s.Login,
			fmt.Sprintf("%d lock(s) / %s = %.1f logins/s; logins are %.0f%%", c.SessionShards, c.LoginCost, out.Auth, 100*s.Login)})
	case lockPerReq > 0:
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerAuth, float64(c.SessionShards) / lockPerReq,
			fmt.Sprintf("%d lock(s); %.1f lock-ms per request: logins %.1f%% × %s, lookups %.1f%% × %s",
				c.SessionShards, 1000*lockPerReq, 100*s.Login, c.LoginCost, 100*lookups, c.LookupCost)})
	}

	// Frontend: slot-seconds per request of the mix.
	home, js, hero := c.staticCost(homeHTMLSize), c.staticCost(appJSSize), c.staticCost(heroPNGSize)
	slotPerReq := s.Home*home.Seconds() + s.AppJS*js.Seconds() + s.Hero*hero.Seconds()
	staticShare := s.Home + s.AppJS + s.Hero
	out.Static = inf
	if slotPerReq > 0 {
		out.Static = float64(c.StaticSlots) * staticShare / slotPerReq
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerFrontend, float64(c.StaticSlots) / slotPerReq,
			fmt.Sprintf("%d slot(s); %.1f slot-ms per request", c.StaticSlots, 1000*slotPerReq)})
	}

	// Backend: Little's law, in-flight slots over the mean request duration.
	email := c.EmailLatency
	if c.Queue {
		email = 0
	}
	feedDB, profileDB := 2*c.DBLatency, c.DBLatency
	if c.Cache {
		feedDB, profileDB = 0, 0 // a warm cache
	}
	mean := s.Home*home.Seconds() + s.AppJS*js.Seconds() + s.Hero*hero.Seconds() +
		s.Feed*feedDB.Seconds() + s.Profile*profileDB.Seconds() +
		s.SessionFeed*(feedDB+c.LookupCost).Seconds() + s.SessionProfile*(profileDB+c.LookupCost).Seconds() +
		s.Login*c.LoginCost.Seconds() + s.Signup*(c.DBLatency+email).Seconds() +
		s.Total()*c.AppLatency.Seconds()
	out.InFlight = c.maxInFlight()
	out.MeanLatency = time.Duration(mean * float64(time.Second))
	out.Backend = inf
	if mean > 0 {
		out.Backend = float64(out.InFlight) / mean
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerBackend, out.Backend,
			fmt.Sprintf("%d slots / %.0f ms mean request", out.InFlight, 1000*mean)})
	}

	slices.SortStableFunc(out.Breakpoints, func(a, b Breakpoint) int {
		switch {
		case a.Rate < b.Rate:
			return -1
		case a.Rate > b.Rate:
			return 1
		}
		return 0
	})
	return out
}

// rate is n units of work per d, in units/s; +Inf if d is zero.
func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return math.Inf(1)
	}
	return n / d.Seconds()
}

// Describe returns a human-readable, multi-line summary of c: its switches, the
// designed capacity of each layer and where each breaks under ProductHuntMix.
func (c Config) Describe() string {
	var b strings.Builder
	capa := c.Capacity()
	var fixes []string
	for _, f := range Fixes() {
		if c.WithFixes(f) == c {
			fixes = append(fixes, string(f))
		}
	}
	fixText := "none"
	if len(fixes) > 0 {
		fixText = strings.Join(fixes, ", ")
	}
	fmt.Fprintf(&b, "mvpapp: %d users, %d posts; fixes: %s\n", c.Users, c.Posts, fixText)
	fmt.Fprintf(&b, "  database    pool %d × %d instance(s), %s per query, wait %s: %.1f queries/s\n",
		c.DBPool, c.Instances, c.DBLatency, c.DBWait, capa.DBQueries)
	cache := "off"
	if c.Cache {
		cache = fmt.Sprintf("feed %s, profile %s", c.FeedTTL, c.ProfileTTL)
	}
	fmt.Fprintf(&b, "  cache       %s\n", cache)
	fmt.Fprintf(&b, "  auth        %d shard(s), %s per login, %s per session lookup, wait %s: %.1f logins/s or %.1f lookups/s\n",
		c.SessionShards, c.LoginCost, c.LookupCost, c.AuthWait, capa.Auth, capa.Lookups)
	mode := "synchronous"
	if c.Queue {
		mode = fmt.Sprintf("queued (%d)", c.QueueSize)
	}
	fmt.Fprintf(&b, "  email       %.1f/s (burst %d), %s per call, %s\n", c.EmailRate, c.EmailBurst, c.EmailLatency, mode)
	if c.CDN {
		fmt.Fprintf(&b, "  static      behind a CDN (cached, compressed, WebP hero)\n")
	} else {
		fmt.Fprintf(&b, "  static      %d slot(s) at %.1f MB/s, wait %s: hero.png %s, app.js %s\n",
			c.StaticSlots, float64(c.StaticBandwidth)/1e6, c.StaticWait,
			c.staticCost(heroPNGSize).Round(time.Millisecond), c.staticCost(appJSSize).Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "  in flight   %d × %d instance(s), app time %s\n", c.MaxInFlight, c.Instances, c.AppLatency)
	fmt.Fprintf(&b, "breakpoints under the ProductHunt mix (total req/s, baseline 20):\n")
	for _, bp := range capa.Breakpoints {
		fmt.Fprintf(&b, "  %-11s %7.1f  (%.1f× baseline; %s)\n", bp.Layer, bp.Rate, bp.Rate/20, bp.Detail)
	}
	return b.String()
}
