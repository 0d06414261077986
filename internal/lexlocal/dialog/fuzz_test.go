package dialog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// FuzzRecognize feeds any text on top of any prior state a client could
// send. A turn must never panic, must always answer with a dialog action
// and a non-nil attribute map, and must survive a JSON round trip.
func FuzzRecognize(f *testing.F) {
	for _, seed := range []struct {
		text, action, slot, intent, state, confirmation string
		attempts                                        int
	}{
		{"where is my order", "", "", "", "", "", 0},
		{"12", "ElicitSlot", "OrderNumber", "OrderStatus", "InProgress", "None", 0},
		{"yes", "ConfirmIntent", "", "OrderStatus", "", "", 5},
		{"no", "ConfirmIntent", "", "OrderStatus", "InProgress", "Denied", -3},
		{"zzz", "Close", "", "FallbackIntent", "Failed", "", 0},
		{"", "ElicitSlot", "Product", "OrderStatus", "", "", 1 << 40},
		{"{OrderNumber}[x]", "ElicitIntent", "", "", "", "", 0},
		{"\xff\xfe", "ElicitSlot", "", "FallbackIntent", "InProgress", "", 0},
	} {
		f.Add(seed.text, seed.action, seed.slot, seed.intent, seed.state, seed.confirmation, seed.attempts)
	}
	f.Add(strings.Repeat("track my order 12345 please ", 37)[:1024], "ElicitSlot", "OrderNumber", "OrderStatus", "", "", 0)
	b := newBrain(f, shopBot())
	f.Fuzz(func(t *testing.T, text, action, slot, intent, state, confirmation string, attempts int) {
		st := lexlocal.SessionState{Attempts: attempts, SessionAttributes: map[string]string{"name": text}}
		if action != "" {
			st.DialogAction = &lexlocal.DialogAction{Type: action, SlotToElicit: slot}
		}
		if intent != "" {
			st.Intent = &lexlocal.Intent{Name: intent, State: state, ConfirmationState: confirmation, Slots: map[string]*lexlocal.Slot{
				slot:          {Value: &lexlocal.SlotValue{OriginalValue: text, InterpretedValue: text}},
				"OrderNumber": {},
			}}
		}
		for _, loc := range []string{"en_US", "es_US"} {
			out, err := b.Recognize(context.Background(), lexlocal.RecognizeInput{
				BotID: shopID, LocaleID: loc, SessionID: "fuzz", Text: text, SessionState: st,
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.SessionState.DialogAction == nil || out.SessionState.SessionAttributes == nil {
				t.Fatalf("incomplete state %+v", out.SessionState)
			}
			if _, err := json.Marshal(out); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkRecognize measures the Brain alone on OrderFlowers: one
// five-turn conversation per iteration.
func BenchmarkRecognize(b *testing.B) {
	brain := newBrain(b, loadFixture(b, "orderflowers"))
	texts := []string{"I would like to order some flowers", "roses", "tomorrow", "10 am", "yes"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var st lexlocal.SessionState
		for _, text := range texts {
			out, err := brain.Recognize(ctx, lexlocal.RecognizeInput{
				BotID: "ORDERFLWRS", LocaleID: "en_US", SessionID: "bench", Text: text, SessionState: st,
			})
			if err != nil {
				b.Fatal(err)
			}
			st = out.SessionState
		}
		if st.Intent == nil || st.Intent.State != "Fulfilled" {
			b.Fatalf("conversation ended in %+v", st.Intent)
		}
	}
}
