package webvendor

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

// Assets serves a fixed set of embedded files under content-hashed paths,
// prefix + "<hash>/<name>". A path names exactly one version of a file, so
// browsers may keep it for a year without revalidating; a new release gets
// new paths. Each file is gzipped once at start, not per request.
type Assets struct {
	prefix string
	files  map[string]*asset // by name
}

type asset struct {
	name  string
	hash  string
	ctype string
	raw   []byte
	gz    []byte
}

// ImmutableCache is the Cache-Control of every content-hashed response.
const ImmutableCache = "public, max-age=31536000, immutable"

// NewAssets reads every regular file at the top of fsys. prefix is the URL
// path the handler is mounted at, such as "/static/vendor/"; it must start
// and end with a slash.
func NewAssets(fsys fs.FS, prefix string) (*Assets, error) {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("asset prefix %q must start and end with /", prefix)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	a := &Assets{prefix: prefix, files: map[string]*asset{}}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		raw, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		a.files[e.Name()] = &asset{
			name:  e.Name(),
			hash:  hex.EncodeToString(sum[:6]),
			ctype: ContentType(e.Name()),
			raw:   raw,
			gz:    Gzip(raw),
		}
	}
	return a, nil
}

// MustAssets is NewAssets for embedded files known at build time.
func MustAssets(fsys fs.FS, prefix string) *Assets {
	a, err := NewAssets(fsys, prefix)
	if err != nil {
		panic(err)
	}
	return a
}

// ContentType is the type a file is served with, chosen by its extension.
// JavaScript modules need a JavaScript type or browsers refuse to run them.
func ContentType(name string) string {
	switch ext := path.Ext(name); ext {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".mp3":
		return "audio/mpeg"
	case "", ".preact", ".htm", ".dompurify":
		// Licence texts and the VERSIONS file.
		return "text/plain; charset=utf-8"
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t
		}
		return "application/octet-stream"
	}
}

// URL is the content-hashed path of name. It panics on an unknown name,
// because every caller names a file that ships in the binary.
func (a *Assets) URL(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("webvendor: no asset " + name)
	}
	return a.prefix + f.hash + "/" + name
}

// Names lists the files, sorted.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Content returns a file's bytes and their gzipped form, for size budgets.
func (a *Assets) Content(name string) (raw, gz []byte, ok bool) {
	f, ok := a.files[name]
	if !ok {
		return nil, nil, false
	}
	return f.raw, f.gz, true
}

// ServeHTTP answers GET and HEAD for prefix + "<hash>/<name>". A stale hash
// is a 404 rather than the current file: a page built against an older
// release must not silently mix versions.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, a.prefix)
	hash, name, ok2 := strings.Cut(rest, "/")
	f := a.files[name]
	if !ok || !ok2 || f == nil || f.hash != hash {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	a.write(w, r, f)
}

func (a *Assets) write(w http.ResponseWriter, r *http.Request, f *asset) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", ImmutableCache)
	h.Set("X-Content-Type-Options", "nosniff")
	// Module scripts are fetched in CORS mode; a widget page on another
	// origin than the host page still loads them.
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("ETag", `"`+f.hash+`"`)
	ServeBytes(w, r, f.raw, f.gz)
}

// ServeBytes writes body, gzipped when the client accepts it. Headers other
// than the encoding and length are the caller's.
func ServeBytes(w http.ResponseWriter, r *http.Request, raw, gz []byte) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	body := raw
	if gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// Gzip compresses b the way Assets does, for content built at run time.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
