package lexbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
)

// FuzzLexResponse feeds arbitrary bodies, as a 200 from Lex, through the
// real SDK client and the connector. Whatever Lex sends, the connector
// must not panic, must fail only with a *bot.Error, and must not answer
// with silence when Lex sent messages: every message becomes a reply.
func FuzzLexResponse(f *testing.F) {
	for _, seed := range []string{
		lextest.OK,
		fallbackBody,
		`{}`,
		`null`,
		`[]`,
		`{"messages":null,"sessionState":null}`,
		`{"messages":[null]}`,
		`{"messages":[{}]}`,
		`{"messages":[{"contentType":"ImageResponseCard","imageResponseCard":{"title":"t","buttons":[{"text":null,"value":null}]}}]}`,
		`{"messages":[{"contentType":"CustomPayload","content":"{\"metadata\":{\"templateId\":\"10\",\"payload\":\"[{]\"}}"}]}`,
		`{"messages":[{"contentType":"SSML","content":"<speak><<>>&bogus;</speak>"}]}`,
		`{"sessionState":{"intent":{"name":"X","slots":{"a":null,"b":{"value":null}},"state":"Failed"},"dialogAction":{"type":"Close"},"sessionAttributes":{"handoff":"true"}}}`,
		`{"interpretations":[{"intent":null},{"intent":{"name":"FallbackIntent"}}]}`,
		`{"messages":"nope"}`,
		`<html>`,
	} {
		f.Add([]byte(seed))
	}
	lex := lextest.New(f)
	h := newHarness()
	s := settingsFor(lex.URL)
	f.Fuzz(func(t *testing.T, body []byte) {
		lex.Script(lextest.Answer{Body: string(body)})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := h.conn.Turn(ctx, turnFor(t, s, "hi"), nil)
		if err != nil {
			var be *bot.Error
			if !errors.As(err, &be) || be.Message == "" {
				t.Fatalf("error %v is not a *bot.Error with a message", err)
			}
			return
		}
		if n := sentMessages(body); len(res.Replies) < n {
			t.Fatalf("Lex sent %d messages, the connector answered %d: %+v", n, len(res.Replies), res)
		}
		if res.State == nil || !json.Valid(res.State) {
			t.Fatalf("state %q", res.State)
		}
	})
}

// sentMessages counts the non-null elements of the body's messages array,
// with the exact key match the SDK uses.
func sentMessages(body []byte) int {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return 0
	}
	var msgs []json.RawMessage
	if json.Unmarshal(top["messages"], &msgs) != nil {
		return 0
	}
	n := 0
	for _, m := range msgs {
		if !bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
			n++
		}
	}
	return n
}
