package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specChecker validates requests and responses against openapi.json. OpenAPI
// 3.1 schemas are JSON Schema 2020-12, so the document is loaded as one
// resource and each schema is compiled by its JSON pointer inside it.
type specChecker struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	cache    map[string]*jsonschema.Schema
}

const specURL = "file:///openapi.json"

var (
	specOnce   sync.Once
	sharedSpec *specChecker
	specErr    error
)

func loadSpec(t testing.TB) *specChecker {
	t.Helper()
	specOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapiSpec))
		if err != nil {
			specErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource(specURL, doc); err != nil {
			specErr = err
			return
		}
		sharedSpec = &specChecker{doc: doc.(map[string]any), compiler: c, cache: map[string]*jsonschema.Schema{}}
	})
	if specErr != nil {
		t.Fatalf("loading openapi.json: %v", specErr)
	}
	return sharedSpec
}

func (sc *specChecker) schema(t testing.TB, ptr string) *jsonschema.Schema {
	t.Helper()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if s, ok := sc.cache[ptr]; ok {
		return s
	}
	s, err := sc.compiler.Compile(specURL + "#" + ptr)
	if err != nil {
		t.Fatalf("compiling schema %s: %v", ptr, err)
	}
	sc.cache[ptr] = s
	return s
}

func escapePtr(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func (sc *specChecker) operation(route string) (op map[string]any, ptr string, pathKnown bool) {
	method, path, _ := strings.Cut(route, " ")
	item, ok := sc.doc["paths"].(map[string]any)[path].(map[string]any)
	if !ok {
		return nil, "", false
	}
	m := strings.ToLower(method)
	op, _ = item[m].(map[string]any)
	return op, "/paths/" + escapePtr(path) + "/" + m, true
}

// resolve follows a local $ref of a response or request body.
func (sc *specChecker) resolve(v map[string]any, ptr string) (map[string]any, string) {
	ref, ok := v["$ref"].(string)
	if !ok {
		return v, ptr
	}
	ref = strings.TrimPrefix(ref, "#")
	var cur any = sc.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		cur = cur.(map[string]any)[tok]
	}
	return cur.(map[string]any), ref
}

const errorSchemaPtr = "/components/schemas/Error"

// checkResponse fails the test when r is not what the document promises for
// route: an undocumented status, a body that does not match its schema, or
// a missing security header.
func (sc *specChecker) checkResponse(t testing.TB, route string, r resp) {
	t.Helper()
	method, path, _ := strings.Cut(route, " ")
	if strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/healthz") || strings.HasPrefix(path, "/readyz") {
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d without X-Content-Type-Options: nosniff", route, r.status)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d with Cache-Control %q, want no-store", route, r.status, r.header.Get("Cache-Control"))
		}
	}
	op, opPtr, pathKnown := sc.operation(route)
	if op == nil {
		// Not a documented route: only the error answers are possible.
		want := http.StatusNotFound
		if pathKnown {
			want = http.StatusMethodNotAllowed
		}
		if r.status != want {
			t.Errorf("%s (undocumented): status %d, want %d: %s", route, r.status, want, r.body)
		}
		sc.validate(t, route, errorSchemaPtr, r.body)
		return
	}
	responses := op["responses"].(map[string]any)
	code := strconv.Itoa(r.status)
	res, ok := responses[code].(map[string]any)
	resPtr := opPtr + "/responses/" + code
	if !ok && r.status >= 500 {
		res, ok = responses["default"].(map[string]any)
		resPtr = opPtr + "/responses/default"
	}
	if !ok {
		t.Errorf("%s %s: status %d is not documented: %s", method, path, r.status, r.body)
		return
	}
	res, resPtr = sc.resolve(res, resPtr)
	content, _ := res["content"].(map[string]any)
	if len(content) == 0 {
		if len(r.body) != 0 && r.status != http.StatusNotModified {
			t.Errorf("%s: %d is documented without a body, got %q", route, r.status, r.body)
		}
		return
	}
	if _, ok := content["application/json"]; ok {
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: %d has Content-Type %q, want application/json", route, r.status, ct)
		}
		sc.validate(t, route, resPtr+"/content/application~1json/schema", r.body)
		return
	}
	if r.header.Get("Content-Type") == "" {
		t.Errorf("%s: %d without Content-Type", route, r.status)
	}
}

