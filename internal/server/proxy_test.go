package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/service"
)

// TestTrustedProxiesSetting: SWITCHBOARD_TRUSTED_PROXIES reaches the API,
// so clients behind a trusted proxy have a widget-session budget each.
func TestTrustedProxiesSetting(t *testing.T) {
	srv, _ := startEmailNode(t, map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": "127.0.0.1,::1"})
	url := "http://" + srv.cfg.Addr + "/api/v1/widget/session"
	body := `{"appId":"` + service.DefaultAppID + `","visitorId":"visitor-proxy-test-0001"}`
	start := func(client string) int {
		t.Helper()
		rq, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		rq.Header.Set("Content-Type", "application/json")
		rq.Header.Set("X-Forwarded-For", client)
		res, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	limited := false
	for i := 0; i < 100 && !limited; i++ {
		switch st := start("198.51.100.1"); st {
		case http.StatusCreated:
		case http.StatusTooManyRequests:
			limited = true
		default:
			t.Fatalf("session %d: status %d", i+1, st)
		}
	}
	if !limited {
		t.Fatal("client A was never limited")
	}
	if st := start("198.51.100.2"); st != http.StatusCreated {
		t.Fatalf("client B behind the same proxy: status %d, want 201", st)
	}
}
