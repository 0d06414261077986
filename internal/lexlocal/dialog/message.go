package dialog

import (
	"strings"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
)

// say appends one message per group of mg, each picked from the group's
// message and its variations, with slots and session attributes filled in.
func (t *turn) say(mg *export.MessageGroups, slots map[string]*lexlocal.Slot) {
	if mg == nil {
		return
	}
	for _, g := range mg.Groups {
		m := g.Message
		if i := t.brain.intn(1 + len(g.Variations)); i > 0 {
			m = g.Variations[i-1]
		}
		t.msgs = append(t.msgs, render(m, slots, t.attrs))
	}
}

// render turns a bot's message into Lex's wire message.
func render(m export.Message, slots map[string]*lexlocal.Slot, attrs map[string]string) lexlocal.Message {
	sub := func(s string) string { return substitute(s, slots, attrs) }
	if m.Kind == export.ImageResponseCard && m.Card != nil {
		card := &lexlocal.ImageResponseCard{Title: sub(m.Card.Title), Subtitle: sub(m.Card.Subtitle), ImageURL: sub(m.Card.ImageURL)}
		for _, b := range m.Card.Buttons {
			card.Buttons = append(card.Buttons, lexlocal.Button{Text: sub(b.Text), Value: sub(b.Value)})
		}
		return lexlocal.Message{ContentType: m.Kind.String(), ImageResponseCard: card}
	}
	return lexlocal.Message{ContentType: m.Kind.String(), Content: sub(m.Text)}
}

// substitute replaces {Slot} with the slot's interpreted value and [attr]
// with the session attribute. A name with no value is left as written, so
// JSON in a custom payload passes through untouched. Substituted values
// are not scanned again: a value cannot inject another placeholder.
func substitute(s string, slots map[string]*lexlocal.Slot, attrs map[string]string) string {
	if !strings.ContainsAny(s, "{[") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c == '{' || c == '[' {
			end := byte('}')
			if c == '[' {
				end = ']'
			}
			if j := strings.IndexByte(s[i+1:], end); j >= 0 {
				if v, ok := lookup(c, s[i+1:i+1+j], slots, attrs); ok {
					b.WriteString(v)
					i += j + 2
					continue
				}
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func lookup(open byte, name string, slots map[string]*lexlocal.Slot, attrs map[string]string) (string, bool) {
	if open == '[' {
		v, ok := attrs[name]
		return v, ok
	}
	if s := slots[name]; s != nil && s.Value != nil {
		return s.Value.InterpretedValue, true
	}
	return "", false
}
