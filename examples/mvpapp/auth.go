package mvpapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// errStoreBusy is returned when a login cannot take its shard's lock in time.
var errStoreBusy = errors.New("session store busy")

// errNoSession is returned for an unknown or expired session.
var errNoSession = errors.New("no such session")

// sessionStore keeps sessions in process, in shards that each have one lock.
// With one shard every login and every session lookup in the process queues on
// the same lock: a login holds it for the login cost, a lookup for the lookup
// cost.
//
// The lock is a one-slot channel rather than a sync.Mutex so that waiting for it
// can give up after Config.AuthWait.
type sessionStore struct {
	shards     []sessionShard
	cost       time.Duration // a login's hold on the lock
	lookupCost time.Duration // a lookup's hold on the lock
	wait       time.Duration
}

type sessionShard struct {
	lock     chan struct{} // holds one token while the shard is locked
	sessions map[string]session
}

type session struct {
	user    string
	expires time.Time
}

// sessionTTL is how long a session lasts.
const sessionTTL = 24 * time.Hour

func newSessionStore(shards int, cost, lookupCost, wait time.Duration) *sessionStore {
	s := &sessionStore{shards: make([]sessionShard, shards), cost: cost, lookupCost: lookupCost, wait: wait}
	for i := range s.shards {
		s.shards[i] = sessionShard{lock: make(chan struct{}, 1), sessions: make(map[string]session)}
	}
	return s
}

// create stores a new session for user and returns its id. It holds the shard's
// lock for the login cost; it fails with errStoreBusy (wrapped) if the lock is
// not free within the wait. The time spent, waiting included, is added to the
// request's auth timing.
func (s *sessionStore) create(ctx context.Context, user string, now time.Time) (string, error) {
	t := timingFrom(ctx)
	start := time.Now()
	defer func() { t.addAuth(time.Since(start)) }()

	id, err := newSessionID()
	if err != nil {
		return "", err
	}
	sh := &s.shards[shardOf(id, len(s.shards))]

	if err := s.lock(ctx, sh); err != nil {
		return "", err
	}
	defer func() { <-sh.lock }()

	// Subtleness ahead: the cost is paid while holding the lock. That is what
	// makes one shard a bottleneck of 1/cost logins/s.
	if err := sleep(ctx, s.cost); err != nil {
		return "", fmt.Errorf("write session: %w", err)
	}
	sh.sessions[id] = session{user: user, expires: now.Add(sessionTTL)}
	return id, nil
}

// lookup returns the user of session id. It holds the shard's lock for the
// lookup cost, so one shard serves at most 1/lookupCost lookups/s, fewer when
// logins take the lock too. It fails with errNoSession if the session does not
// exist or has expired, and with errStoreBusy (wrapped) if the shard's lock is
// not free within the wait. The time spent, waiting included, is added to the
// request's auth timing.
func (s *sessionStore) lookup(ctx context.Context, id string, now time.Time) (string, error) {
	t := timingFrom(ctx)
	start := time.Now()
	defer func() { t.addAuth(time.Since(start)) }()

	sh := &s.shards[shardOf(id, len(s.shards))]
	if err := s.lock(ctx, sh); err != nil {
		return "", err
	}
	defer func() { <-sh.lock }()
	if err := sleep(ctx, s.lookupCost); err != nil {
		return "", fmt.Errorf("read session: %w", err)
	}
	ss, ok := sh.sessions[id]
	if !ok || now.After(ss.expires) {
		return "", errNoSession
	}
	return ss.user, nil
}

// lock takes sh's lock, waiting at most s.wait.
func (s *sessionStore) lock(ctx context.Context, sh *sessionShard) error {
	waitCtx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	select {
	case sh.lock <- struct{}{}:
		return nil
	case <-waitCtx.Done():
		if ctx.Err() != nil {
			return fmt.Errorf("wait for session lock: %w", ctx.Err())
		}
		return fmt.Errorf("%w: lock not acquired within %s", errStoreBusy, s.wait)
	}
}

func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("new session id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func shardOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}
