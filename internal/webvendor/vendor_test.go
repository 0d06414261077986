package webvendor_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/switchboard-chat/switchboard/internal/webvendor"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestModulesServedWithTypeCacheAndGzip(t *testing.T) {
	h := webvendor.Handler()
	for _, spec := range []string{"preact", "preact/hooks", "htm", "dompurify"} {
		url := webvendor.ModuleURL(spec)
		if !strings.HasPrefix(url, webvendor.Prefix) {
			t.Fatalf("%s: url %q outside %s", spec, url, webvendor.Prefix)
		}
		res := get(t, h, url, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", url, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
			t.Errorf("%s: content type %q", url, ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != webvendor.ImmutableCache {
			t.Errorf("%s: cache control %q", url, cc)
		}
		if !bytes.Contains(body, []byte("export")) {
			t.Errorf("%s: body is not an ES module", url)
		}
		zres := get(t, h, url, map[string]string{"Accept-Encoding": "br, gzip"})
		if zres.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: not gzipped for a gzip client", url)
		}
		zr, err := gzip.NewReader(zres.Body)
		if err != nil {
			t.Fatal(err)
		}
		unz, _ := io.ReadAll(zr)
		if !bytes.Equal(unz, body) {
			t.Errorf("%s: gzipped body differs from the plain one", url)
		}
		if no := get(t, h, url, map[string]string{"Accept-Encoding": "gzip;q=0"}); no.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzipped although the client refused it", url)
		}
	}
}

func TestStaleOrUnknownPathsAreNotFound(t *testing.T) {
	h := webvendor.Handler()
	good := webvendor.ModuleURL("preact")
	hash := strings.Split(strings.TrimPrefix(good, webvendor.Prefix), "/")[0]
	for _, p := range []string{
		webvendor.Prefix + "000000000000/preact.mjs",
		webvendor.Prefix + hash + "/nope.mjs",
		webvendor.Prefix + "preact.mjs",
		webvendor.Prefix,
		webvendor.Prefix + hash + "/../files/preact.mjs",
	} {
		res := get(t, h, p, nil)
		if res.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", p, res.StatusCode)
		}
		if res.Header.Get("Cache-Control") == webvendor.ImmutableCache {
			t.Errorf("%s: a miss must not be cached for a year", p)
		}
	}
	req := httptest.NewRequest(http.MethodPost, good, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

func TestImportMapNamesEveryModule(t *testing.T) {
	var m struct{ Imports map[string]string }
	if err := json.Unmarshal(webvendor.ImportMap(), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Imports) != 4 {
		t.Fatalf("imports %v", m.Imports)
	}
	for spec, url := range m.Imports {
		if res := get(t, webvendor.Handler(), url, nil); res.StatusCode != 200 {
			t.Errorf("%s → %s: status %d", spec, url, res.StatusCode)
		}
	}
}

// Every shipped file is named in VERSIONS, and every package has its licence.
func TestVersionsAndLicences(t *testing.T) {
	f := webvendor.Files()
	versions, _, ok := f.Content("VERSIONS")
	if !ok {
		t.Fatal("no VERSIONS file")
	}
	for _, n := range f.Names() {
		if n == "VERSIONS" || strings.HasPrefix(n, "LICENSE") {
			continue
		}
		if !bytes.Contains(versions, []byte("\n"+n+" ")) {
			t.Errorf("VERSIONS does not name %s", n)
		}
	}
	for _, lic := range []string{"LICENSE.preact", "LICENSE.htm", "LICENSE.dompurify"} {
		raw, _, ok := f.Content(lic)
		if !ok || len(raw) < 500 {
			t.Errorf("licence %s missing or truncated", lic)
		}
	}
}

func TestNewAssetsRejectsBadPrefix(t *testing.T) {
	fsys := fstest.MapFS{"a.js": {Data: []byte("x")}}
	for _, p := range []string{"", "static/", "/static"} {
		if _, err := webvendor.NewAssets(fsys, p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	a, err := webvendor.NewAssets(fsys, "/s/")
	if err != nil {
		t.Fatal(err)
	}
	if res := get(t, a, a.URL("a.js"), nil); res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("status %d, CORS %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
}
