package dashboard_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/dashboard"
	"github.com/switchboard-chat/switchboard/internal/httpapi"
)

// newServer mounts the dashboard into the real API handler the way the
// server does, so the tests also see what the API's own layer adds.
func newServer(t *testing.T) (*httptest.Server, *dashboard.Handler) {
	t.Helper()
	d, err := dashboard.New()
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]http.Handler{}
	d.Mount(mounts)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Mount: mounts}))
	t.Cleanup(srv.Close)
	return srv, d
}

func fetch(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var (
	importMapRe = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)
	scriptRe    = regexp.MustCompile(`<script\b[^>]*>`)
)

func TestShellHeaders(t *testing.T) {
	srv, _ := newServer(t)
	res, body := fetch(t, "GET", srv.URL+"/", nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "default-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline or eval: %s", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
		"Referrer-Policy":        "same-origin",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	// The only inline script is the import map, allowed by its hash; every
	// other script is a file of this origin.
	m := importMapRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no import map in the shell")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("the CSP does not allow the import map as served (want %s in %s)", want, csp)
	}
	for _, tag := range scriptRe.FindAllString(body, -1) {
		if tag == `<script type="importmap">` {
			continue
		}
		if !strings.Contains(tag, `src="/static/`) {
			t.Errorf("script not served from this origin's static files: %s", tag)
		}
	}
}

func TestShellRevalidates(t *testing.T) {
	srv, _ := newServer(t)
	res, _ := fetch(t, "GET", srv.URL+"/", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on the shell")
	}
	res, body := fetch(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("revalidation = %d with %d bytes, want 304 and none", res.StatusCode, len(body))
	}
	res, _ = fetch(t, "GET", srv.URL+"/", map[string]string{"If-None-Match": `"stale"`})
	if res.StatusCode != 200 {
		t.Fatalf("stale ETag = %d, want 200", res.StatusCode)
	}
}

// Every module in the import map is served with a JavaScript type and
// cached for good (its path names its content), and every import in the
// dashboard's modules resolves through the map: a misspelt import would
// otherwise only fail in a browser.
func TestModulesResolve(t *testing.T) {
	srv, _ := newServer(t)
	_, body := fetch(t, "GET", srv.URL+"/", nil)
	var im struct {
		Imports map[string]string `json:"imports"`
	}
	if err := json.Unmarshal([]byte(importMapRe.FindStringSubmatch(body)[1]), &im); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{"preact", "preact/hooks", "htm", "dompurify", "dash/main.js", "dash/inbox.js"} {
		if im.Imports[spec] == "" {
			t.Errorf("import map lacks %q", spec)
		}
	}
	importRe := regexp.MustCompile(`(?m)^\s*import\s+(?:[^"']*?\s+from\s+)?["']([^"']+)["']`)
	for spec, url := range im.Imports {
		res, src := fetch(t, "GET", srv.URL+url, nil)
		if res.StatusCode != 200 {
			t.Errorf("%s (%s) = %d", spec, url, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s served as %q", spec, ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s Cache-Control = %q, want immutable", spec, cc)
		}
		if !strings.HasPrefix(spec, "dash/") {
			continue
		}
		for _, m := range importRe.FindAllStringSubmatch(src, -1) {
			if im.Imports[m[1]] == "" {
				t.Errorf("%s imports %q, which the import map does not resolve", spec, m[1])
			}
		}
	}
	css := regexp.MustCompile(`href="([^"]+\.css)"`).FindStringSubmatch(body)
	if css == nil {
		t.Fatal("no stylesheet in the shell")
	}
	res, _ := fetch(t, "GET", srv.URL+css[1], nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet = %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// The dashboard owns / and its static prefix only: API paths that do not
// exist keep the API's JSON errors, and unknown dashboard files are 404s.
func TestDoesNotShadowAPI(t *testing.T) {
	srv, _ := newServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		json         bool
	}{
		{"GET", "/api/v1/no-such-route", 404, true},
		{"GET", "/inbox", 404, true},
		{"POST", "/", 405, true},
		{"GET", "/static/dashboard/0000/main.js", 404, false},
		{"GET", "/static/dashboard/", 404, false},
		{"GET", "/healthz", 200, true},
	} {
		res, body := fetch(t, tc.method, srv.URL+tc.path, nil)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
		if tc.json && !json.Valid([]byte(body)) {
			t.Errorf("%s %s body is not JSON: %.80s", tc.method, tc.path, body)
		}
	}
}

// The vendored modules are mounted once, whichever page registers first.
func TestMountKeepsVendorHandler(t *testing.T) {
	d, err := dashboard.New()
	if err != nil {
		t.Fatal(err)
	}
	mine := &vendorStub{}
	m := map[string]http.Handler{"GET /static/vendor/": mine}
	d.Mount(m)
	if _, ok := m[dashboard.ShellPattern]; !ok {
		t.Fatal("shell not mounted")
	}
	if got, _ := m["GET /static/vendor/"].(*vendorStub); got != mine {
		t.Fatal("Mount replaced a vendor handler registered before it")
	}
}

type vendorStub struct{}

func (*vendorStub) ServeHTTP(http.ResponseWriter, *http.Request) {}
