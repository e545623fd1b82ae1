package engine

import (
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkSessions_Step is the scheduler's cost per journey step, without
// the network: release (Pace), render (the targeter) and complete, with a
// JSON extraction and a cookie on the login step. Memory must not grow with
// the number of visitors: allocations per step stay flat however long it
// runs.
func BenchmarkSessions_Step(b *testing.B) {
	p := journeyPlan(&testing.T{}, "http://127.0.0.1:9", "[{hold: {rate: 1000, duration: 1000s}}]", 1000,
		journeyStep{name: "land", url: "/"},
		journeyStep{name: "login", method: "POST", url: "/login/{{.Seq}}", extract: [][3]string{{"token", "json", "token"}}},
		journeyStep{name: "feed", url: "/feed/{{.Seq}}", headers: map[string]string{"Authorization": "{{.Vars.token}}"}},
	)
	tgt, err := newTargeter(p, "http://127.0.0.1:9", 1, Shard{})
	if err != nil {
		b.Fatal(err)
	}
	s := newSessions(p, newArrivals(p), Shard{}, tgt, make(chan struct{}))
	s.began = time.Now().Add(-500 * time.Second) // half the visitors are due at once
	hdr := http.Header{"Set-Cookie": {"sid=abc; Path=/"}, "Content-Type": {"application/json"}}
	body := []byte(`{"token": "t-123", "user": {"id": 7}}`)
	var target vegeta.Target
	var smp Sample
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, stop := s.Pace(0, 0); stop {
			b.Fatal("stopped")
		}
		if err := s.Targeter()(&target); err != nil {
			b.Fatal(err)
		}
		smp = Sample{Code: 200, Header: hdr}
		_, k := requestIndex(target.URL)
		s.complete(slotOf(k), &smp, body)
	}
}
