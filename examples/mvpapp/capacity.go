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
// sum to 1; shares are weight/total.
type Mix struct {
	Home    float64 // GET /
	AppJS   float64 // GET /static/app.js
	Hero    float64 // GET /static/hero.png
	Feed    float64 // GET /api/feed
	Profile float64 // GET /api/profile/{id}
	Login   float64 // POST /api/login
	Signup  float64 // POST /api/signup
}

// ProductHuntMix returns the mix of examples/producthunt.yaml (weights sum to 100).
func ProductHuntMix() Mix {
	return Mix{Home: 10, AppJS: 8, Hero: 4, Feed: 30, Profile: 30, Login: 12, Signup: 6}
}

func (m Mix) total() float64 {
	return m.Home + m.AppJS + m.Hero + m.Feed + m.Profile + m.Login + m.Signup
}

// share returns the mix normalised so that the weights sum to 1.
func (m Mix) share() Mix {
	t := m.total()
	if t <= 0 {
		return Mix{}
	}
	return Mix{m.Home / t, m.AppJS / t, m.Hero / t, m.Feed / t, m.Profile / t, m.Login / t, m.Signup / t}
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
	dbQPerReq := s.Feed*feedQ + s.Profile*profileQ + s.Signup*1
	dbBound := s.Feed + s.Profile + s.Signup
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

	// Auth: each shard's lock serves 1/LoginCost logins/s.
	out.Auth = rate(float64(c.SessionShards), c.LoginCost)
	if s.Login > 0 {
		out.Breakpoints = append(out.Breakpoints, Breakpoint{LayerAuth, out.Auth / s.Login,
			fmt.Sprintf("%d lock(s) / %s = %.1f logins/s; logins are %.0f%%", c.SessionShards, c.LoginCost, out.Auth, 100*s.Login)})
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
		s.Login*c.LoginCost.Seconds() + s.Signup*(c.DBLatency+email).Seconds() +
		(s.Home+s.AppJS+s.Hero+s.Feed+s.Profile+s.Login+s.Signup)*c.AppLatency.Seconds()
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
	fmt.Fprintf(&b, "  auth        %d shard(s), %s per login, wait %s: %.1f logins/s\n",
		c.SessionShards, c.LoginCost, c.AuthWait, capa.Auth)
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
