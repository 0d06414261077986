package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
	"github.com/switchboard-chat/switchboard/internal/testsvc"
)

// arrival is one message frame and when it came.
type arrival struct {
	seq  int64
	text string
	at   time.Time
}

// NATS is stopped while a contact on node A writes to an agent's
// connection on node B. With the bus down, B still delivers every message,
// later, by polling the store; when NATS is back, both nodes reconnect on
// their own and delivery is prompt again. Nothing is lost, repeated or
// reordered throughout.
func TestChaosNATSRestart(t *testing.T) {
	nats := testsvc.StartNATS(t)
	env := clusterEnv(t, pgtest.URL(t), nats.URL)
	withInfo := func() map[string]string {
		e := env()
		e["SWITCHBOARD_LOG_LEVEL"] = "info" // the bus's reconnections are logged at info
		return e
	}
	a := startNode(t, withInfo())
	b := startNode(t, withInfo())

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	api := a.client(map[string]string{"Authorization": "Bearer " + bootstrapKey})
	var conv conversation
	api.do("POST", "/api/v1/conversations", map[string]any{"contact": map[string]any{"userId": "nats-chaos"}}, http.StatusCreated, &conv)
	var tok struct {
		Token string `json:"token"`
	}
	api.do("POST", "/api/v1/contacts/"+conv.ContactID+"/token", nil, http.StatusCreated, &tok)

	contact := dialWS(ctx, t, a, tok.Token)
	agent := dialWSWith(ctx, t, b, "", http.Header{"Authorization": {"Bearer " + bootstrapKey}})
	agent.subscribe(conv.ID, 0)
	// The agent's connection is read on its own goroutine, so that each
	// arrival is timed when it happens.
	arrivals := make(chan arrival, 256)
	readErr := make(chan error, 1)
	go func() {
		for {
			f, err := agent.next()
			if err != nil {
				readErr <- err
				return
			}
			if f.Type == "message" {
				var m message
				_ = json.Unmarshal(f.Message, &m)
				arrivals <- arrival{seq: f.Seq, text: m.Text, at: time.Now()}
			}
		}
	}()

	var last int64
	total := 0
	// phase sends n messages 250 ms apart (together over 2 s, a whole
	// store polling period) and returns each one's delay from its ack to
	// its arrival on B, in seq order, after checking that they arrived
	// exactly once, in order, with no gap.
	phase := func(name string, n int) []time.Duration {
		t.Helper()
		acked := map[int64]time.Time{}
		texts := map[int64]string{}
		for i := range n {
			text := fmt.Sprintf("%s %d", name, i)
			seq := contact.send(conv.ID, fmt.Sprintf("%s-%d", name, i), text)
			acked[seq], texts[seq] = time.Now(), text
			time.Sleep(250 * time.Millisecond)
		}
		var delays []time.Duration
		for range n {
			select {
			case got := <-arrivals:
				switch {
				case got.seq != last+1:
					t.Fatalf("%s: seq %d arrived after %d", name, got.seq, last)
				case got.text != texts[got.seq]:
					t.Fatalf("%s: seq %d carries %q, want %q", name, got.seq, got.text, texts[got.seq])
				}
				last = got.seq
				delays = append(delays, max(got.at.Sub(acked[got.seq]), 0))
			case err := <-readErr:
				t.Fatalf("%s: the agent's connection failed: %v", name, err)
			case <-time.After(15 * time.Second):
				t.Fatalf("%s: seq %d did not reach node B within 15s", name, last+1)
			}
		}
		total += n
		return delays
	}

	before := phase("before", 8)
	nats.Stop(syscall.SIGKILL)
	during := phase("outage", 8)
	nats.Start()
	waitFor(t, 30*time.Second, "both nodes reconnecting to NATS", func() bool {
		return strings.Contains(a.out.String(), "nats reconnected") && strings.Contains(b.out.String(), "nats reconnected")
	})
	after := phase("after", 8)

	// Anything further is a duplicate.
	select {
	case got := <-arrivals:
		t.Fatalf("seq %d arrived again", got.seq)
	case <-time.After(2500 * time.Millisecond):
	}
	// Over the bus, delivery does not wait for the store's polling (every
	// 2 s, which alone would give a median near 1 s).
	for _, ph := range []struct {
		name   string
		delays []time.Duration
	}{{"before the outage", before}, {"after NATS came back", after}} {
		if med := median(ph.delays); med > 300*time.Millisecond {
			t.Errorf("%s: median delivery delay %v, want the bus's (under 300ms): %v", ph.name, med, ph.delays)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("delivery delays on node B: before %v (median %v); NATS down %v (median %v, max %v); after %v (median %v)",
		round(before), median(before), round(during), median(during), slices.Max(during).Round(time.Millisecond), round(after), median(after))
	t.Logf("checked: %d messages acknowledged on A, all %d received on B in seq order, none twice", total, total)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func round(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
