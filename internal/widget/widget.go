// Package widget serves the visitors' chat widget: the loader a site
// includes with one script tag (/widget.js), the page the loader frames
// (/widget/frame), its ES modules and styles, and a demo host page (/demo).
//
// The loader is deliberately tiny and dependency-free: it draws the
// launcher and an iframe, and speaks to the framed application over
// postMessage. Everything else runs inside the iframe, on the widget's own
// origin, so the host page's CSS and scripts cannot reach it and its own
// cannot leak out. The framed application is Preact and htm from
// internal/webvendor, with no build step.
package widget

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/webvendor"
)

//go:embed files
var embedded embed.FS

//go:embed loader.js
var loaderSource []byte

//go:embed frame.html
var frameSource string

//go:embed demo.html
var demoSource string

// Paths the widget owns.
const (
	Prefix     = "/widget/static/"
	LoaderPath = "/widget.js"
	FramePath  = "/widget/frame"
	DemoPath   = "/demo"
)

// Options configure the handler.
type Options struct {
	// DemoAppID is the app the demo page chats with.
	DemoAppID string
}

// Handler serves the widget.
type Handler struct {
	files  *webvendor.Assets
	loader page
	frame  page
	demo   page
}

// page is one generated document, kept with its gzipped form.
type page struct {
	body, gz []byte
	ctype    string
	etag     string
	policy   string
}

func newPage(body []byte, ctype, policy string) page {
	sum := sha256.Sum256(body)
	return page{body: body, gz: webvendor.Gzip(body), ctype: ctype, policy: policy,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:9]) + `"`}
}

// New prepares the pages and hashes the files once.
func New(o Options) (*Handler, error) {
	files, importMap, err := webvendor.App(embedded, "files", Prefix, "sb/")
	if err != nil {
		return nil, err
	}
	// Every value substituted below is made here from names this package
	// owns, so plain replacement is safe; the policy hashes the import map
	// exactly as it appears in the page.
	frame := strings.NewReplacer(
		"{{.ImportMap}}", string(importMap),
		"{{.Stylesheet}}", files.URL("widget.css"),
		"{{.Main}}", files.URL("app.js"),
	).Replace(frameSource)
	appID, _ := json.Marshal(o.DemoAppID)
	demo := strings.NewReplacer("{{.AppID}}", string(appID)).Replace(demoSource)
	return &Handler{
		files:  files,
		loader: newPage(loaderSource, "text/javascript; charset=utf-8", ""),
		frame:  newPage([]byte(frame), "text/html; charset=utf-8", framePolicy(importMap)),
		demo:   newPage([]byte(demo), "text/html; charset=utf-8", demoPolicy(demo)),
	}, nil
}

// Mount registers the widget's routes and the vendored modules in a
// mux-pattern table such as httpapi.Options.Mount.
func (h *Handler) Mount(m map[string]http.Handler) {
	m["GET "+LoaderPath] = h.serve(h.loader, "public, max-age=300")
	m["GET "+FramePath] = h.serve(h.frame, "no-cache")
	m["GET "+DemoPath] = h.serve(h.demo, "no-cache")
	m["GET "+Prefix] = h.files
	if _, ok := m[webvendor.Pattern]; !ok {
		webvendor.Mount(m)
	}
}

// Files gives tests and benchmarks the widget's files.
func (h *Handler) Files() *webvendor.Assets { return h.files }

// Loader is the loader's source and its gzipped form.
func (h *Handler) Loader() (raw, gz []byte) { return h.loader.body, h.loader.gz }

// Frame is the framed page and its gzipped form.
func (h *Handler) Frame() (raw, gz []byte) { return h.frame.body, h.frame.gz }

// serve answers with p. The loader's URL never changes (sites paste it), so
// it is cached briefly; the pages are revalidated every time, and name
// content-hashed files that are cached for a year.
func (h *Handler) serve(p page, cache string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", cache)
		hd.Set("ETag", p.etag)
		if p.policy != "" {
			hd.Set("Content-Security-Policy", p.policy)
			hd.Set("Referrer-Policy", "no-referrer")
		}
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, p.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		hd.Set("Content-Type", p.ctype)
		webvendor.ServeBytes(w, r, p.body, p.gz)
	})
}

// framePolicy lets only the widget's own scripts and its import map run, so
// markup that slipped past sanitising still could not execute. Unlike the
// dashboard, any site may frame the widget: that is its purpose.
func framePolicy(importMap []byte) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' " + webvendor.ScriptHash(importMap),
		"style-src 'self'",
		"img-src 'self' https: data: blob:",
		"media-src 'self' https: blob:",
		"connect-src 'self'",
		"frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'none'",
	}, "; ")
}

// demoPolicy is the demo host page's: its one inline script (the settings,
// as a customer's page would have them) and the loader.
func demoPolicy(demo string) string {
	start := strings.Index(demo, "<script>")
	end := strings.Index(demo, "</script>")
	inline := []byte{}
	if start >= 0 && end > start {
		inline = []byte(demo[start+len("<script>") : end])
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' " + webvendor.ScriptHash(inline),
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"frame-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
	}, "; ")
}
