package widget_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/webvendor"
	"github.com/switchboard-chat/switchboard/internal/widget"
)

// Size budgets of the widget (docs/benchmarks.md, "Widget").
const (
	loaderBudget    = 5 << 10
	firstLoadBudget = 80 << 10
)

func handler(t *testing.T) (*widget.Handler, *httptest.Server) {
	t.Helper()
	h, err := widget.New(widget.Options{DemoAppID: "default"})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]http.Handler{}
	h.Mount(m)
	mux := http.NewServeMux()
	for p, hh := range m {
		mux.Handle(p, hh)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return h, srv
}

func fetch(t *testing.T, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// The transport would ask for gzip and undo it; asking explicitly
	// keeps the bytes as sent.
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var moduleRef = regexp.MustCompile(`"(/(?:static/vendor|widget/static)/[0-9a-f]{12}/[^"]+)"`)

// firstLoad is every file a visitor's browser fetches the first time: the
// loader, the framed page, its stylesheet and every module of its import
// map (the vendored ones included), as the server sends them gzipped.
func firstLoad(t *testing.T, srv *httptest.Server) (total int, parts map[string]int) {
	t.Helper()
	gz := map[string]string{"Accept-Encoding": "gzip"}
	parts = map[string]int{}
	add := func(path string) string {
		res, body := fetch(t, srv.URL+path, gz)
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: %d, encoding %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		parts[path] = len(body)
		total += len(body)
		return body
	}
	add(widget.LoaderPath)
	add(widget.FramePath)
	_, frame := fetch(t, srv.URL+widget.FramePath, nil)
	refs := moduleRef.FindAllStringSubmatch(frame, -1)
	css := regexp.MustCompile(`href="(/widget/static/[^"]+\.css)"`).FindStringSubmatch(frame)
	if len(refs) < 8 || css == nil {
		t.Fatalf("the frame names %d modules and stylesheet %v:\n%s", len(refs), css, frame)
	}
	for _, r := range refs {
		add(r[1])
	}
	if _, ok := parts[css[1]]; !ok {
		add(css[1])
	}
	return total, parts
}

func TestSizeBudgets(t *testing.T) {
	h, srv := handler(t)
	_, loaderGz := h.Loader()
	t.Logf("loader: %d bytes gzipped (budget %d)", len(loaderGz), loaderBudget)
	if len(loaderGz) > loaderBudget {
		t.Errorf("the loader is %d bytes gzipped, over its %d-byte budget", len(loaderGz), loaderBudget)
	}
	total, parts := firstLoad(t, srv)
	for p, n := range parts {
		t.Logf("  %6d  %s", n, p)
	}
	t.Logf("first load: %d bytes gzipped in %d files (budget %d)", total, len(parts), firstLoadBudget)
	if total > firstLoadBudget {
		t.Errorf("the first load is %d bytes gzipped, over its %d-byte budget", total, firstLoadBudget)
	}
}

func TestHeaders(t *testing.T) {
	h, srv := handler(t)
	res, body := fetch(t, srv.URL+widget.LoaderPath, nil)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("loader content type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("loader cache %q", cc)
	}
	if !strings.Contains(body, "window.Kommunicate") && !strings.Contains(body, "w.Kommunicate") {
		t.Error("the loader does not define Kommunicate")
	}
	if r2, _ := fetch(t, srv.URL+widget.LoaderPath, map[string]string{"If-None-Match": res.Header.Get("ETag")}); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d", r2.StatusCode)
	}

	res, frame := fetch(t, srv.URL+widget.FramePath+"?appId=default", nil)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' 'sha256-", "object-src 'none'", "connect-src 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("frame policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "frame-ancestors") || res.Header.Get("X-Frame-Options") != "" {
		t.Error("the frame must be embeddable by any site")
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("frame policy allows inline code: %q", csp)
	}
	for _, r := range moduleRef.FindAllStringSubmatch(frame, -1) {
		res, _ := fetch(t, srv.URL+r[1], nil)
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != webvendor.ImmutableCache {
			t.Errorf("%s: %d, cache %q", r[1], res.StatusCode, res.Header.Get("Cache-Control"))
		}
		want := "text/javascript"
		if strings.HasSuffix(r[1], ".css") {
			want = "text/css"
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("%s: content type %q", r[1], ct)
		}
	}

	res, demo := fetch(t, srv.URL+widget.DemoPath, nil)
	if res.StatusCode != 200 || !strings.Contains(demo, `appId: "default"`) || !strings.Contains(demo, `src="/widget.js"`) {
		t.Errorf("demo page: %d\n%s", res.StatusCode, demo)
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "'sha256-") {
		t.Errorf("demo policy %q", res.Header.Get("Content-Security-Policy"))
	}
	_ = h
}

func TestDemoAppIDIsEscaped(t *testing.T) {
	h, err := widget.New(widget.Options{DemoAppID: `"</script><script>alert(1)//`})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]http.Handler{}
	h.Mount(m)
	rec := httptest.NewRecorder()
	m["GET "+widget.DemoPath].ServeHTTP(rec, httptest.NewRequest("GET", widget.DemoPath, nil))
	if strings.Contains(rec.Body.String(), "</script><script>alert(1)") {
		t.Fatal("the demo app id broke out of its script")
	}
}
