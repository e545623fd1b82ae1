package mvpapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// timing collects the Server-Timing components of one request. It is used by the
// request's goroutine only.
type timing struct {
	start time.Time
	db    time.Duration
	auth  time.Duration
	ext   time.Duration
	used  uint8  // which of db, auth, ext were used
	cache string // "hit", "miss" or ""
}

const (
	usedDB = 1 << iota
	usedAuth
	usedExt
)

type timingKey struct{}

// timingFrom returns the request's timing, or a throwaway one.
func timingFrom(ctx context.Context) *timing {
	if t, ok := ctx.Value(timingKey{}).(*timing); ok {
		return t
	}
	return &timing{start: time.Now()}
}

func (t *timing) addDB(d time.Duration)   { t.db += d; t.used |= usedDB }
func (t *timing) addAuth(d time.Duration) { t.auth += d; t.used |= usedAuth }
func (t *timing) addExt(d time.Duration)  { t.ext += d; t.used |= usedExt }

// header renders the W3C Server-Timing value, durations in ms with one decimal.
func (t *timing) header(now time.Time) string {
	var parts []string
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	if t.used&usedDB != 0 {
		parts = append(parts, "db;dur="+ms(t.db))
	}
	if t.used&usedAuth != 0 {
		parts = append(parts, "auth;dur="+ms(t.auth))
	}
	if t.used&usedExt != 0 {
		parts = append(parts, "ext;dur="+ms(t.ext))
	}
	if t.cache != "" {
		parts = append(parts, "cache;desc="+t.cache)
	}
	parts = append(parts, "app;dur="+ms(now.Sub(t.start)))
	return strings.Join(parts, ", ")
}

// timingWriter adds the Server-Timing header just before the header is sent.
type timingWriter struct {
	http.ResponseWriter
	t           *timing
	wroteHeader bool
}

func (w *timingWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.Header().Set("Server-Timing", w.t.header(time.Now()))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *timingWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *timingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withTiming wraps next so that every response carries Server-Timing.
func withTiming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := &timing{start: time.Now()}
		tw := &timingWriter{ResponseWriter: w, t: t}
		next.ServeHTTP(tw, r.WithContext(context.WithValue(r.Context(), timingKey{}, t)))
		if !tw.wroteHeader {
			tw.WriteHeader(http.StatusOK)
		}
	})
}
