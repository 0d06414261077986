package bot

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// DecodeSettings decodes a bot type's settings object (posted as the
// "webhook" or "lex" object of POST /api/v1/bots) into v. Unknown fields
// are refused, so a misspelt field is reported instead of silently ignored,
// and errors name only the field and the problem's kind: the object holds
// a secret, and a decoder message may quote the offending value.
func DecodeSettings(raw json.RawMessage, object string, v any) error {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return chat.FieldError(object, "%s is required", object)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return chat.FieldError(object+"."+ute.Field, "%s.%s has the wrong type", object, ute.Field)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return chat.FieldError(object, "%s has an unknown field %s", object, f)
		}
		return chat.FieldError(object, "%s settings must be a JSON object", object)
	}
	if dec.More() {
		return chat.FieldError(object, "%s settings must be a single JSON object", object)
	}
	return nil
}
