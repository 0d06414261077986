package dialog

import (
	"testing"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

func TestReadConfirmation(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"yes", confirmConfirmed},
		{"Yes!", confirmConfirmed},
		{"yeah sure", confirmConfirmed},
		{"yep", confirmConfirmed},
		{"OK", confirmConfirmed},
		{"that's right", confirmConfirmed},
		{"sounds good to me", confirmConfirmed},
		{"sí", confirmConfirmed},
		{"Sí, claro", confirmConfirmed},
		{"vale", confirmConfirmed},
		{"por supuesto", confirmConfirmed},
		{"de acuerdo", confirmConfirmed},
		{"no", confirmDenied},
		{"No.", confirmDenied},
		{"nope", confirmDenied},
		{"nah thanks", confirmDenied},
		{"don't", confirmDenied},
		{"cancel it", confirmDenied},
		{"para nada", confirmDenied},
		{"negativo", confirmDenied},
		{"not sure", ""},
		{"yes no", ""},
		{"maybe", ""},
		{"", ""},
		{"nothing", ""},
		{"yesterday", ""},
		{"Okapi", ""},
	} {
		if got := readConfirmation(tc.in); got != tc.want {
			t.Errorf("readConfirmation(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSubstitute(t *testing.T) {
	filled := func(v string) *lexlocal.Slot {
		return &lexlocal.Slot{Value: &lexlocal.SlotValue{OriginalValue: "orig", InterpretedValue: v}}
	}
	slots := map[string]*lexlocal.Slot{"Flower": filled("roses"), "Date": nil, "Sneaky": filled("{Flower} [name]")}
	attrs := map[string]string{"name": "Ana", "empty": ""}
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"{Flower} for [name]", "roses for Ana"},
		{"on {Date}", "on {Date}"},                 // unfilled: left as written
		{"{Nope} and [nope]", "{Nope} and [nope]"}, // unknown: left as written
		{"[empty]!", "!"},
		{"{Sneaky}", "{Flower} [name]"}, // values are not expanded again
		{`{"k":"{Flower}","a":[1,"[name]"]}`, `{"k":"roses","a":[1,"Ana"]}`},
		{"{Flower", "{Flower"},
		{"[name", "[name"},
		{"}{[]", "}{[]"},
		{"{{Flower}}", "{roses}"},
	} {
		if got := substitute(tc.in, slots, attrs); got != tc.want {
			t.Errorf("substitute(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
