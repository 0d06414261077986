package dialog

import (
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
)

// CompileLocale turns one locale of an imported bot into the matcher that
// reads its users' text. Built-in intents (FallbackIntent and friends) have
// no sample utterances of their own and are left out: the matcher answers
// FallbackIntent by itself when nothing reaches the threshold. now gives
// the reference date for relative dates; nil means time.Now.
func CompileLocale(l *export.Locale, now func() time.Time) (*nlu.Model, error) {
	intents := make([]nlu.Intent, 0, len(l.Intents))
	for _, in := range l.Intents {
		if in.ParentSignature != "" || in.Name == nlu.FallbackIntent {
			continue
		}
		slots := make([]nlu.Slot, len(in.Slots))
		for i, s := range in.Slots {
			slots[i] = nlu.Slot{Name: s.Name, Type: s.Type}
		}
		intents = append(intents, nlu.Intent{Name: in.Name, Utterances: in.Utterances, Slots: slots})
	}
	types := make([]nlu.SlotType, 0, len(l.SlotTypes))
	for _, st := range l.SlotTypes {
		t := nlu.SlotType{Name: st.Name, Resolution: nlu.OriginalValue}
		if st.Strategy == export.TopResolution {
			t.Resolution = nlu.TopResolution
		}
		for _, v := range st.Values {
			t.Values = append(t.Values, nlu.Value{Value: v.Value, Synonyms: v.Synonyms})
		}
		types = append(types, t)
	}
	return nlu.Compile(intents, types, nlu.Options{Threshold: l.ConfidenceThreshold, Language: l.ID, Now: now})
}
