package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/config"
	"github.com/switchboard-chat/switchboard/internal/server"
	"github.com/switchboard-chat/switchboard/internal/upload/s3test"
)

// A node configured with an S3 bucket, as an operator would through the
// environment, stores uploads in the bucket and serves them back through
// the signed /files link, whole or by range.
func TestUploadsInS3(t *testing.T) {
	s3srv := s3test.Start(t)
	for k, v := range s3test.Env() {
		t.Setenv(k, v)
	}
	const apiKey = "sk_test_uploads_in_s3_0123456789"
	env := map[string]string{
		"SWITCHBOARD_DATA_DIR":          t.TempDir(),
		"SWITCHBOARD_BOOTSTRAP_API_KEY": apiKey,
		"SWITCHBOARD_DEMO":              "false",
		"SWITCHBOARD_S3_BUCKET":         s3srv.Bucket,
		"SWITCHBOARD_S3_ENDPOINT":       s3srv.URL,
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Uploads.Backend != config.UploadsS3 {
		t.Fatalf("uploads backend %q", cfg.Uploads.Backend)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: quiet, Out: io.Discard, Passwords: auth.TestParams})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h := srv.Handler()

	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("file", "dot.png")
	part.Write(png)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/uploads", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	var up struct{ ID, URL string }
	if err := json.Unmarshal(rec.Body.Bytes(), &up); err != nil {
		t.Fatal(err)
	}
	link, err := url.Parse(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	appID := strings.Split(link.Path, "/")[2]
	if !s3srv.Has(t, appID+"/"+up.ID) {
		t.Fatalf("upload %s/%s is not in the bucket", appID, up.ID)
	}

	get := func(target, rng string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if rng != "" {
			r.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := get(link.RequestURI(), ""); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), png) || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("whole file: %d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
	}
	if w := get(link.RequestURI(), "bytes=1-3"); w.Code != http.StatusPartialContent || w.Body.String() != "PNG" {
		t.Fatalf("range: %d %q", w.Code, w.Body.String())
	}
	q := link.Query()
	q.Set("sig", strings.Repeat("A", len(q.Get("sig"))))
	if w := get(link.Path+"?"+q.Encode(), ""); w.Code < 400 || w.Code >= 500 || bytes.Contains(w.Body.Bytes(), png[:4]) {
		t.Fatalf("forged signature: %d", w.Code)
	}
	// A file gone from the bucket is a plain 404, not a server error.
	s3srv.Remove(t, appID+"/"+up.ID)
	if w := get(link.RequestURI(), ""); w.Code != http.StatusNotFound {
		t.Fatalf("file gone from the bucket: %d %s", w.Code, w.Body)
	}
}

// A node whose bucket cannot be reached refuses to start, naming the bucket,
// instead of failing on the first upload.
func TestUploadsS3BucketMissing(t *testing.T) {
	s3srv := s3test.Start(t)
	for k, v := range s3test.Env() {
		t.Setenv(k, v)
	}
	env := map[string]string{
		"SWITCHBOARD_DATA_DIR":    t.TempDir(),
		"SWITCHBOARD_DEMO":        "false",
		"SWITCHBOARD_S3_BUCKET":   "not-created",
		"SWITCHBOARD_S3_ENDPOINT": s3srv.URL,
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: quiet, Out: io.Discard, Passwords: auth.TestParams})
	if err == nil {
		srv.Close()
		t.Fatal("started without its bucket")
	}
	if !strings.Contains(err.Error(), "not-created") {
		t.Fatalf("error %q does not name the bucket", err)
	}
}
