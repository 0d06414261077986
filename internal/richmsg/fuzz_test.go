package richmsg

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// FuzzNormalize: whatever a bot sends, Normalize does not panic, and its
// output either carries no template or a template that passes Validate
// unchanged, with every URL in it safe.
func FuzzNormalize(f *testing.F) {
	for _, c := range validTemplates {
		b, _ := json.Marshal(c.m)
		f.Add("text", string(b))
	}
	f.Add("", `{"templateId":"10","payload":"[{\"title\":\"a\",\"url\":\"javascript:x\"}]"}`)
	f.Add("", `{"templateId":"6","payload":"[{'title':'x'}]","KM_ASSIGN_TO":""}`)
	f.Fuzz(func(t *testing.T, text, metaJSON string) {
		var m chat.Metadata
		if json.Unmarshal([]byte(metaJSON), &m) != nil {
			m = chat.Metadata{chat.MetaTemplateID: "6", chat.MetaPayload: metaJSON}
		}
		r, _ := Normalize(text, m)
		if err := r.Metadata.Validate("metadata"); err != nil {
			t.Fatalf("output metadata invalid: %v", err)
		}
		if _, ok := r.Metadata[chat.MetaTemplateID]; !ok {
			return
		}
		clean, _, err := Validate(r.Metadata)
		if err != nil {
			t.Fatalf("output fails Validate: %v\n%v", err, r.Metadata)
		}
		if clean[chat.MetaPayload] != r.Metadata[chat.MetaPayload] {
			t.Fatalf("output not canonical:\n%s\n%s", r.Metadata[chat.MetaPayload], clean[chat.MetaPayload])
		}
		var v any
		if err := json.Unmarshal([]byte(r.Metadata[chat.MetaPayload]), &v); err != nil {
			t.Fatal(err)
		}
		checkURLs(t, "", v)
		if fa := r.Metadata[MetaFormAction]; fa != "" {
			checkURLs(t, "formAction", fa)
		}
	})
}

func checkURLs(t *testing.T, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			checkURLs(t, k, x)
		}
	case []any:
		for _, x := range v {
			checkURLs(t, key, x)
		}
	case string:
		if isURLKey(key) && v != "" {
			if got, up, err := SafeURL(v); err != nil || got != v || up {
				t.Fatalf("unsafe or non-canonical URL in %s: %q (%v)", key, v, err)
			}
		}
	}
}