// checkRequest validates a request body the server accepted against the
// documented request schema, so the document does not forbid what works.
func (sc *specChecker) checkRequest(t testing.TB, route string, body []byte) {
	t.Helper()
	op, opPtr, _ := sc.operation(route)
	if op == nil {
		return
	}
	rb, ok := op["requestBody"].(map[string]any)
	if !ok {
		t.Errorf("%s: accepted a JSON body but documents none", route)
		return
	}
	if _, ok := rb["content"].(map[string]any)["application/json"]; !ok {
		return
	}
	sc.validate(t, route+" (request)", opPtr+"/requestBody/content/application~1json/schema", body)
}

func (sc *specChecker) validate(t testing.TB, what, ptr string, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: body is not JSON: %v: %q", what, err, body)
		return
	}
	if err := sc.schema(t, ptr).Validate(inst); err != nil {
		t.Errorf("%s: body does not match %s: %v\nbody: %s", what, ptr, err, body)
	}
}

// TestOpenAPIDocument checks the document itself and that it and the route
// table describe exactly the same routes.
func TestOpenAPIDocument(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openapiSpec, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", v)
	}
	sc := loadSpec(t)

	documented := map[string]bool{}
	opIDs := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			route := strings.ToUpper(method) + " " + path
			documented[route] = true
			id, _ := op.(map[string]any)["operationId"].(string)
			if id == "" {
				t.Errorf("%s has no operationId", route)
			}
			if prev, dup := opIDs[id]; dup {
				t.Errorf("operationId %q used by %s and %s", id, prev, route)
			}
			opIDs[id] = route
		}
	}
	registered := map[string]bool{}
	for _, rt := range routes() {
		if registered[rt.pattern()] {
			t.Errorf("route %s is in the table twice", rt.pattern())
		}
		registered[rt.pattern()] = true
		if !documented[rt.pattern()] {
			t.Errorf("route %s is not in openapi.json", rt.pattern())
		}
		op, _, _ := sc.operation(rt.pattern())
		if op == nil {
			continue
		}
		sec, hasSec := op["security"].([]any)
		isPublic := hasSec && len(sec) == 0
		if isPublic != (rt.access == public) {
			t.Errorf("%s: the document's security (public=%v) disagrees with the route table", rt.pattern(), isPublic)
		}
		if rt.access == authenticated {
			if _, ok := op["responses"].(map[string]any)["401"]; !ok {
				t.Errorf("%s: needs authentication but documents no 401", rt.pattern())
			}
		}
	}
	for route := range documented {
		if !registered[route] {
			t.Errorf("openapi.json documents %s, which is not in the route table", route)
		}
	}

	// Every schema compiles, which also proves every $ref resolves.
	names := []string{}
	for name := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc.schema(t, "/components/schemas/"+escapePtr(name))
	}
	schemes := doc["components"].(map[string]any)["securitySchemes"].(map[string]any)
	for _, s := range []string{"bearerAuth", "apiKeyHeader", "sessionCookie", "csrfToken"} {
		if schemes[s] == nil {
			t.Errorf("security scheme %s is missing", s)
		}
	}
}

func TestOpenAPIServedWithServer(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, req{route: "GET /api/v1/openapi.json"})
	var doc struct {
		OpenAPI string              `json:"openapi"`
		Servers []map[string]string `json:"servers"`
	}
	r.json(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") || len(doc.Servers) != 1 || doc.Servers[0]["url"] != e.srv.URL {
		t.Fatalf("served document: openapi %q, servers %v", doc.OpenAPI, doc.Servers)
	}
}
