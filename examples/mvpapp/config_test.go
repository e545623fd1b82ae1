package mvpapp

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []Fix
		wantErr string
	}{
		{in: "", want: nil},
		{in: "cache", want: []Fix{FixCache}},
		{in: "cache,cdn", want: []Fix{FixCache, FixCDN}},
		{in: " CDN , queue ,sessions,scale ", want: []Fix{FixCDN, FixQueue, FixSessions, FixScale}},
		{in: "cache,,cache", want: []Fix{FixCache}},
		{in: "cache,bogus", wantErr: `unknown fix "bogus"; valid fixes: cdn, cache, queue, sessions, scale`},
		{in: "caching", wantErr: `unknown fix "caching"`},
	}
	for _, tt := range tests {
		got, err := ParseFixes(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFixes(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFixes(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
	}
}

func TestConfig_WithFixes(t *testing.T) {
	t.Parallel()
	base := DefaultConfig()
	tests := []struct {
		fix  Fix
		want func(Config) Config
	}{
		{FixCDN, func(c Config) Config { c.CDN = true; return c }},
		{FixCache, func(c Config) Config { c.Cache = true; return c }},
		{FixQueue, func(c Config) Config { c.Queue = true; return c }},
		{FixSessions, func(c Config) Config { c.SessionShards = ShardedSessions; return c }},
		{FixScale, func(c Config) Config { c.Instances = ScaledInstances; return c }},
		{Fix("bogus"), func(c Config) Config { return c }},
	}
	for _, tt := range tests {
		want := tt.want(base)
		if got := base.WithFixes(tt.fix); got != want {
			t.Errorf("WithFixes(%s) = %+v; want %+v", tt.fix, got, want)
		}
		if got := base.WithFixes(tt.fix, tt.fix); got != want {
			t.Errorf("WithFixes(%s, %s) = %+v; want %+v (idempotent)", tt.fix, tt.fix, got, want)
		}
	}
	if base != DefaultConfig() {
		t.Errorf("WithFixes changed its receiver")
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]Config{
		"DefaultConfig":   DefaultConfig(),
		"EmailWeakest":    EmailWeakest(),
		"SessionsWeakest": SessionsWeakest(),
		"InFlightWeakest": InFlightWeakest(),
		"all fixes":       DefaultConfig().WithFixes(Fixes()...),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s.Validate() = %v; want nil", name, err)
		}
	}
	bad := DefaultConfig()
	bad.DBPool = 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "DBPool") {
		t.Errorf("Validate() with DBPool 0 = %v; want an error naming DBPool", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Errorf("New(Config{}) = nil error; want one")
	}
}

// near reports whether got is within 1% of want.
func near(got, want float64) bool { return math.Abs(got-want) <= 0.01*want }

func TestConfig_Capacity(t *testing.T) {
	t.Parallel()
	c := DefaultConfig().Capacity()
	checks := []struct {
		name      string
		got, want float64
	}{
		{"DBQueries", c.DBQueries, 4 / 0.070},
		{"DB (db-bound req/s)", c.DB, 4 / 0.070 * 0.66 / 0.96},
		{"Auth", c.Auth, 1 / 0.070},
		{"Email", c.Email, 6},
		{"InFlight", float64(c.InFlight), 128},
	}
	for _, ck := range checks {
		if !near(ck.got, ck.want) {
			t.Errorf("DefaultConfig().Capacity().%s = %.2f; want %.2f", ck.name, ck.got, ck.want)
		}
	}
	wantOrder := []struct {
		layer Layer
		rate  float64
	}{
		{LayerDatabase, 4 / 0.070 / 0.96},
		{LayerThirdParty, 6 / 0.06},
		{LayerAuth, 1 / 0.070 / 0.12},
		{LayerFrontend, 1 / (0.10*homeHTMLSize/3e6 + 0.08*appJSSize/3e6 + 0.04*heroPNGSize/3e6)},
		{LayerBackend, 128 / (0.3*0.140 + 0.3*0.070 + 0.06*0.220 + 0.12*0.070 +
			(0.10*homeHTMLSize+0.08*appJSSize+0.04*heroPNGSize)/3e6)},
	}
	if len(c.Breakpoints) != len(wantOrder) {
		t.Fatalf("DefaultConfig().Capacity().Breakpoints = %v; want %d layers", c.Breakpoints, len(wantOrder))
	}
	for i, w := range wantOrder {
		got := c.Breakpoints[i]
		if got.Layer != w.layer || !near(got.Rate, w.rate) {
			t.Errorf("Breakpoints[%d] = %s at %.1f; want %s at %.1f", i, got.Layer, got.Rate, w.layer, w.rate)
		}
	}
	// The database breaks at about 3× baseline (20 req/s).
	if r := c.First().Rate; r < 55 || r > 65 {
		t.Errorf("first breakpoint at %.1f req/s; want about 60", r)
	}
}

func TestConfig_Capacity_fixes(t *testing.T) {
	t.Parallel()
	base := DefaultConfig().Capacity()
	dbBase, _ := base.Of(LayerDatabase)
	tests := []struct {
		name      string
		cfg       Config
		first     Layer
		absent    []Layer
		check     func(Capacities) bool
		checkText string
	}{
		{
			name: "cache", cfg: DefaultConfig().WithFixes(FixCache), first: LayerThirdParty,
			check: func(c Capacities) bool {
				db, _ := c.Of(LayerDatabase)
				return c.First().Rate >= 1.5*dbBase.Rate && db.Rate >= 2.5*dbBase.Rate
			},
			checkText: "first breakpoint ≥ 1.5× and database ≥ 2.5× the default's database breakpoint",
		},
		{name: "cdn", cfg: DefaultConfig().WithFixes(FixCDN), first: LayerDatabase, absent: []Layer{LayerFrontend}},
		{name: "queue", cfg: DefaultConfig().WithFixes(FixQueue), first: LayerDatabase, absent: []Layer{LayerThirdParty}},
		{
			name: "sessions", cfg: DefaultConfig().WithFixes(FixSessions), first: LayerDatabase,
			check:     func(c Capacities) bool { return near(c.Auth, 32*base.Auth) },
			checkText: "Auth = 32× default",
		},
		{
			name: "scale", cfg: DefaultConfig().WithFixes(FixScale), first: LayerThirdParty,
			check: func(c Capacities) bool {
				return near(c.DBQueries, 4*base.DBQueries) && c.InFlight == 4*base.InFlight
			},
			checkText: "DBQueries and InFlight = 4× default",
		},
		{name: "cache+queue", cfg: DefaultConfig().WithFixes(FixCache, FixQueue), first: LayerAuth},
		{name: "cache+queue+sessions", cfg: DefaultConfig().WithFixes(FixCache, FixQueue, FixSessions), first: LayerDatabase},
	}
	for _, tt := range tests {
		c := tt.cfg.Capacity()
		if got := c.First().Layer; got != tt.first {
			t.Errorf("%s: First() = %s; want %s (%v)", tt.name, got, tt.first, c.Breakpoints)
		}
		for _, l := range tt.absent {
			if b, ok := c.Of(l); ok {
				t.Errorf("%s: Of(%s) = %v; want no breakpoint", tt.name, l, b)
			}
		}
		if tt.check != nil && !tt.check(c) {
			t.Errorf("%s: want %s; got %+v", tt.name, tt.checkText, c)
		}
	}
}

func TestConfig_Capacity_weakest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		first Layer
	}{
		{"EmailWeakest", EmailWeakest(), LayerThirdParty},
		{"SessionsWeakest", SessionsWeakest(), LayerAuth},
		{"InFlightWeakest", InFlightWeakest(), LayerBackend},
	}
	for _, tt := range tests {
		c := tt.cfg.Capacity()
		first, second := c.Breakpoints[0], c.Breakpoints[1]
		if first.Layer != tt.first || first.Rate < 36 || first.Rate > 44 {
			t.Errorf("%s().Capacity().First() = %s at %.1f; want %s at about 40 (2× baseline)",
				tt.name, first.Layer, first.Rate, tt.first)
		}
		if second.Rate < 2.2*first.Rate {
			t.Errorf("%s: second breakpoint %s at %.1f; want ≥ 2.2× the first (%.1f)",
				tt.name, second.Layer, second.Rate, first.Rate)
		}
	}
}

