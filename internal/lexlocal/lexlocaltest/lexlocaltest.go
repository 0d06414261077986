// Package lexlocaltest starts the local Lex runtime for tests in other
// packages: a real HTTP server on loopback with fresh keys, spoken to by the
// unmodified aws-sdk-go-v2 clients, and a small fixed Brain to put behind it.
package lexlocaltest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// Region is the region every Server started here expects requests to be
// signed for.
const Region = "eu-west-1"

// Server is a running local runtime and the credentials it accepts.
type Server struct {
	URL             string
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	// RestrictedAccessKeyID and RestrictedSecretAccessKey sign correctly but
	// are refused on the model API (DescribeBotAlias, ListBots, ...), like an
	// IAM user that has AmazonLexRunBotsOnly without AmazonLexReadOnly.
	RestrictedAccessKeyID     string
	RestrictedSecretAccessKey string
}

// Start serves brain on an httptest server bound to loopback until t ends.
func Start(t testing.TB, brain lexlocal.Brain) Server {
	t.Helper()
	s := Server{
		AccessKeyID: "AKIA" + randomHex(t, 8), SecretAccessKey: randomHex(t, 20), Region: Region,
		RestrictedAccessKeyID: "AKIA" + randomHex(t, 8), RestrictedSecretAccessKey: randomHex(t, 20),
	}
	full := newServer(t, lexlocal.Options{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey, Region: Region, Brain: brain})
	restricted := newServer(t, lexlocal.Options{
		AccessKeyID: s.RestrictedAccessKeyID, SecretAccessKey: s.RestrictedSecretAccessKey, Region: Region, Brain: brain, DenyModelAPI: true,
	})
	// One address serves both key pairs, as one AWS endpoint serves every
	// IAM user; the access key id in the signature picks whose rights apply.
	// Anything else goes to the full server, which refuses unknown keys.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accessKeyID(r) == s.RestrictedAccessKeyID {
			restricted.ServeHTTP(w, r)
			return
		}
		full.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

func newServer(t testing.TB, opts lexlocal.Options) *lexlocal.Server {
	t.Helper()
	srv, err := lexlocal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// accessKeyID reads the key id from "AWS4-HMAC-SHA256 Credential=KEY/...".
func accessKeyID(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}
