package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSessionCookie(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	c := SessionCookie("tok", exp, true)
	if c.Name != SessionCookieName || c.Value != "tok" || !c.HttpOnly || !c.Secure ||
		c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !c.Expires.Equal(exp) {
		t.Fatalf("unexpected cookie %+v", c)
	}
	if err := c.Valid(); err != nil {
		t.Fatal(err)
	}
	del := SessionCookie("", time.Time{}, false)
	if del.MaxAge >= 0 || del.Secure {
		t.Fatalf("deletion cookie %+v", del)
	}
}

func TestSameOrigin(t *testing.T) {
	cases := []struct {
		name      string
		host      string
		tls       bool
		origin    string
		referer   string
		publicURL string
		want      bool
	}{
		{"same host", "chat.example.com", false, "http://chat.example.com", "", "", true},
		{"same host behind tls proxy", "chat.example.com", false, "https://chat.example.com", "", "", true},
		{"default port", "chat.example.com:443", true, "https://chat.example.com", "", "", true},
		{"public url", "127.0.0.1:8080", false, "https://chat.example.com", "", "https://chat.example.com/", true},
		{"public url with path", "127.0.0.1:8080", false, "https://chat.example.com", "", "https://chat.example.com/support", true},
		{"referer fallback", "chat.example.com", false, "", "http://chat.example.com/dashboard?x=1", "", true},
		{"case", "Chat.Example.com", false, "http://chat.example.COM", "", "", true},
		{"cross site", "chat.example.com", false, "https://evil.example", "", "", false},
		{"cross site referer", "chat.example.com", false, "", "https://evil.example/chat.example.com", "", false},
		{"origin wins over referer", "chat.example.com", false, "https://evil.example", "http://chat.example.com/", "", false},
		{"http origin on tls", "chat.example.com", true, "http://chat.example.com", "", "", false},
		{"other port", "chat.example.com", false, "http://chat.example.com:8081", "", "", false},
		{"public url scheme mismatch", "127.0.0.1", false, "http://chat.example.com", "", "https://chat.example.com", false},
		{"suffix trick", "chat.example.com", false, "http://chat.example.com.evil.example", "", "", false},
		{"null origin", "chat.example.com", false, "null", "", "", false},
		{"no headers", "chat.example.com", false, "", "", "", false},
		{"userinfo", "chat.example.com", false, "", "http://chat.example.com@evil.example/", "", false},
		{"non-http scheme", "chat.example.com", false, "file://chat.example.com", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/teams", nil)
			r.Host = c.host
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if c.referer != "" {
				r.Header.Set("Referer", c.referer)
			}
			if got := SameOrigin(r, c.publicURL); got != c.want {
				t.Fatalf("SameOrigin = %v, want %v", got, c.want)
			}
		})
	}
}

func TestAPIKeyFrom(t *testing.T) {
	cases := []struct {
		name            string
		headers         map[string]string
		key             string
		presented, fail bool
	}{
		{"none", nil, "", false, false},
		{"bearer", map[string]string{"Authorization": "Bearer sbk_a_b"}, "sbk_a_b", true, false},
		{"bearer any case", map[string]string{"Authorization": "bearer  sbk_a_b "}, "sbk_a_b", true, false},
		{"api-key", map[string]string{"Api-Key": " k1 "}, "k1", true, false},
		{"authorization wins", map[string]string{"Authorization": "Bearer k2", "Api-Key": "k1"}, "k2", true, false},
		{"basic is refused", map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, "", true, true},
		{"empty bearer is refused", map[string]string{"Authorization": "Bearer "}, "", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range c.headers {
				r.Header.Set(k, v)
			}
			key, presented, err := APIKeyFrom(r)
			if key != c.key || presented != c.presented || (err != nil) != c.fail {
				t.Fatalf("got (%q, %v, %v), want (%q, %v, fail=%v)", key, presented, err, c.key, c.presented, c.fail)
			}
		})
	}
}
