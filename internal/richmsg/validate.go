package richmsg

import (
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Control keys a bot's reply may carry besides a template (SPEC §3, §4.3).
const (
	MetaActionRequest    = "actionRequest"
	MetaEnableAttachment = "KM_ENABLE_ATTACHMENT"
)

// Known actionRequest values.
const (
	ActionResolveConversation    = "resolveConversation"
	ActionAskCSAT                = "askCSAT"
	ActionFetchAgentAvailability = "fetchAgentAvailability"
)

// Validate checks meta's rich message (templateId + payload) and control
// keys, and returns a cleaned copy: the payload re-encoded canonically,
// contentType "300" set with a template, KM_ENABLE_ATTACHMENT as
// "true"/"false". Other keys pass unchanged (bots keep their own data in
// metadata). Warnings report what was fixed up; err reports the first
// problem, naming the field. meta is not modified.
func Validate(meta chat.Metadata) (clean chat.Metadata, warnings []string, err error) {
	clean = meta.Clone()
	if clean == nil {
		clean = chat.Metadata{}
	}
	if err := validateControl(clean); err != nil {
		return nil, nil, err
	}
	if _, ok := clean[chat.MetaTemplateID]; ok {
		t, warns, err := Decode(clean)
		if err != nil {
			return nil, warns, err
		}
		warnings = warns
		if err := encode(t, clean); err != nil {
			return nil, warnings, err
		}
	} else if _, ok := clean[chat.MetaPayload]; ok && looksRich(clean[chat.MetaPayload]) {
		// A payload without a templateId renders as nothing; say so
		// rather than keep dead data.
		return nil, nil, chat.FieldError(chat.MetaTemplateID, "templateId: a payload needs a templateId")
	}
	if err := clean.Validate("metadata"); err != nil {
		return nil, warnings, err
	}
	return clean, warnings, nil
}

func looksRich(p string) bool {
	p = strings.TrimSpace(p)
	return strings.HasPrefix(p, "[") || strings.HasPrefix(p, "{")
}

// validateControl checks and canonicalises the control keys in m.
func validateControl(m chat.Metadata) error {
	for _, k := range []string{chat.MetaAssignTo, chat.MetaAssignTeam, MetaActionRequest, MetaEnableAttachment} {
		if err := validateControlKey(m, k); err != nil {
			return err
		}
	}
	return nil
}

func validateControlKey(m chat.Metadata, k string) error {
	v, ok := m[k]
	if !ok {
		return nil
	}
	c := &checker{}
	switch k {
	case chat.MetaAssignTo:
		// "" means "apply the routing rules"; otherwise an agent id, an
		// email or a bot id. Which one is the router's business; here it
		// only has to be one bounded token.
		if v != "" {
			c.token(k, v, chat.MaxEmailLen)
		}
	case chat.MetaAssignTeam:
		c.token(k, v, chat.MaxIDLen)
		if v == "" {
			c.failf(k, "is empty; name a team")
		}
	case MetaActionRequest:
		switch v {
		case ActionResolveConversation, ActionAskCSAT, ActionFetchAgentAvailability:
		default:
			c.failf(k, "%q is not an action (resolveConversation, askCSAT, fetchAgentAvailability)", truncateRunes(v, 40))
		}
	case MetaEnableAttachment:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			c.failf(k, "must be true or false")
		} else {
			m[k] = strconv.FormatBool(b)
		}
	}
	return c.err
}

// token checks a one-word value such as an id or an email.
func (c *checker) token(field, v string, max int) {
	if len(v) > max {
		c.failf(field, "is longer than %d bytes", max)
		return
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f || r == 0xfffd {
			c.failf(field, "must be one word without spaces or control characters")
			return
		}
	}
}
