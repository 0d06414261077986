// Package s3test runs an in-memory S3-compatible server on loopback for
// tests of the S3 upload storage, addressed path-style like MinIO.
package s3test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Access key pair the server accepts. Requests signed with any other key
// are refused, so a test sees whether the credentials it configured are the
// ones used.
const (
	AccessKeyID     = "SWITCHBOARDTESTKEY"
	SecretAccessKey = "switchboard-test-secret"
)

// Server is a running S3-compatible server with one bucket.
type Server struct {
	URL     string
	Bucket  string
	backend *s3mem.Backend
}

// Start serves until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	backend := s3mem.New()
	const bucket = "switchboard-uploads"
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatalf("s3test: creating bucket: %v", err)
	}
	faker := gofakes3.New(backend, gofakes3.WithAutoBucket(false))
	s3 := faker.Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+AccessKeyID+"/") {
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
			return
		}
		s3.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, Bucket: bucket, backend: backend}
}

// Has reports whether the bucket holds key.
func (s *Server) Has(t testing.TB, key string) bool {
	t.Helper()
	_, err := s.backend.HeadObject(s.Bucket, key)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
		return false
	}
	if err != nil {
		t.Fatalf("s3test: head %s: %v", key, err)
	}
	return true
}

// Remove deletes key behind the node's back, as a lifecycle rule or an
// operator would.
func (s *Server) Remove(t testing.TB, key string) {
	t.Helper()
	if _, err := s.backend.DeleteObject(s.Bucket, key); err != nil {
		t.Fatalf("s3test: delete %s: %v", key, err)
	}
}

// Env returns the AWS settings that point the standard credential chain at
// this server's key pair, for tests that configure a node as an operator
// would.
func Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": SecretAccessKey,
		// Keep a developer's own AWS files out of the test.
		"AWS_CONFIG_FILE":             "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_PROFILE":                 "",
		"AWS_SESSION_TOKEN":           "",
	}
}