func TestCapacityUnder_mix(t *testing.T) {
	t.Parallel()
	// Only profiles: every request is one query.
	c := DefaultConfig().CapacityUnder(Mix{Profile: 1})
	if db, ok := c.Of(LayerDatabase); !ok || !near(db.Rate, c.DBQueries) || !near(c.DB, c.DBQueries) {
		t.Errorf("CapacityUnder(profiles only) database = %v, DB %.1f; want %.1f", db, c.DB, c.DBQueries)
	}
	if _, ok := c.Of(LayerAuth); ok {
		t.Errorf("CapacityUnder(profiles only) has an auth breakpoint; want none")
	}
	if z := DefaultConfig().CapacityUnder(Mix{}); len(z.Breakpoints) != 0 {
		t.Errorf("CapacityUnder(Mix{}).Breakpoints = %v; want none", z.Breakpoints)
	}
}

func TestConfig_Describe(t *testing.T) {
	t.Parallel()
	got := DefaultConfig().WithFixes(FixCache, FixScale).Describe()
	for _, want := range []string{
		"fixes: cache, scale",
		"pool 4 × 4 instance(s), 70ms per query, wait 1s: 228.6 queries/s",
		"feed 1m0s, profile 5m0s",
		"14.3 logins/s",
		"6.0/s (burst 6), 150ms per call, synchronous",
		"hero.png 120ms",
		"third-party   100.0  (5.0× baseline",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = \n%s\nwant it to contain %q", got, want)
		}
	}
	if got := DefaultConfig().Describe(); !strings.Contains(got, "fixes: none") {
		t.Errorf("DefaultConfig().Describe() = \n%s\nwant it to contain %q", got, "fixes: none")
	}
}

