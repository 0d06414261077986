package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// apiError is a REST call the node answered with an error status.
type apiError struct {
	method, path string
	status       int
	body         string
}

func (e *apiError) Error() string {
	hint := ""
	if e.status == http.StatusUnauthorized {
		hint = " (check -api-key)"
	}
	return fmt.Sprintf("%s %s: %d %s%s: %s", e.method, e.path, e.status, http.StatusText(e.status), hint, e.body)
}

// doJSON makes one REST call: body (if any) as JSON, headers h, and the
// answer decoded into out (if any). A non-2xx answer is an *apiError.
func doJSON(ctx context.Context, cl *http.Client, method, base, path string, h http.Header, body, out any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode/100 != 2 {
		return resp, &apiError{method: method, path: path, status: resp.StatusCode, body: strings.TrimSpace(string(data))}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
	}
	return resp, nil
}

func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}}
}

// httpClientFrom is an HTTP client whose connections come from the source
// address src (nil: the system's choice). Contacts use it because a node
// limits widget sessions per client address, as it should, while real
// visitors come from many addresses.
func httpClientFrom(src net.IP) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if src != nil {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &http.Client{Timeout: 15 * time.Second, Transport: tr}
}
