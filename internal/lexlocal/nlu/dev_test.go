package nlu

import (
	"encoding/json"
	"os"
	"testing"
)

// TestDevGrid chooses the scorer's constants on development data only:
// leave-one-out over the training utterances and a separate out-of-domain
// list. It never reads the held-out files. Run with NLU_DEV=1.
func TestDevGrid(t *testing.T) {
	if os.Getenv("NLU_DEV") == "" {
		t.Skip("development grid; set NLU_DEV=1")
	}
	raw, err := os.ReadFile("testdata/demo_en.json")
	if err != nil {
		t.Fatal(err)
	}
	var bf botFile
	if err := json.Unmarshal(raw, &bf); err != nil {
		t.Fatal(err)
	}
	ood := readLines(t, "testdata/dev_ood_en.txt")
	saveS, saveO := similarityWeight, oovWeight
	defer func() { similarityWeight, oovWeight = saveS, saveO }()
	for _, sw := range []float64{0.25, 0.5, 0.75, 1} {
		for _, ow := range []float64{0.5, 0.75, 0.85, 0.9, 1, 1.25} {
			similarityWeight, oovWeight = sw, ow
			right, total := 0, 0
			for i, in := range bf.Intents {
				if len(in.Utterances) < 3 {
					continue
				}
				for k, u := range in.Utterances {
					var intents []Intent
					for j, o := range bf.Intents {
						utts := o.Utterances
						if j == i {
							utts = append(append([]string{}, utts[:k]...), utts[k+1:]...)
						}
						intents = append(intents, Intent{Name: o.Name, Slots: o.Slots, Utterances: utts})
					}
					m, err := Compile(intents, nil, Options{Language: "en", Now: refNow})
					if err != nil {
						t.Fatal(err)
					}
					total++
					if r := m.Match(u); r.Best == in.Name {
						right++
					} else if sw == saveS && ow == saveO {
						t.Logf("LOO miss %q want %s: %s", u, in.Name, top(r))
					}
				}
			}
			m := loadBot(t, "testdata/demo_en.json", Options{})
			fell := 0
			for _, l := range ood {
				if r := m.Match(l); r.Best == FallbackIntent {
					fell++
				} else if sw == saveS && ow == saveO {
					t.Logf("dev ood accepted %q: %s", l, top(r))
				}
			}
			t.Logf("similarity %.2f oov %.2f: LOO accuracy %.1f%%, dev fallback %.1f%%", sw, ow,
				100*float64(right)/float64(total), 100*float64(fell)/float64(len(ood)))
		}
	}
}
