package dialog

import (
	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
)

// Lex's spellings of intent states, confirmation states and dialog actions.
const (
	stateInProgress = "InProgress"
	stateReady      = "ReadyForFulfillment"
	stateFulfilled  = "Fulfilled"
	stateFailed     = "Failed"

	confirmNone      = "None"
	confirmConfirmed = "Confirmed"
	confirmDenied    = "Denied"

	actionElicitSlot   = "ElicitSlot"
	actionConfirm      = "ConfirmIntent"
	actionClose        = "Close"
	actionElicitIntent = "ElicitIntent"

	interpretationSource = "Lex"
)

// turn is one Recognize call: the bot's locale, the request, and the
// messages and attributes the answer is being built from.
type turn struct {
	brain *Brain
	v1    bool
	loc   *locale
	in    lexlocal.RecognizeInput
	attrs map[string]string
	msgs  []lexlocal.Message
}

func (t *turn) run() lexlocal.RecognizeOutput {
	if ei, slots, ok := t.pending(); ok {
		st := t.in.SessionState
		if st.DialogAction.Type == actionElicitSlot {
			return t.slotReply(ei, slots, st.DialogAction.SlotToElicit, confirmationOf(st.Intent))
		}
		return t.confirmReply(ei, slots)
	}
	return t.start(t.loc.model.Match(t.in.Text))
}

// pending returns the intent whose question this turn answers, with its
// slots as the session holds them, when the state asks a question about a
// known intent that is still in progress.
func (t *turn) pending() (*export.Intent, map[string]*lexlocal.Slot, bool) {
	st := t.in.SessionState
	if st.DialogAction == nil || st.Intent == nil {
		return nil, nil, false
	}
	if s := st.Intent.State; s != "" && s != stateInProgress {
		return nil, nil, false
	}
	ei := t.loc.src.Intent(st.Intent.Name)
	if ei == nil || ei.ParentSignature != "" {
		return nil, nil, false
	}
	switch st.DialogAction.Type {
	case actionElicitSlot:
		if slotNamed(ei, st.DialogAction.SlotToElicit) == nil {
			return nil, nil, false
		}
	case actionConfirm:
	default:
		return nil, nil, false
	}
	slots := emptySlots(ei)
	for name := range slots {
		if s := st.Intent.Slots[name]; s != nil && s.Value != nil {
			slots[name] = s
		}
	}
	return ei, slots, true
}

// start begins the intent the text matched, or answers a miss.
func (t *turn) start(res nlu.Result) lexlocal.RecognizeOutput {
	if res.Best == nlu.FallbackIntent {
		return t.miss(res)
	}
	ei := t.loc.src.Intent(res.Best)
	slots := emptySlots(ei)
	for _, in := range res.Interpretations {
		if in.Intent == res.Best {
			for name, m := range in.Slots {
				slots[name] = slotValue(m)
			}
			break
		}
	}
	t.say(ei.Initial, slots)
	return t.advance(ei, slots, confirmNone, res)
}

// advance asks the intent's next question, or fulfils it.
func (t *turn) advance(ei *export.Intent, slots map[string]*lexlocal.Slot, confirmation string, res nlu.Result) lexlocal.RecognizeOutput {
	intent := &lexlocal.Intent{Name: ei.Name, Slots: slots, State: stateInProgress, ConfirmationState: confirmation}
	for _, s := range ei.Slots {
		if s.Required && slots[s.Name] == nil {
			if s.Prompt != nil {
				t.say(&s.Prompt.MessageGroups, slots)
			}
			return t.answer(intent, actionElicitSlot, s.Name, 0, res)
		}
	}
	if ei.Confirmation != nil && confirmation == confirmNone {
		t.say(&ei.Confirmation.MessageGroups, slots)
		return t.answer(intent, actionConfirm, "", 0, res)
	}
	intent.State = stateFulfilled
	t.say(ei.Closing, slots)
	return t.answer(intent, actionClose, "", 0, res)
}

