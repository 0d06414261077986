// Package webvendor serves the third-party browser modules that Switchboard's
// web pages share (Preact, its hooks, htm and DOMPurify) at
// /static/vendor/<hash>/<file>, and the content-hashed static file handler
// that the widget and the dashboard serve their own files with.
//
// The modules are copied unchanged from their npm tarballs (see
// files/VERSIONS) and embedded, so nothing is fetched at build or run time.
// Pages load them through the import map from ImportMap, which also lets
// preact/hooks find "preact" by its bare name.
package webvendor

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed files
var embedded embed.FS

// Prefix is where the vendored files are served.
const Prefix = "/static/vendor/"

// Pattern is the mux pattern to mount Handler at.
const Pattern = "GET " + Prefix

// modules maps each import specifier pages use to its vendored file.
var modules = map[string]string{
	"preact":       "preact.mjs",
	"preact/hooks": "preact-hooks.mjs",
	"htm":          "htm.mjs",
	"dompurify":    "purify.es.mjs",
}

var vendor = func() *Assets {
	sub, err := fs.Sub(embedded, "files")
	if err != nil {
		panic(err)
	}
	return MustAssets(sub, Prefix)
}()

// Handler serves the vendored files.
func Handler() http.Handler { return vendor }

// Mount registers Handler in a mux-pattern table such as
// httpapi.Options.Mount.
func Mount(m map[string]http.Handler) { m[Pattern] = vendor }

// Files gives access to the vendored files' URLs and contents.
func Files() *Assets { return vendor }

// ModuleURL is the served path of an import specifier ("preact",
// "preact/hooks", "htm", "dompurify"). It panics on any other name.
func ModuleURL(specifier string) string {
	name, ok := modules[specifier]
	if !ok {
		panic("webvendor: no module " + specifier)
	}
	return vendor.URL(name)
}

// ImportMap is the body of a <script type="importmap"> that resolves the
// vendored modules' bare specifiers. Pages must place it before their first
// module script.
func ImportMap() []byte {
	imports := make(map[string]string, len(modules))
	for spec := range modules {
		imports[spec] = ModuleURL(spec)
	}
	b, _ := json.Marshal(map[string]any{"imports": imports})
	return b
}

// ImportMapWith is ImportMap extended with every module of own, named
// prefix+file ("dash/inbox.js"). Pages that serve their modules under
// per-file content hashes need it: a relative import between two of them
// would point into the wrong hash directory. json.Marshal sorts the keys,
// so the bytes, and a policy's hash of them, are stable.
func ImportMapWith(own *Assets, prefix string) ([]byte, error) {
	imports := make(map[string]string, len(modules)+len(own.Names()))
	for spec := range modules {
		imports[spec] = ModuleURL(spec)
	}
	for _, name := range own.Names() {
		if strings.HasSuffix(name, ".js") {
			imports[prefix+name] = own.URL(name)
		}
	}
	return json.Marshal(map[string]any{"imports": imports})
}

// App loads a page's own modules from dir of fsys, served under urlPrefix,
// and returns them with the page's import map, in which they are named
// alias+file. The dashboard and the widget are both built this way.
func App(fsys fs.FS, dir, urlPrefix, alias string) (*Assets, []byte, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, nil, err
	}
	files, err := NewAssets(sub, urlPrefix)
	if err != nil {
		return nil, nil, err
	}
	importMap, err := ImportMapWith(files, alias)
	if err != nil {
		return nil, nil, err
	}
	return files, importMap, nil
}

// ScriptHash is the CSP source ('sha256-…') that allows one inline script
// with exactly this body.
func ScriptHash(body []byte) string {
	sum := sha256.Sum256(body)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
