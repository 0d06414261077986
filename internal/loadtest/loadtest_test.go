package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p90 of 100", ms(hundred...), 90, 90 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"tiny p is the min", ms(hundred...), 0.001, time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
	s := latencies(ms(5, 1, 4, 2, 3)).summarize()
	if s.N != 5 || s.P50 != 3*time.Millisecond || s.Max != 5*time.Millisecond {
		t.Errorf("summarize = %+v", s)
	}
}

func TestMarker(t *testing.T) {
	m := marker{run: "abcd", epoch: time.Now()}
	at := m.epoch.Add(1234567 * time.Nanosecond)
	sent, ok := m.parse(m.text(42, at))
	if !ok || !sent.Equal(at) {
		t.Fatalf("parse(text) = %v, %v; want %v", sent, ok, at)
	}
	for _, other := range []string{"", "hello", "bench zzzz 1 2", "bench abcd 1 x", "bench abcd 1"} {
		if _, ok := m.parse(other); ok {
			t.Errorf("parse(%q) accepted", other)
		}
	}
}

// TestLoadAgainstBareServer runs the whole scenario, small, against the
// baseline server: every acked message must reach every subscriber once.
func TestLoadAgainstBareServer(t *testing.T) {
	srv := httptest.NewServer(NewBareServer())
	defer srv.Close()
	b := &bare{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", src: sources{perIP: 7}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := runLoad(ctx, b, loadParams{clients: 20, conversations: 4, rate: 200, duration: time.Second, drain: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.faults() != 0 || r.firstErrors != nil {
		t.Fatalf("faults %d: %+v", r.faults(), r)
	}
	if r.sent != 200 || r.acked != 200 || r.expected != 200*5 || r.received != r.expected {
		t.Fatalf("sent %d acked %d expected %d received %d", r.sent, r.acked, r.expected, r.received)
	}
	if r.delivery.N != int(r.received) || r.ack.N != 200 || r.delivery.P50 <= 0 {
		t.Fatalf("latency samples: delivery %+v ack %+v", r.delivery, r.ack)
	}
}

// TestRefusalNamesTheSetting checks that a server at its connection limit
// produces an error that says what to raise, not a bare handshake failure.
func TestRefusalNamesTheSetting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"code":"rate_limited","message":"too many connections from this address"}}`, http.StatusTooManyRequests)
	}))
	defer srv.Close()
	b := &bare{url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}
	_, err := runLoad(context.Background(), b, loadParams{clients: 3, conversations: 1, rate: 10, duration: time.Second, drain: time.Second})
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.Status != http.StatusTooManyRequests {
		t.Fatalf("err = %v, want a RefusedError with 429", err)
	}
	for _, want := range []string{"too many connections", "MaxConnsPerIP", "ulimit -n"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	ok := Config{Clients: 10, Rate: 5, Duration: time.Second, Conversations: 2}
	if err := ok.check(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	bad := map[string]Config{
		"nothing to do":      {Conversations: 1},
		"too long":           {Clients: 10, Rate: 5, Duration: MaxDuration + time.Second, Conversations: 2},
		"zero rate":          {Clients: 10, Duration: time.Second, Conversations: 2},
		"fewer clients":      {Clients: 1, Rate: 5, Duration: time.Second, Conversations: 2},
		"negative idle":      {Idle: -1, Conversations: 1},
		"zero conversations": {Clients: 10, Rate: 5, Duration: time.Second},
	}
	for name, c := range bad {
		if err := c.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
