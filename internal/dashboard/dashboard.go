// Package dashboard serves the agents' and admins' web application: one HTML
// shell at / and its ES modules, which run on the vendored Preact and htm
// (internal/webvendor) with no build step. Everything the application shows
// comes from the REST API (/api/v1) and the realtime gateway (/ws); this
// package only delivers the files, with headers strict enough that injected
// markup cannot run scripts or frame the dashboard.
//
// The application routes by the URL fragment (/#/inbox, /#/settings/bots),
// so the server owns exactly one page path and never shadows an API route.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/webvendor"
)

//go:embed files
var embedded embed.FS

//go:embed shell.html
var shellSource string

// Prefix is where the dashboard's own modules and styles are served, each
// under a content hash like the vendored files.
const Prefix = "/static/dashboard/"

// ShellPattern matches only the root path: the page itself.
const ShellPattern = "GET /{$}"

// Handler serves the shell and the dashboard's files.
type Handler struct {
	files   *webvendor.Assets
	shell   []byte
	shellGz []byte
	etag    string
	policy  string
}

// New prepares the shell and hashes the files once.
func New() (*Handler, error) {
	files, importMap, err := webvendor.App(embedded, "files", Prefix, "dash/")
	if err != nil {
		return nil, err
	}
	// Every value put into the page is made here from names this package
	// owns, so plain substitution is safe; html/template would escape the
	// import map, and then the hash in the policy would not match it.
	shell := []byte(strings.NewReplacer(
		"{{.ImportMap}}", string(importMap),
		"{{.Stylesheet}}", files.URL("dashboard.css"),
		"{{.Main}}", files.URL("main.js"),
	).Replace(shellSource))
	sum := sha256.Sum256(shell)
	return &Handler{
		files:   files,
		shell:   shell,
		shellGz: webvendor.Gzip(shell),
		etag:    `"` + base64.RawURLEncoding.EncodeToString(sum[:9]) + `"`,
		policy:  contentSecurityPolicy(importMap),
	}, nil
}

// Mount registers the shell, the dashboard's files and the vendored
// modules in a mux-pattern table such as httpapi.Options.Mount. The
// vendored modules are registered only when no one else has: the widget
// serves the same ones.
func (h *Handler) Mount(m map[string]http.Handler) {
	m[ShellPattern] = http.HandlerFunc(h.serveShell)
	m["GET "+Prefix] = h.files
	if _, ok := m[webvendor.Pattern]; !ok {
		webvendor.Mount(m)
	}
}

// contentSecurityPolicy allows scripts only from this origin plus the one
// inline import map, by its hash: a message that slipped past sanitising
// still could not run code. Images and media may come from https (bot
// cards and attachments link out); frames only from the video players that
// rich messages embed; and no one may frame the dashboard.
func contentSecurityPolicy(importMap []byte) string {
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' " + webvendor.ScriptHash(importMap),
		"style-src 'self'",
		"img-src 'self' https: data: blob:",
		"media-src 'self' https: blob:",
		"connect-src 'self'",
		"frame-src https://www.youtube-nocookie.com https://www.youtube.com https://player.vimeo.com",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

// serveShell sends the page. It is revalidated on every load (no-cache with
// an ETag), so a new release's shell, which names new file hashes, is picked
// up at once while unchanged loads cost a 304.
func (h *Handler) serveShell(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.policy)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", h.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, h.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	webvendor.ServeBytes(w, r, h.shell, h.shellGz)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// FileURL is the served, content-hashed path of one of the dashboard's
// files, for tests and for pages that link to them.
func (h *Handler) FileURL(name string) string { return h.files.URL(name) }
