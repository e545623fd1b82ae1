package mvpapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SessionCookie is the name of the session cookie set by POST /api/login.
const SessionCookie = "mvp_session"

// App is the example web app. Its handler is safe for concurrent use; Close
// stops its background workers and removes its database.
type App struct {
	cfg         Config
	now         func() time.Time
	started     time.Time
	store       *store
	sessions    *sessionStore
	email       *emailProvider
	queue       *emailQueue // nil without Config.Queue
	cache       *ttlCache   // nil without Config.Cache
	assets      *assets
	staticSlots chan struct{}
	inFlight    atomic.Int64
	stats       counters
	handler     http.Handler
	closeOnce   sync.Once
	closeErr    error
}

// New validates cfg, generates the static files, creates and seeds the SQLite
// database in a temporary directory and starts the email workers (with Queue).
// The caller must Close the App.
func New(cfg Config) (*App, error) {
	return newApp(cfg, time.Now)
}

func newApp(cfg Config, now func() time.Time) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	as, err := newAssets()
	if err != nil {
		return nil, fmt.Errorf("new app: %w", err)
	}
	st, err := openStore(cfg, now())
	if err != nil {
		return nil, fmt.Errorf("new app: %w", err)
	}
	a := &App{
		cfg:         cfg,
		now:         now,
		started:     now(),
		store:       st,
		sessions:    newSessionStore(cfg.SessionShards, cfg.LoginCost, cfg.LookupCost, cfg.AuthWait),
		email:       &emailProvider{limit: newBucket(cfg.EmailRate, cfg.EmailBurst, time.Now()), latency: cfg.EmailLatency},
		assets:      as,
		staticSlots: make(chan struct{}, cfg.StaticSlots),
	}
	if cfg.Cache {
		a.cache = newTTLCache()
	}
	if cfg.Queue {
		a.queue = newEmailQueue(cfg.QueueSize, a.email, cfg.EmailRate, &a.stats)
	}
	a.handler = a.routes()
	return a, nil
}

// Config returns the App's configuration.
func (a *App) Config() Config { return a.cfg }

// Stats returns a snapshot of the App's event counters.
func (a *App) Stats() Stats { return a.stats.snapshot() }

// Handler returns the App's HTTP handler.
func (a *App) Handler() http.Handler { return a.handler }

// Close stops the email workers, dropping queued emails, closes the database
// and removes its files. It is safe to call more than once.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		if a.queue != nil {
			a.queue.close()
		}
		if err := a.store.close(); err != nil {
			a.closeErr = fmt.Errorf("close app: %w", err)
		}
	})
	return a.closeErr
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { a.serveAsset(w, r, &a.assets.home) })
	mux.HandleFunc("GET /static/app.js", func(w http.ResponseWriter, r *http.Request) { a.serveAsset(w, r, &a.assets.appJS) })
	mux.HandleFunc("GET /static/hero.png", func(w http.ResponseWriter, r *http.Request) { a.serveAsset(w, r, &a.assets.hero) })
	mux.HandleFunc("GET /api/feed", a.handleFeed)
	mux.HandleFunc("GET /api/profile/{id}", a.handleProfile)
	mux.HandleFunc("GET /api/me", a.handleMe)
	mux.HandleFunc("POST /api/login", a.handleLogin)
	mux.HandleFunc("POST /api/signup", a.handleSignup)

	limited := a.limit(mux)
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	root.Handle("/", limited)
	return a.count(withTiming(root))
}

// count counts every request.
func (a *App) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.stats.requestsTotal.Add(1)
		next.ServeHTTP(w, r)
	})
}

// limit enforces the in-flight limit, then spends AppLatency in the app.
func (a *App) limit(next http.Handler) http.Handler {
	limit := int64(a.cfg.maxInFlight())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := a.inFlight.Add(1)
		defer a.inFlight.Add(-1)
		if n > limit {
			a.stats.overloaded.Add(1)
			http.Error(w, fmt.Sprintf("server overloaded: %d requests in flight (limit %d)", n-1, limit),
				http.StatusServiceUnavailable)
			return
		}
		if sleep(r.Context(), a.cfg.AppLatency) != nil {
			canceled(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *App) handleFeed(w http.ResponseWriter, r *http.Request) {
	if !a.checkSession(w, r) {
		return
	}
	a.cachedJSON(w, r, "feed", a.cfg.FeedTTL, func(ctx context.Context) (any, error) {
		return a.store.feed(ctx)
	})
}

func (a *App) handleProfile(w http.ResponseWriter, r *http.Request) {
	if !a.checkSession(w, r) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, fmt.Sprintf("bad profile id %q", r.PathValue("id")), http.StatusBadRequest)
		return
	}
	a.cachedJSON(w, r, "profile:"+strconv.FormatInt(id, 10), a.cfg.ProfileTTL, func(ctx context.Context) (any, error) {
		return a.store.profile(ctx, id)
	})
}

