package webhookbot

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/bot"
	"github.com/switchboard-chat/switchboard/internal/chat"
)

// FuzzParseReplies checks that any answer a bot can send either fails as a
// Misconfigured *bot.Error or yields replies the pipeline can store as they
// are. Seeds are the files in testdata/replies.
func FuzzParseReplies(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "replies", "*.json"))
	if len(seeds) == 0 {
		f.Fatal("no seeds in testdata/replies")
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		replies, _, err := parseReplies(body)
		if err != nil {
			var be *bot.Error
			if !errors.As(err, &be) || be.Kind != bot.Misconfigured {
				t.Fatalf("err = %v, want a Misconfigured *bot.Error", err)
			}
			if replies != nil {
				t.Fatal("replies with an error")
			}
			return
		}
		if len(replies) > MaxReplies {
			t.Fatalf("%d replies", len(replies))
		}
		for i, r := range replies {
			if len(r.Text) > chat.MaxTextLen {
				t.Fatalf("reply %d: %d bytes of text", i, len(r.Text))
			}
			if r.Text == "" && len(r.Metadata) == 0 {
				t.Fatalf("reply %d is empty", i)
			}
			if err := r.Metadata.Validate("metadata"); err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
		}
	})
}
