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
	skew := func() string { return fmt.Sprintf("%g min", s.opts.MaxSkew.Minutes()) }
	if signedAt.Before(now.Add(-s.opts.MaxSkew)) {
		return errorf(errInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s.)",
			amzDate, now.Add(-s.opts.MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skew())
	}
	if signedAt.After(now.Add(s.opts.MaxSkew)) {
		return errorf(errInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s.)",
			amzDate, now.Add(s.opts.MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout), skew())
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

	creqHash := sha256.Sum256(canonicalRequest(r, a.signedHeaders, payloadHash))
	var hexHash [2 * sha256.Size]byte
	hex.Encode(hexHash[:], creqHash[:])
	// The string to sign goes into the MAC piece by piece; it is never
	// needed as a whole.
	mac := hmac.New(sha256.New, s.signingKey(a.date))
	for _, part := range [...]string{sigAlgorithm, "\n", amzDate, "\n", a.date, "/", a.region, "/", a.service, "/", a.terminator, "\n"} {
		mac.Write([]byte(part))
	}
	mac.Write(hexHash[:])
	var sum [sha256.Size]byte
	if !hmac.Equal(mac.Sum(sum[:0]), a.signature) {
		// Only names, never header values: a signed x-amz-security-token is a credential.
		s.opts.Logger.Debug("lexlocal: signature mismatch", "method", r.Method, "path", rawPath(r), "signedHeaders", a.signedHeaders)
		return errorf(errInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

// signingKey is the HMAC chain of the secret over the credential scope. Only
// the date varies (region, service and terminator were checked to be the
// server's own), so the key of the current day is kept and derived afresh
// when the date changes. A request for another date, around midnight, just
// derives its own.
func (s *Server) signingKey(date string) []byte {
	if k := s.sigKey.Load(); k != nil && k.date == date {
		return k.key
	}
	key := hmacSHA256([]byte("AWS4"+s.opts.SecretAccessKey), date)
	key = hmacSHA256(key, s.opts.Region)
	key = hmacSHA256(key, sigService)
	key = hmacSHA256(key, sigTermination)
	s.sigKey.Store(&derivedKey{date: date, key: key})
	return key
}

// derivedKey is a signing key and the scope date it is valid for.
type derivedKey struct {
	date string
	key  []byte
}

func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) []byte {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendAWSEscape(b, canonicalURIPath(rawPath(r)), false)
	b = append(b, '\n')
	b = append(b, canonicalQuery(r.URL.RawQuery)...)
	b = append(b, '\n')
	for _, h := range signedHeaders {
		b = append(b, h...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, h)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, h := range signedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h...)
	}
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b
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
	return string(appendAWSEscape(nil, canonicalURIPath(escaped), false))
}

func canonicalURIPath(escaped string) string {
	if escaped == "" {
		return "/"
	}
	return escaped
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
	return string(appendAWSEscape(nil, s, encodeSlash))
}

func appendAWSEscape(b []byte, s string, encodeSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encodeSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// canonicalHeaderValue reads headers the Go server moved out of r.Header
// (Host, Content-Length) from where it put them.
func canonicalHeaderValue(r *http.Request, name string) string {
	return string(appendHeaderValue(nil, r, name))
}

// appendHeaderValue appends the canonical form of a header: its values
// joined by commas, each trimmed with inner runs of spaces folded to one.
// It only reads the header map.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		return append(b, r.Host...)
	case "content-length":
		if v := r.Header.Get("Content-Length"); v != "" {
			return append(b, strings.TrimSpace(v)...)
		}
		if r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
		return b
	}
	for i, v := range r.Header.Values(name) {
		if i > 0 {
			b = append(b, ',')
		}
		first := true
		for f := range strings.FieldsSeq(v) {
			if !first {
				b = append(b, ' ')
			}
			b = append(b, f...)
			first = false
		}
	}
	return b
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