// slotReply reads the answer to an elicitation.
func (t *turn) slotReply(ei *export.Intent, slots map[string]*lexlocal.Slot, slot, confirmation string) lexlocal.RecognizeOutput {
	if m, ok := t.loc.model.ExtractSlot(ei.Name, slot, t.in.Text); ok {
		slots[slot] = slotValue(m)
		return t.advance(ei, slots, confirmation, certain(ei.Name))
	}
	if out, ok := t.switchIntent(ei); ok {
		return out
	}
	p := slotNamed(ei, slot).Prompt
	n := t.in.SessionState.Attempts + 1
	if p == nil || n > p.MaxRetries {
		return t.fail(ei, slots, confirmation)
	}
	t.say(&p.MessageGroups, slots)
	intent := &lexlocal.Intent{Name: ei.Name, Slots: slots, State: stateInProgress, ConfirmationState: confirmation}
	return t.answer(intent, actionElicitSlot, slot, n, certain(ei.Name))
}

// confirmReply reads the answer to a confirmation prompt.
func (t *turn) confirmReply(ei *export.Intent, slots map[string]*lexlocal.Slot) lexlocal.RecognizeOutput {
	switch readConfirmation(t.in.Text) {
	case confirmConfirmed:
		return t.advance(ei, slots, confirmConfirmed, certain(ei.Name))
	case confirmDenied:
		t.say(ei.Declination, slots)
		intent := &lexlocal.Intent{Name: ei.Name, Slots: slots, State: stateFailed, ConfirmationState: confirmDenied}
		return t.answer(intent, actionClose, "", 0, certain(ei.Name))
	}
	if out, ok := t.switchIntent(ei); ok {
		return out
	}
	n := t.in.SessionState.Attempts + 1
	if ei.Confirmation == nil || n > ei.Confirmation.MaxRetries {
		return t.fail(ei, slots, confirmNone)
	}
	t.say(&ei.Confirmation.MessageGroups, slots)
	intent := &lexlocal.Intent{Name: ei.Name, Slots: slots, State: stateInProgress, ConfirmationState: confirmNone}
	return t.answer(intent, actionConfirm, "", n, certain(ei.Name))
}

// switchIntent starts another intent when a reply that does not answer
// the pending question clearly asks for one: Lex lets the user change their
// mind mid-intent.
func (t *turn) switchIntent(ei *export.Intent) (lexlocal.RecognizeOutput, bool) {
	res := t.loc.model.Match(t.in.Text)
	if res.Best == nlu.FallbackIntent || res.Best == ei.Name {
		return lexlocal.RecognizeOutput{}, false
	}
	return t.start(res), true
}

// fail closes an intent whose question went unanswered too often.
func (t *turn) fail(ei *export.Intent, slots map[string]*lexlocal.Slot, confirmation string) lexlocal.RecognizeOutput {
	t.say(t.failure(), slots)
	intent := &lexlocal.Intent{Name: ei.Name, Slots: slots, State: stateFailed, ConfirmationState: confirmation}
	return t.answer(intent, actionClose, "", 0, certain(ei.Name))
}

// miss answers text no intent matched.
func (t *turn) miss(res nlu.Result) lexlocal.RecognizeOutput {
	st := t.in.SessionState
	fallback := &lexlocal.Intent{Name: nlu.FallbackIntent, State: stateReady, ConfirmationState: confirmNone}
	if t.v1 {
		n := 1
		if st.DialogAction != nil && st.DialogAction.Type == actionElicitIntent {
			n = st.Attempts + 1
		}
		if c := t.loc.src.Clarification; c != nil && n <= c.MaxAttempts {
			t.say(&c.MessageGroups, nil)
			return t.answer(nil, actionElicitIntent, "", n, res)
		}
		t.say(t.loc.src.Abort, nil)
		fallback.State = stateFailed
		return t.answer(fallback, actionClose, "", 0, res)
	}
	if st.Intent != nil && st.Intent.Name == nlu.FallbackIntent {
		fallback.State = stateFailed
	}
	t.say(t.failure(), nil)
	return t.answer(fallback, actionClose, "", 0, res)
}

