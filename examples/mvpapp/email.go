package mvpapp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// errTooManyRequests is the fake provider's 429.
var errTooManyRequests = errors.New("429 Too Many Requests")

// errQueueFull is returned when the email queue has no room.
var errQueueFull = errors.New("email queue full")

// bucket is a token bucket: rate tokens/s, at most burst tokens. Safe for
// concurrent use.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// newBucket returns a full bucket.
func newBucket(rate float64, burst int, now time.Time) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// allow takes a token if there is one.
func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// reserve takes a token, going into debt if needed, and returns how long the
// caller must wait before using it.
func (b *bucket) reserve(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(now)
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// emailProvider is a fake third-party email API: every call takes latency, and
// calls beyond the rate limit are answered 429.
type emailProvider struct {
	limit   *bucket
	latency time.Duration
}

// send makes one call. The time it takes is added to the request's ext timing.
func (p *emailProvider) send(ctx context.Context, to string) error {
	t := timingFrom(ctx)
	start := time.Now()
	defer func() { t.addExt(time.Since(start)) }()

	ok := p.limit.allow(start)
	if err := sleep(ctx, p.latency); err != nil {
		return fmt.Errorf("email provider: %w", err)
	}
	if !ok {
		return fmt.Errorf("email provider: %w", errTooManyRequests)
	}
	return nil
}

// Retry policy of the email queue workers.
const (
	emailAttempts    = 6                      // calls per email before it is dropped
	emailBackoff     = 100 * time.Millisecond // wait after the first 429, doubled after each
	emailWorkerCount = 4
)

// emailQueue sends emails in the background: a bounded channel drained by a few
// workers that keep to the provider's rate and back off exponentially on 429.
type emailQueue struct {
	jobs     chan string
	provider *emailProvider
	pace     *bucket // client-side pacing at the provider's rate
	stats    *counters
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func newEmailQueue(size int, p *emailProvider, rate float64, stats *counters) *emailQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &emailQueue{
		jobs:     make(chan string, size),
		provider: p,
		pace:     newBucket(rate, 1, time.Now()),
		stats:    stats,
		cancel:   cancel,
	}
	for range emailWorkerCount {
		q.wg.Add(1)
		go q.work(ctx)
	}
	return q
}

// enqueue adds an email without blocking; it fails with errQueueFull.
func (q *emailQueue) enqueue(to string) error {
	select {
	case q.jobs <- to:
		q.stats.emailQueued.Add(1)
		return nil
	default:
		return fmt.Errorf("%w (%d pending)", errQueueFull, cap(q.jobs))
	}
}

func (q *emailQueue) work(ctx context.Context) {
	defer q.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case to := <-q.jobs:
			q.deliver(ctx, to)
		}
	}
}

// deliver sends one email, retrying 429s with exponential backoff.
func (q *emailQueue) deliver(ctx context.Context, to string) {
	backoff := emailBackoff
	for attempt := 1; ; attempt++ {
		if err := sleep(ctx, q.pace.reserve(time.Now())); err != nil {
			return
		}
		err := q.provider.send(ctx, to)
		switch {
		case err == nil:
			q.stats.emailSent.Add(1)
			return
		case ctx.Err() != nil:
			return
		case errors.Is(err, errTooManyRequests):
			q.stats.email429.Add(1)
		}
		if attempt == emailAttempts {
			q.stats.emailDropped.Add(1)
			return
		}
		q.stats.emailRetried.Add(1)
		if err := sleep(ctx, backoff); err != nil {
			return
		}
		backoff *= 2
	}
}

// close stops the workers; emails still queued are dropped.
func (q *emailQueue) close() {
	q.cancel()
	q.wg.Wait()
}

// counters are the App's event counters. Safe for concurrent use.
type counters struct {
	overloaded    atomic.Int64
	dbExhausted   atomic.Int64
	authBusy      atomic.Int64
	badSessions   atomic.Int64
	notModified   atomic.Int64
	staticBusy    atomic.Int64
	cacheHits     atomic.Int64
	cacheMisses   atomic.Int64
	emailSent     atomic.Int64
	email429      atomic.Int64
	emailQueued   atomic.Int64
	emailRetried  atomic.Int64
	emailDropped  atomic.Int64
	requestsTotal atomic.Int64
}

// Stats is a snapshot of an App's event counters.
type Stats struct {
	Requests      int64 // requests received, /healthz included
	Overloaded    int64 // 503s from the in-flight limit
	DBExhausted   int64 // 503s because no database connection freed in time
	AuthBusy      int64 // 503s because the session-store lock was not free in time
	BadSessions   int64 // 401s for an unknown or expired session cookie
	NotModified   int64 // 304s for a static file the client already has
	StaticBusy    int64 // 503s because no static slot freed in time
	CacheHits     int64 // reads answered from the cache
	CacheMisses   int64 // reads that went to the database
	EmailsSent    int64 // emails the provider accepted
	Email429s     int64 // calls the provider answered 429
	EmailsQueued  int64 // emails put on the queue
	EmailsRetried int64 // queued emails retried after a 429
	EmailsDropped int64 // queued emails given up after emailAttempts calls
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests:      c.requestsTotal.Load(),
		Overloaded:    c.overloaded.Load(),
		DBExhausted:   c.dbExhausted.Load(),
		AuthBusy:      c.authBusy.Load(),
		BadSessions:   c.badSessions.Load(),
		NotModified:   c.notModified.Load(),
		StaticBusy:    c.staticBusy.Load(),
		CacheHits:     c.cacheHits.Load(),
		CacheMisses:   c.cacheMisses.Load(),
		EmailsSent:    c.emailSent.Load(),
		Email429s:     c.email429.Load(),
		EmailsQueued:  c.emailQueued.Load(),
		EmailsRetried: c.emailRetried.Load(),
		EmailsDropped: c.emailDropped.Load(),
	}
}
