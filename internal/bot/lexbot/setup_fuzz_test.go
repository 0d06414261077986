package lexbot_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// FuzzParseLexSettings feeds arbitrary "lex" objects to the parser that
// guards every save: it must never panic; a refusal is a CodeInvalid error
// naming a lex field and never quoting the secret; an accepted object is
// valid, carries no client-set locales, and survives a round trip.
func FuzzParseLexSettings(f *testing.F) {
	for _, s := range []string{
		`{"region":"us-east-1","botId":"ABCDEFGHIJ","botAliasId":"TSTALIASID","accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"s3cr3t/value+X"}`,
		`{"region":"eu-west-2","botId":"OrderBot","botAliasId":"prod","accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"k","defaultLocale":"es_419","maxConsecutiveFallbacks":0,"handoffAttribute":"human","endpoint":"http://127.0.0.1:9000","locales":["en_US"]}`,
		`{"region":"us-east-1","botId":"ABCDEFGHIJ","botAliasId":"TSTALIASID","accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"top secret value"}`,
		`{"region":"us-east-1","botId":"ABCDEFGHIJ","botAliasId":"TSTALIASID","accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"s","endpoint":"http://[fe80::1%25eth0]/"}`,
		`{"region":"us-east-1","botId":"ABCDEFGHIJ","botAliasId":"TSTALIASID","accessKeyId":"AKIAEXAMPLE000000000","secretAccessKey":"s","maxConsecutiveFallbacks":1e99}`,
		`{"secretAccessKey":"leak-me-please"}`, `{"region":5}`, `[]`, `null`, `{} {}`, `{"region":"us-east-1",`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := lexbot.ParseSettings(raw)
		if err != nil {
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != chat.CodeInvalid {
				t.Fatalf("refusal is not CodeInvalid: %v", err)
			}
			if f, _ := ce.Details["field"].(string); !strings.HasPrefix(f, "lex") {
				t.Fatalf("refusal names field %q", f)
			}
			var probe struct {
				Secret string `json:"secretAccessKey"`
			}
			if json.Unmarshal(raw, &probe) == nil && len(probe.Secret) >= 6 && strings.Contains(ce.Message, probe.Secret) {
				t.Fatalf("the refusal quotes the secret: %q", ce.Message)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted settings fail Validate: %v", err)
		}
		if s.Locales != nil {
			t.Fatalf("client-set locales kept: %v", s.Locales)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := lexbot.ParseSettings(again)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %+v then %+v, %v", s, s2, err)
		}
	})
}