// failure is what the bot says when it gives up: V1's abort statement, or
// the V2 FallbackIntent's closing (else initial) response.
func (t *turn) failure() *export.MessageGroups {
	if t.v1 {
		return t.loc.src.Abort
	}
	fb := t.loc.fallback
	if fb == nil {
		return nil
	}
	if fb.Closing != nil {
		return fb.Closing
	}
	return fb.Initial
}

// answer assembles the turn's output. The interpretation of the intent in
// the session state repeats that intent, state included, as Lex does.
func (t *turn) answer(intent *lexlocal.Intent, action, slot string, attempts int, res nlu.Result) lexlocal.RecognizeOutput {
	st := t.in.SessionState
	out := lexlocal.RecognizeOutput{
		SessionState: lexlocal.SessionState{
			DialogAction:      &lexlocal.DialogAction{Type: action, SlotToElicit: slot},
			Intent:            intent,
			ActiveContexts:    st.ActiveContexts,
			SessionAttributes: t.attrs,
			RuntimeHints:      st.RuntimeHints,
			Attempts:          attempts,
		},
		Messages: t.msgs,
	}
	for _, in := range res.Interpretations {
		ip := lexlocal.Interpretation{InterpretationSource: interpretationSource}
		switch {
		case intent != nil && in.Intent == intent.Name:
			copied := *intent
			ip.Intent = &copied
		case in.Intent == nlu.FallbackIntent:
			ip.Intent = &lexlocal.Intent{Name: nlu.FallbackIntent}
		default:
			ip.Intent = &lexlocal.Intent{Name: in.Intent, Slots: t.interpretedSlots(in)}
		}
		if in.HasScore() {
			ip.NLUConfidence = &lexlocal.ConfidenceScore{Score: in.Score}
		}
		out.Interpretations = append(out.Interpretations, ip)
	}
	return out
}

// interpretedSlots lists every slot of an alternative interpretation, the
// ones its reading of the text filled and the rest as null.
func (t *turn) interpretedSlots(in nlu.Interpretation) map[string]*lexlocal.Slot {
	ei := t.loc.src.Intent(in.Intent)
	if ei == nil {
		return nil
	}
	slots := emptySlots(ei)
	for name, m := range in.Slots {
		slots[name] = slotValue(m)
	}
	return slots
}

// certain is the interpretation of a turn that answers the intent's own
// question: no matching took place, so the intent is sure.
func certain(intent string) nlu.Result {
	return nlu.Result{Best: intent, Interpretations: []nlu.Interpretation{
		{Intent: intent, Score: 1}, {Intent: nlu.FallbackIntent},
	}}
}

func confirmationOf(in *lexlocal.Intent) string {
	switch in.ConfirmationState {
	case confirmConfirmed, confirmDenied:
		return in.ConfirmationState
	}
	return confirmNone
}

func slotNamed(ei *export.Intent, name string) *export.Slot {
	for _, s := range ei.Slots {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// emptySlots has every slot of the intent, unfilled: Lex lists them all, as
// null, from the first turn.
func emptySlots(ei *export.Intent) map[string]*lexlocal.Slot {
	slots := make(map[string]*lexlocal.Slot, len(ei.Slots))
	for _, s := range ei.Slots {
		slots[s.Name] = nil
	}
	return slots
}

func slotValue(m nlu.SlotMatch) *lexlocal.Slot {
	resolved := m.Resolved
	if resolved == nil {
		resolved = []string{}
	}
	return &lexlocal.Slot{Value: &lexlocal.SlotValue{OriginalValue: m.Original, InterpretedValue: m.Interpreted, ResolvedValues: resolved}}
}
