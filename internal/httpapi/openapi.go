package httpapi

import (
	_ "embed"
	"encoding/json"
)

// openapiSpec is the API's OpenAPI 3.1 document. It is maintained by hand,
// as a JSON file, rather than generated from the Go types: it is a public
// contract that external tools are built against, so a change to it should
// be a deliberate, reviewable edit, and the conformance test (every route of
// the table documented, every response of a scripted walk valid against its
// schema) catches the code and the document drifting apart.
//
//go:embed openapi.json
var openapiSpec []byte

// openapiDocument returns the document to serve, naming publicURL as the
// server so that tools such as Swagger UI send requests to the right place.
func openapiDocument(publicURL string) []byte {
	if publicURL == "" {
		return openapiSpec
	}
	var doc map[string]any
	if err := json.Unmarshal(openapiSpec, &doc); err != nil {
		// The file is embedded and checked by the tests; this cannot
		// happen in a released binary.
		panic("httpapi: openapi.json is not valid JSON: " + err.Error())
	}
	doc["servers"] = []map[string]string{{"url": publicURL}}
	out, err := json.Marshal(doc)
	if err != nil {
		panic("httpapi: re-encoding openapi.json: " + err.Error())
	}
	return out
}