func TestAssets_sizes(t *testing.T) {
	t.Parallel()
	as, err := newAssets()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		got, want int
	}{
		{"index.html", len(as.home.body), homeHTMLSize},
		{"app.js", len(as.appJS.body), appJSSize},
		{"hero.png", len(as.hero.body), heroPNGSize},
	} {
		// hero.png's size is the PNG encoder's; allow it to drift a little.
		if math.Abs(float64(tt.got-tt.want)) > 0.01*float64(tt.want) {
			t.Errorf("len(%s) = %d; want %d", tt.name, tt.got, tt.want)
		}
	}
	if n := len(as.hero.cdnBody); n*10 > len(as.hero.body) {
		t.Errorf("CDN hero is %d bytes; want < 10%% of %d", n, len(as.hero.body))
	}
	if time.Duration(0) != DefaultConfig().WithFixes(FixCDN).staticCost(heroPNGSize) {
		t.Errorf("staticCost behind the CDN is not zero")
	}
}

func TestConfig_JourneyCapacity(t *testing.T) {
	t.Parallel()
	perVisitor := LaunchJourneysMix().Total()
	if perVisitor != 8 {
		t.Fatalf("LaunchJourneysMix().Total() = %v; want 8 requests per visitor", perVisitor)
	}
	// Visitors/s at which each layer saturates (see JourneyCapacity).
	type want struct {
		layer    Layer
		visitors float64
	}
	lock := 0.75 * (0.070 + 4*0.010)
	static := (homeHTMLSize + 0.25*appJSSize + 0.25*heroPNGSize) / 3e6
	tests := []struct {
		name  string
		cfg   Config
		order []want // the first layers, in order
	}{
		{"default", DefaultConfig(), []want{
			{LayerDatabase, 4 / 0.070 / 7.25}, {LayerAuth, 1 / lock}, {LayerThirdParty, 6 / 0.25}, {LayerFrontend, 1 / static}}},
		{"cache", DefaultConfig().WithFixes(FixCache), []want{
			{LayerAuth, 1 / lock}, {LayerThirdParty, 6 / 0.25}, {LayerFrontend, 1 / static}, {LayerDatabase, 4 / 0.070 / 1.25}}},
		{"cache+sessions", DefaultConfig().WithFixes(FixCache, FixSessions), []want{
			{LayerThirdParty, 6 / 0.25}, {LayerFrontend, 1 / static}, {LayerDatabase, 4 / 0.070 / 1.25}}},
	}
	for _, tt := range tests {
		c := tt.cfg.JourneyCapacity()
		for i, w := range tt.order {
			if i >= len(c.Breakpoints) {
				t.Errorf("%s: JourneyCapacity().Breakpoints = %v; want at least %d", tt.name, c.Breakpoints, len(tt.order))
				break
			}
			got := c.Breakpoints[i]
			if got.Layer != w.layer || !near(got.Rate/perVisitor, w.visitors) {
				t.Errorf("%s: Breakpoints[%d] = %s at %.2f visitors/s (%s); want %s at %.2f",
					tt.name, i, got.Layer, got.Rate/perVisitor, got.Detail, w.layer, w.visitors)
			}
		}
	}
	// The margins the journey example relies on: without the cache the
	// database breaks well before the session store, with it the session
	// store breaks well before the database and the next layer.
	plain, cached := DefaultConfig().JourneyCapacity(), DefaultConfig().WithFixes(FixCache).JourneyCapacity()
	db, _ := plain.Of(LayerDatabase)
	auth, _ := plain.Of(LayerAuth)
	cdb, _ := cached.Of(LayerDatabase)
	if auth.Rate < 1.4*db.Rate || cdb.Rate < 3*auth.Rate || cached.Breakpoints[1].Rate < 1.8*auth.Rate {
		t.Errorf("margins: database %.1f, auth %.1f, cached database %.1f, second with cache %.1f (req/s); want auth ≥ 1.4× database, cached database ≥ 3× auth, second ≥ 1.8× auth",
			db.Rate, auth.Rate, cdb.Rate, cached.Breakpoints[1].Rate)
	}
	if c := DefaultConfig().JourneyCapacity(); !near(c.Lookups, 100) {
		t.Errorf("JourneyCapacity().Lookups = %.1f; want 100 lookups/s", c.Lookups)
	}
	// Request mixes without sessions never look one up: their designed
	// capacities do not depend on LookupCost.
	slow := DefaultConfig()
	slow.LookupCost = time.Second
	for name, m := range map[string]Mix{"ProductHunt": ProductHuntMix(), "profiles": {Profile: 1}} {
		a, b := DefaultConfig().CapacityUnder(m), slow.CapacityUnder(m)
		if !slices.Equal(a.Breakpoints, b.Breakpoints) {
			t.Errorf("%s mix: breakpoints depend on LookupCost: %v vs %v", name, a.Breakpoints, b.Breakpoints)
		}
	}
}
