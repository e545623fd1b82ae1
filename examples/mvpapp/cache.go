package mvpapp

import (
	"sync"
	"time"
)

// ttlCache is an in-process cache of response bodies with per-entry expiry.
// Safe for concurrent use. Expired entries are dropped when read, and swept
// when the cache grows past sweepAt entries.
type ttlCache struct {
	mu      sync.RWMutex
	entries map[string]cacheEntry
	sweepAt int
}

type cacheEntry struct {
	body    []byte
	expires time.Time
}

func newTTLCache() *ttlCache {
	return &ttlCache{entries: make(map[string]cacheEntry), sweepAt: 1024}
}

// get returns the body stored under key if it has not expired at now.
func (c *ttlCache) get(key string, now time.Time) ([]byte, bool) {
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.body, true
}

// set stores body under key until now+ttl.
func (c *ttlCache) set(key string, body []byte, ttl time.Duration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.sweepAt {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		c.sweepAt = max(1024, 2*len(c.entries))
	}
	c.entries[key] = cacheEntry{body: body, expires: now.Add(ttl)}
}
