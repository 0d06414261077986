package chat

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Metadata is a flat string→string map. Structured values (a rich message's
// payload, for example) are carried as JSON strings, as Kommunicate does.
type Metadata map[string]string

// Keys with a meaning to Switchboard itself.
const (
	MetaTemplateID = "templateId"
	MetaPayload    = "payload"
	MetaSkipBot    = "skipBot"
	MetaAssignTo   = "KM_ASSIGN_TO"
	MetaAssignTeam = "KM_ASSIGN_TEAM"
)

// Validate enforces the limits on a metadata map.
func (m Metadata) Validate(field string) error {
	if len(m) > MaxMetadataKeys {
		return FieldError(field, "%s may have at most %d keys", field, MaxMetadataKeys)
	}
	total := 0
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKeyLen || !utf8.ValidString(k) || strings.ContainsAny(k, "\x00") {
			return FieldError(field, "%s keys must be 1 to %d bytes of text", field, MaxMetadataKeyLen)
		}
		if !utf8.ValidString(v) {
			return FieldError(field, "%s value of %q is not valid UTF-8", field, k)
		}
		total += len(k) + len(v)
	}
	if total > MaxMetadataBytes {
		return FieldError(field, "%s must be at most %d bytes in all", field, MaxMetadataBytes)
	}
	return nil
}

// Clone returns a copy that can be changed without touching m.
func (m Metadata) Clone() Metadata {
	if m == nil {
		return nil
	}
	c := make(Metadata, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// UnmarshalJSON accepts string values as they are, and any other JSON value
// (object, array, number, boolean) as its compact JSON text. Clients written
// for Kommunicate send a rich payload either way; storing one form keeps every
// reader simple. Null values are dropped.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*m = nil
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return FieldError("metadata", "metadata must be a JSON object")
	}
	out := make(Metadata, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case bytes.Equal(v, []byte("null")):
			continue
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return FieldError("metadata", "metadata value of %q is not a valid string", k)
			}
			out[k] = s
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return FieldError("metadata", "metadata value of %q is not valid JSON", k)
			}
			out[k] = buf.String()
		}
	}
	*m = out
	return nil
}

// MarshalJSON writes an empty object rather than null, so clients can always
// index into it.
func (m Metadata) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]string(m))
}
