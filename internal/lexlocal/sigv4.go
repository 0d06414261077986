package lexlocal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigAlgorithm   = "AWS4-HMAC-SHA256"
	sigService     = "lex"
	amzDateLayout  = "20060102T150405Z"
	unsignedBody   = "UNSIGNED-PAYLOAD"
	sigTermination = "aws4_request"
)

// authHeader is the parsed "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
// Signature=…" value.
type authHeader struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                []string
	signature                                    []byte
}

func parseAuthorization(v string) (authHeader, *Error) {
	var a authHeader
	rest, ok := strings.CutPrefix(v, sigAlgorithm+" ")
	if !ok {
		return a, errorf(errIncompleteSig, "Authorization header requires the %s algorithm.", sigAlgorithm)
	}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			sig = val
		}
	}
	if cred == "" || signed == "" || sig == "" {
		return a, errorf(errIncompleteSig, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.")
	}
	// The access key id cannot contain '/', so splitting from the left is safe.
	c := strings.Split(cred, "/")
	if len(c) != 5 {
		return a, errorf(errIncompleteSig, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.", cred)
	}
	a.accessKey, a.date, a.region, a.service, a.terminator = c[0], c[1], c[2], c[3], c[4]
	a.signedHeaders = strings.Split(signed, ";")
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != sha256.Size {
		return a, errorf(errIncompleteSig, "Signature must be 64 hexadecimal characters.")
	}
	a.signature = raw
	return a, nil
}

// verifySigV4 recomputes the request's signature from scratch. body is the
// full request body already read by the caller (bounded), so the payload hash
// is of the bytes the handler will actually decode: a body changed after
// signing cannot pass.
func (s *Server) verifySigV4(r *http.Request, body []byte) *Error {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return errorf(errMissingAuthToken, "Missing Authentication Token")
	}
	a, aerr := parseAuthorization(authz)
	if aerr != nil {
		return aerr
	}
	// Real AWS checks the key before the signature, which is why a wrong key
	// reads differently from a wrong secret.
	if !hmac.Equal([]byte(a.accessKey), []byte(s.opts.AccessKeyID)) {
		return errorf(errUnrecognizedClient, "The security token included in the request is invalid.")
	}
	if a.service != sigService {
		return errorf(errInvalidSignature, "Credential should be scoped to correct service: '%s'.", sigService)
	}
	if a.region != s.opts.Region {
		return errorf(errInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", a.region)
	}
	if a.terminator != sigTermination {
		return errorf(errInvalidSignature, "Credential should be scoped with a valid terminator: '%s', not '%s'.", sigTermination, a.terminator)
	}
	if !containsString(a.signedHeaders, "host") {
		return errorf(errInvalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}

	amzDate := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return errorf(errIncompleteSig, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if a.date != amzDate[:8] {
		return errorf(errInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'.", a.date, amzDate[:8])
	}
	now := s.now().UTC()
	skew := fmt.Sprintf("%g min", s.opts.MaxSkew.Minutes())
	if signedAt.Before(now.Add(-s.opts.MaxSkew)) {
		return errorf(errInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s.)",
			amzDate, now.Add(-s.opts.MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skew)
	}
	if signedAt.After(now.Add(s.opts.MaxSkew)) {
		return errorf(errInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s.)",
			amzDate, now.Add(s.opts.MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skew)
	}

	bodyHash := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(bodyHash[:])
	// A client may declare the hash in a (signed) header; it is then part of
	// the canonical request. Any declared hash other than UNSIGNED-PAYLOAD must
	// also match the bytes received.
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != "" {
		if declared != unsignedBody && !strings.EqualFold(declared, payloadHash) {
			return errorf(errInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		payloadHash = declared
	}

	canonical := canonicalRequest(r, a.signedHeaders, payloadHash)
	scope := a.date + "/" + a.region + "/" + a.service + "/" + a.terminator
	creqHash := sha256.Sum256([]byte(canonical))
	stringToSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(creqHash[:])

	key := hmacSHA256([]byte("AWS4"+s.opts.SecretAccessKey), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, a.terminator)
	want := hmacSHA256(key, stringToSign)
	if !hmac.Equal(want, a.signature) {
		// Only names, never header values: a signed x-amz-security-token is a credential.
		s.opts.Logger.Debug("lexlocal: signature mismatch", "method", r.Method, "path", rawPath(r), "signedHeaders", a.signedHeaders)
		return errorf(errInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(rawPath(r)))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, h := range signedHeaders {
		b.WriteString(h)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// rawPath is the path exactly as the client sent it. Go's URL.EscapedPath may
// re-encode a path differently from the client, and the signature covers the
// client's bytes.
func rawPath(r *http.Request) string {
	if r.RequestURI != "" && r.RequestURI[0] == '/' {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}

// canonicalURI encodes the already-escaped path once more: for every service
// but S3, SigV4 double-encodes, so a session id "a:b" sent as "a%3Ab" is
// signed as "a%253Ab".
func canonicalURI(escaped string) string {
	if escaped == "" {
		return "/"
	}
	return awsEscape(escaped, false)
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	vals, _ := url.ParseQuery(raw)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), vals[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, awsEscape(k, true)+"="+awsEscape(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// awsEscape is RFC 3986 escaping as SigV4 defines it: everything but
// unreserved characters (and '/' unless encodeSlash) becomes %XX, uppercase.
func awsEscape(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// canonicalHeaderValue reads headers the Go server moved out of r.Header
// (Host, Content-Length) from where it put them.
func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return strings.TrimSpace(v)
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	}
	// Values returns the header map's own slice; trim into a fresh one.
	raw := r.Header.Values(name)
	vals := make([]string, len(raw))
	for i, v := range raw {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
