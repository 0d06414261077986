package demobot_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/dialog"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// plain is text as a person would compare it: case and punctuation aside.
// The matcher's own normalisation goes further (accents, repeated letters)
// and must not decide what counts as an unseen paraphrase.
func plain(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\'' || r == '’':
			return -1
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			return unicode.ToLower(r)
		}
		return ' '
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// TestDemoBotQuality measures the matcher on the demo bot as it ships:
// intent accuracy on held-out paraphrases, and how often out-of-domain text
// falls back rather than triggering an intent. The held-out files are never
// used to write the bot's utterances.
func TestDemoBotQuality(t *testing.T) {
	bot := load(t)
	now := func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) }
	for _, id := range locales {
		t.Run(id, func(t *testing.T) {
			loc := bot.Locales[id]
			m, err := dialog.CompileLocale(loc, now)
			if err != nil {
				t.Fatal(err)
			}
			samples := map[string]bool{}
			for _, in := range loc.Intents {
				for _, u := range in.Utterances {
					samples[plain(u)] = true
				}
			}

			lines := readLines(t, "testdata/heldout_"+id+".tsv")
			right := 0
			for _, l := range lines {
				want, text, ok := strings.Cut(l, "\t")
				if !ok || loc.Intent(want) == nil {
					t.Fatalf("held-out line %q: want intent<TAB>text with a known intent", l)
				}
				if samples[plain(text)] {
					t.Fatalf("held-out line %q is a sample utterance of the bot", text)
				}
				if got := m.Match(text).Best; got == want {
					right++
				} else {
					t.Logf("miss: %q want %s got %s", text, want, got)
				}
			}
			ood := readLines(t, "testdata/ood_"+id+".txt")
			fell := 0
			for _, text := range ood {
				if got := m.Match(text).Best; got == nlu.FallbackIntent {
					fell++
				} else {
					t.Logf("out-of-domain accepted: %q as %s", text, got)
				}
			}
			if len(lines) < 100 || len(ood) < 100 {
				t.Fatalf("evaluation set too small: %d paraphrases, %d out-of-domain lines", len(lines), len(ood))
			}
			acc := float64(right) / float64(len(lines))
			fb := float64(fell) / float64(len(ood))
			t.Logf("%s: intent accuracy %.1f%% (%d/%d held-out paraphrases), out-of-domain fallback rate %.1f%% (%d/%d), threshold %.2f",
				id, 100*acc, right, len(lines), 100*fb, fell, len(ood), loc.ConfidenceThreshold)
			if acc < 0.90 {
				t.Errorf("intent accuracy %.1f%% is below the 90%% target", 100*acc)
			}
			if fb < 0.90 {
				t.Errorf("out-of-domain fallback rate %.1f%% is below the 90%% target", 100*fb)
			}
		})
	}
}
