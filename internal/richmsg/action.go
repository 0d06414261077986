package richmsg

import (
	"encoding/json"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Action types, canonical spelling.
const (
	ActionLink       = "link"       // open URL; sends no message
	ActionQuickReply = "quickReply" // send Message (with ReplyMetadata) as the contact
	ActionSubmit     = "submit"     // send Text/name as the contact, with FormData
)

// actionStyle is the JSON shape an action is written in. Kommunicate's
// templates disagree (a card nests the fields under "payload", a list spells
// "quick_reply" and sends "text"), and the canonical form keeps each
// template's documented shape so that payloads stay valid Kommunicate JSON.
type actionStyle int

const (
	styleFlat   actionStyle = iota // 11, 13: {"type","title","message",…}
	styleList                      // 7: {"type":"quick_reply","text",…}
	styleNested                    // 10: {"type","payload":{…}}
)

// Action is what a button or list item does, normalised across templates.
type Action struct {
	Type             string
	URL              string // link
	OpenLinkInNewTab *bool  // link; nil leaves the widget's default
	Title            string // quickReply: label, when it differs from the button's name
	Message          string // quickReply: the text the contact sends
	ReplyMetadata    chat.Metadata
	UpdateLanguage   string        // quickReply: switch the contact's language (BCP-47)
	Text             string        // submit: acknowledgement text sent as the contact
	FormAction       string        // submit: where the widget may post FormData
	FormData         chat.Metadata // submit
	RequestType      string        // submit: "json" or "" (form-encoded), as Kommunicate
	style            actionStyle
}

// rawAction accepts every documented spelling: flat fields, or fields under
// "payload" (cards), "text" for the message (lists), "quick_reply".
type rawAction struct {
	Type             string        `json:"type"`
	URL              string        `json:"url"`
	OpenLinkInNewTab *bool         `json:"openLinkInNewTab"`
	Title            string        `json:"title"`
	Message          string        `json:"message"`
	Text             string        `json:"text"`
	ReplyMetadata    chat.Metadata `json:"replyMetadata"`
	UpdateLanguage   string        `json:"updateLanguage"`
	FormAction       string        `json:"formAction"`
	FormData         chat.Metadata `json:"formData"`
	RequestType      string        `json:"requestType"`
	Payload          *rawAction    `json:"payload"`
}

func canonicalActionType(t string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case "link", "url", "web_url":
		return ActionLink, true
	case "", "quickreply", "quick_reply", "suggestedreply", "suggested_reply":
		return ActionQuickReply, true
	case "submit":
		return ActionSubmit, true
	}
	return "", false
}

// normalizeAction turns a decoded action into an Action, checking it. name
// is the label of the button or item that carries it, used as the default
// message as Kommunicate does.
func normalizeAction(c *checker, field string, ra *rawAction, name string, style actionStyle) Action {
	if ra == nil {
		ra = &rawAction{}
	}
	merged := *ra
	if p := ra.Payload; p != nil {
		// Nested fields win: that is where cards put them.
		pick := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		pick(&merged.URL, p.URL)
		pick(&merged.Title, p.Title)
		pick(&merged.Message, p.Message)
		pick(&merged.Text, p.Text)
		pick(&merged.UpdateLanguage, p.UpdateLanguage)
		pick(&merged.FormAction, p.FormAction)
		pick(&merged.RequestType, p.RequestType)
		if p.OpenLinkInNewTab != nil {
			merged.OpenLinkInNewTab = p.OpenLinkInNewTab
		}
		if len(p.ReplyMetadata) > 0 {
			merged.ReplyMetadata = p.ReplyMetadata
		}
		if len(p.FormData) > 0 {
			merged.FormData = p.FormData
		}
	}
	t, ok := canonicalActionType(merged.Type)
	if !ok {
		c.failf(field+".type", "%q is not an action type (link, quickReply, submit)", truncateRunes(merged.Type, 30))
		return Action{}
	}
	a := Action{Type: t, style: style}
	switch t {
	case ActionLink:
		a.URL = merged.URL
		a.OpenLinkInNewTab = merged.OpenLinkInNewTab
		c.url(field+".url", &a.URL, true)
	case ActionQuickReply:
		a.Title = merged.Title
		// Lists send "text"; cards and generic buttons send "message".
		a.Message = firstNonEmpty(merged.Message, merged.Text)
		if a.Message == "" && strings.TrimSpace(name) == "" {
			a.Message = a.Title
		}
		a.ReplyMetadata = merged.ReplyMetadata
		a.UpdateLanguage = merged.UpdateLanguage
		c.text(field+".title", a.Title, MaxLabelLen, false)
		c.text(field+".message", a.Message, MaxTextLen, strings.TrimSpace(name) == "")
		c.meta(field+".replyMetadata", a.ReplyMetadata)
		c.language(field+".updateLanguage", a.UpdateLanguage)
	case ActionSubmit:
		a.Text = firstNonEmpty(merged.Text, merged.Message)
		a.FormAction = merged.FormAction
		a.FormData = merged.FormData
		a.RequestType = merged.RequestType
		a.ReplyMetadata = merged.ReplyMetadata
		c.text(field+".text", a.Text, MaxTextLen, false)
		c.url(field+".formAction", &a.FormAction, false)
		c.meta(field+".formData", a.FormData)
		c.meta(field+".replyMetadata", a.ReplyMetadata)
		c.requestType(field+".requestType", &a.RequestType)
	}
	return a
}

// requestType accepts Kommunicate's values: "json" (post JSON in the
// background), "POST" (a form post, used by form submits) or empty.
func (c *checker) requestType(field string, rt *string) {
	switch strings.ToLower(*rt) {
	case "":
		*rt = ""
	case "json":
		*rt = "json"
	case "post":
		*rt = "POST"
	default:
		c.failf(field, "%q is not a request type (json, POST or empty)", truncateRunes(*rt, 30))
	}
}

// fields returns the action's fields without its type, for encoding.
func (a Action) fields() map[string]any {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	switch a.Type {
	case ActionLink:
		put("url", a.URL)
		if a.OpenLinkInNewTab != nil {
			m["openLinkInNewTab"] = *a.OpenLinkInNewTab
		}
	case ActionQuickReply:
		put("title", a.Title)
		if a.style == styleList {
			put("text", a.Message)
		} else {
			put("message", a.Message)
		}
		put("updateLanguage", a.UpdateLanguage)
		if len(a.ReplyMetadata) > 0 {
			m["replyMetadata"] = a.ReplyMetadata
		}
	case ActionSubmit:
		put("text", a.Text)
		put("formAction", a.FormAction)
		put("requestType", a.RequestType)
		if len(a.FormData) > 0 {
			m["formData"] = a.FormData
		}
		if len(a.ReplyMetadata) > 0 {
			m["replyMetadata"] = a.ReplyMetadata
		}
	}
	return m
}

// MarshalJSON writes the action in its template's documented shape.
func (a Action) MarshalJSON() ([]byte, error) {
	f := a.fields()
	switch a.style {
	case styleNested:
		return json.Marshal(map[string]any{"type": a.Type, "payload": f})
	case styleList:
		t := a.Type
		if t == ActionQuickReply {
			t = "quick_reply"
		}
		f["type"] = t
	default:
		f["type"] = a.Type
	}
	return json.Marshal(f)
}
