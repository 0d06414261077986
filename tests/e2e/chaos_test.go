package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// This file holds what the chaos tests share: requests that may run on any
// goroutine and report failures as errors, since the services under them
// are failing on purpose.

// call sends a JSON request with the bootstrap API key and decodes a 2xx
// answer into out. Any other status is returned with the error body.
func call(ctx context.Context, n *node, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.url(path), rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+bootstrapKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding %s: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// history reads a conversation's whole history, page by page.
func history(t *testing.T, n *node, convID string) []message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var all []message
	for {
		var page messageList
		path := fmt.Sprintf("/api/v1/conversations/%s/messages?afterSeq=%d&limit=200", convID, lastOf(all))
		if _, err := call(ctx, n, "GET", path, nil, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Messages...)
		if len(page.Messages) < 200 {
			return all
		}
	}
}

func lastOf(ms []message) int64 {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Seq
}

// waitFor polls cond until it holds, failing the test with what after
// limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyStatus returns the status of the node's /readyz (0 when it does not answer).
func (n *node) readyStatus() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, _ := call(ctx, n, "GET", "/readyz", nil, nil)
	return status
}

// clusterEnv returns the settings of one node of a cluster on dbURL and
// natsURL; every call gives a data directory of its own.
func clusterEnv(t *testing.T, dbURL, natsURL string) func() map[string]string {
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatal(err)
	}
	// Shared by every node: contact tokens and encrypted secrets must be
	// readable on any of them.
	secret := hex.EncodeToString(key[:])
	return func() map[string]string {
		return map[string]string{
			"SWITCHBOARD_DATA_DIR":          t.TempDir(),
			"SWITCHBOARD_DATABASE_URL":      dbURL,
			"SWITCHBOARD_NATS_URL":          natsURL,
			"SWITCHBOARD_SECRET_KEY":        secret,
			"SWITCHBOARD_BOOTSTRAP_API_KEY": bootstrapKey,
			"SWITCHBOARD_ADMIN_EMAIL":       "owner@example.com",
			"SWITCHBOARD_ADMIN_PASSWORD":    "owner-password-1",
			"SWITCHBOARD_LOG_LEVEL":         "warn",
		}
	}
}
