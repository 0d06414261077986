package nlu

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// botFile is the test fixture shape: a bot locale in a few lines of JSON.
type botFile struct {
	Language  string     `json:"language"`
	SlotTypes []SlotType `json:"slotTypes"`
	Intents   []struct {
		Name       string   `json:"name"`
		Slots      []Slot   `json:"slots"`
		Utterances []string `json:"utterances"`
	} `json:"intents"`
}

var refNow = func() time.Time { return time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) } // a Wednesday

func loadBot(t testing.TB, path string, opts Options) *Model {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bf botFile
	if err := json.Unmarshal(raw, &bf); err != nil {
		t.Fatal(err)
	}
	var intents []Intent
	for _, in := range bf.Intents {
		intents = append(intents, Intent{Name: in.Name, Slots: in.Slots, Utterances: in.Utterances})
	}
	opts.Language = bf.Language
	if opts.Now == nil {
		opts.Now = refNow
	}
	m, err := Compile(intents, bf.SlotTypes, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type labelled struct{ intent, text string }

func readLines(t testing.TB, path string) []string {
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
	return out
}

func heldOut(t testing.TB) (in []labelled, ood []string) {
	for _, l := range readLines(t, "testdata/heldout_en.tsv") {
		intent, text, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("bad held-out line %q", l)
		}
		in = append(in, labelled{intent, text})
	}
	return in, readLines(t, "testdata/ood_en.txt")
}

// evaluate returns intent accuracy on in-domain lines and the share of
// out-of-domain lines that fell back.
func evaluate(m *Model, in []labelled, ood []string, logf func(string, ...any)) (acc, fallback float64) {
	right := 0
	for _, l := range in {
		r := m.Match(l.text)
		if r.Best == l.intent {
			right++
		} else if logf != nil {
			logf("miss: %q want %s got %s %v", l.text, l.intent, r.Best, top(r))
		}
	}
	fell := 0
	for _, text := range ood {
		r := m.Match(text)
		if r.Best == FallbackIntent {
			fell++
		} else if logf != nil {
			logf("ood accepted: %q as %s %v", text, r.Best, top(r))
		}
	}
	return float64(right) / float64(len(in)), float64(fell) / float64(len(ood))
}

func top(r Result) string {
	var b strings.Builder
	for i, in := range r.Interpretations {
		if i == 3 {
			break
		}
		if in.HasScore() {
			b.WriteString(in.Intent + "=" + strconv.FormatFloat(in.Score, 'f', -1, 64) + " ")
		} else {
			b.WriteString(in.Intent + " ")
		}
	}
	return b.String()
}

func TestQualityHeldOut(t *testing.T) {
	in, ood := heldOut(t)
	if len(in) < 100 || len(ood) < 50 {
		t.Fatalf("held-out set too small: %d paraphrases, %d out-of-domain", len(in), len(ood))
	}
	m := loadBot(t, "testdata/demo_en.json", Options{})
	acc, fb := evaluate(m, in, ood, t.Logf)
	t.Logf("intent accuracy %.1f%% (%d paraphrases), out-of-domain fallback rate %.1f%% (%d lines), threshold %.2f",
		acc*100, len(in), fb*100, len(ood), m.threshold)

	// What the synonym lexicon contributes, reported and not asserted.
	bare := loadBot(t, "testdata/demo_en.json", Options{noLexicon: true})
	accB, fbB := evaluate(bare, in, ood, nil)
	t.Logf("without the lexicon: accuracy %.1f%%, fallback rate %.1f%%", accB*100, fbB*100)

	if acc < 0.90 {
		t.Errorf("intent accuracy %.1f%% is below the 90%% target", acc*100)
	}
	if fb < 0.90 {
		t.Errorf("out-of-domain fallback rate %.1f%% is below the 90%% target", fb*100)
	}
}

func BenchmarkMatch(b *testing.B) {
	m := loadBot(b, "testdata/demo_en.json", Options{})
	in, ood := heldOut(b)
	texts := make([]string, 0, len(in)+len(ood))
	for _, l := range in {
		texts = append(texts, l.text)
	}
	texts = append(texts, ood...)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Match(texts[i%len(texts)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "matches/s")
}
