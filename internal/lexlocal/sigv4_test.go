package lexlocal_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// TestSigningKeyAcrossMidnight checks the per-day signing key: around
// midnight clients sign for either date, and each must verify against its
// own day's key however requests interleave, while a wrong secret is
// refused whatever key is current.
func TestSigningKeyAcrossMidnight(t *testing.T) {
	now := time.Date(2026, 3, 4, 23, 59, 0, 0, time.UTC)
	srv, err := lexlocal.New(lexlocal.Options{
		AccessKeyID: testKey, SecretAccessKey: testSecret, Region: region, Brain: echoBrain{},
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	before, after := now.Add(-2*time.Minute), now.Add(2*time.Minute) // 23:57 and 00:01
	for i, tc := range []struct {
		secret string
		at     time.Time
		want   int
	}{
		{testSecret, before, 200},
		{testSecret, after, 200},
		{testSecret, before, 200},
		{"wrong", before, 403},
		{"wrong", after, 403},
		{testSecret, after, 200},
		{testSecret, after, 200},
		{"wrong", after, 403},
		{testSecret, before, 200},
	} {
		req := httptest.NewRequest(http.MethodGet, "/bots/"+botID, nil)
		empty := sha256.Sum256(nil)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: tc.secret},
			req, hex.EncodeToString(empty[:]), "lex", region, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("request %d (%s, signed %s): status %d, want %d: %s", i, tc.secret, tc.at.Format(time.TimeOnly), w.Code, tc.want, w.Body)
		}
	}
}