// cachedJSON answers a cacheable read: from the cache on a hit (with Cache),
// else from load, storing the result. Server-Timing says cache;desc=hit or miss
// (always miss without Cache).
func (a *App) cachedJSON(w http.ResponseWriter, r *http.Request, key string, ttl time.Duration, load func(context.Context) (any, error)) {
	t := timingFrom(r.Context())
	if a.cache != nil {
		if body, ok := a.cache.get(key, a.now()); ok {
			a.stats.cacheHits.Add(1)
			t.cache = "hit"
			writeJSONBytes(w, http.StatusOK, body)
			return
		}
	}
	a.stats.cacheMisses.Add(1)
	t.cache = "miss"
	v, err := load(r.Context())
	if err != nil {
		a.dbError(w, r, err)
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if a.cache != nil {
		a.cache.set(key, body, ttl, a.now())
	}
	writeJSONBytes(w, http.StatusOK, body)
}

// dbError answers a failed database call: 503 when the pool is exhausted, 404
// for an unknown row, 500 otherwise.
func (a *App) dbError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errPoolExhausted):
		a.stats.dbExhausted.Add(1)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, errNotFound):
		http.Error(w, err.Error(), http.StatusNotFound)
	case r.Context().Err() != nil:
		canceled(w, r)
	default:
		http.Error(w, "database error: "+err.Error(), http.StatusInternalServerError)
	}
}

// credentials is the body of POST /api/login.
type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	var c credentials
	if err := decodeJSON(w, r, &c); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !a.validCredentials(c) {
		http.Error(w, "invalid credentials", http.StatusUnauthorized)
		return
	}
	id, err := a.sessions.create(r.Context(), c.User, a.now())
	switch {
	case errors.Is(err, errStoreBusy):
		a.stats.authBusy.Add(1)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case err != nil && r.Context().Err() != nil:
		canceled(w, r)
		return
	case err != nil:
		http.Error(w, "log in: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL / time.Second)})
	writeJSON(w, http.StatusOK, loginReply{User: c.User, ID: seededID(c.User)})
}

// loginReply is the body of a successful POST /api/login: the user's name and
// profile id (/api/profile/{id}).
type loginReply struct {
	User string `json:"user"`
	ID   int    `json:"id"`
}

// validCredentials accepts the seeded users u1 … uN with SeedPassword. Users
// created by signup get a row in the database but cannot log in: this stand-in
// auth service only knows the seeded accounts.
func (a *App) validCredentials(c credentials) bool {
	id := seededID(c.User)
	return id >= 1 && id <= a.cfg.Users && c.Password == SeedPassword
}

// seededID returns the id of a seeded user's name ("u123" is 123), or 0.
func seededID(name string) int {
	num, ok := strings.CutPrefix(name, "u")
	if !ok {
		return 0
	}
	id, err := strconv.Atoi(num)
	if err != nil || id < 1 || strconv.Itoa(id) != num {
		return 0
	}
	return id
}

func (a *App) handleMe(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		http.Error(w, "not logged in", http.StatusUnauthorized)
		return
	}
	if user, ok := a.session(w, r, ck); ok {
		writeJSON(w, http.StatusOK, map[string]string{"user": user})
	}
}

// checkSession checks the session of a request that sends the session cookie,
// as the feed and profiles do for a logged-in visitor: an unknown or expired
// session is answered 401, a busy store 503. A request without the cookie
// passes untouched (the feed and profiles are public), so request mixes without
// sessions never reach the session store. It returns false when it has
// answered the request.
func (a *App) checkSession(w http.ResponseWriter, r *http.Request) bool {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return true
	}
	_, ok := a.session(w, r, ck)
	return ok
}

// session looks up the session of cookie ck and returns its user. When the
// session is unknown, expired or cannot be read, it answers the request and
// returns false.
func (a *App) session(w http.ResponseWriter, r *http.Request, ck *http.Cookie) (string, bool) {
	user, err := a.sessions.lookup(r.Context(), ck.Value, a.now())
	switch {
	case err == nil:
		return user, true
	case errors.Is(err, errStoreBusy):
		a.stats.authBusy.Add(1)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	case errors.Is(err, errNoSession):
		a.stats.badSessions.Add(1)
		http.Error(w, fmt.Sprintf("session %s=%s unknown or expired: log in again", SessionCookie, abbrev(ck.Value)),
			http.StatusUnauthorized)
	default:
		canceled(w, r)
	}
	return "", false
}

// abbrev shortens a session id for an error body: enough to tell sessions
// apart in a log, not enough to use one.
func abbrev(id string) string {
	const keep = 6
	switch {
	case id == "":
		return "(empty)"
	case len(id) <= keep:
		return strconv.Quote(id)
	}
	return strconv.Quote(id[:keep] + "…")
}

// signup is the body of POST /api/signup.
type signup struct {
	User  string `json:"user"`
	Email string `json:"email"`
}

func (a *App) handleSignup(w http.ResponseWriter, r *http.Request) {
	var s signup
	if err := decodeJSON(w, r, &s); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.User == "" || !strings.Contains(s.Email, "@") {
		http.Error(w, "signup needs a user and an email address", http.StatusBadRequest)
		return
	}
	id, err := a.store.insertUser(r.Context(), s.User, s.Email, a.now())
	if err != nil {
		a.dbError(w, r, err)
		return
	}
	if a.queue != nil {
		if err := a.queue.enqueue(s.Email); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "email": "queued"})
		return
	}
	err = a.email.send(r.Context(), s.Email)
	switch {
	case err == nil:
		a.stats.emailSent.Add(1)
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "email": "sent"})
	case errors.Is(err, errTooManyRequests):
		a.stats.email429.Add(1)
		http.Error(w, err.Error(), http.StatusBadGateway)
	case r.Context().Err() != nil:
		canceled(w, r)
	default:
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
}

// maxBody bounds JSON request bodies.
const maxBody = 1 << 16

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, code, body)
}

func writeJSONBytes(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(code)
	w.Write(body)
	w.Write([]byte("\n"))
}

// canceled answers a request whose client has gone away, so that the handler
// does not end with an implicit 200. Nobody reads the answer.
func canceled(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "request canceled: "+context.Cause(r.Context()).Error(), http.StatusServiceUnavailable)
}
