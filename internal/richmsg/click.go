package richmsg

import (
	"encoding/json"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Metadata keys Switchboard puts on the contact message a click becomes.
const (
	MetaClicked     = "KM_CLICKED"      // the label of what was clicked
	MetaClickedPath = "KM_CLICKED_PATH" // where it is in the payload (Click.Path)
	MetaFormValues  = "KM_FORM_DATA"    // a form's submitted values, a JSON object
	MetaButtonData  = "KM_BUTTON_DATA"  // a submit button's formData, a JSON object
)

// Click is what the widget (or a REST client) reports: which element of a
// stored rich message was pressed.
type Click struct {
	// Path is a JSON Pointer (RFC 6901) into the canonical payload, to
	// the button or item pressed:
	//   3, 6, 9, 11, 13: "/2"             (the third button or reply)
	//   7:               "/elements/1", "/buttons/0"
	//   8:               "/buttons/0"
	//   10:              "/1/buttons/0"   (card 1, button 0)
	//   12:              "/4"             (the submit field pressed)
	Path string
	// Values are a form's inputs by field key (template 12 only). A
	// checkbox may carry several values.
	Values map[string][]string
}

// ClickMessage is what a click becomes.
type ClickMessage struct {
	// Text and Metadata make the contact's message, which goes to the bot
	// like typed text. Metadata holds the button's replyMetadata, then
	// MetaClicked and MetaClickedPath (which replyMetadata cannot spoof).
	Text     string
	Metadata chat.Metadata
	// Language, when set, is the contact's new language (a quick reply's
	// updateLanguage): the caller stores it before the bot sees Text.
	Language string
	// Link, when set, means the button opens this (safe) URL and sends no
	// message; Text and Metadata are empty.
	Link string
}

// ClickToMessage resolves a click on the rich message in templateMeta (the
// stored message's metadata). It refuses a click on anything the template
// does not hold, and a form submission whose values do not fit the form, so
// a client cannot make the contact "click" what the bot never offered.
func ClickToMessage(templateMeta chat.Metadata, click Click) (ClickMessage, error) {
	t, _, err := Decode(templateMeta)
	if err != nil {
		return ClickMessage{}, err
	}
	if t == nil {
		return ClickMessage{}, chat.FieldError("click", "the message has no rich content to click")
	}
	seg, err := splitPointer(click.Path)
	if err != nil {
		return ClickMessage{}, err
	}
	bad := chat.FieldError("click.path", "%q names nothing clickable in this message", truncateRunes(click.Path, 40))
	if len(click.Values) > 0 && t.TemplateID() != TemplateForm {
		return ClickMessage{}, chat.FieldError("click.values", "only a form submission carries values")
	}
	var out ClickMessage
	switch t := t.(type) {
	case Buttons:
		i, ok := index(seg, 1, len(t.Buttons))
		if !ok {
			return ClickMessage{}, bad
		}
		b := t.Buttons[i]
		if b.Type == ActionLink {
			return ClickMessage{Link: b.URL}, nil
		}
		out = reply(firstNonEmpty(b.ReplyText, b.Name), b.Name, b.ReplyMetadata)
		if len(t.FormData) > 0 {
			fd, _ := json.Marshal(t.FormData)
			out.Metadata[MetaButtonData] = string(fd)
		}
	case QuickReplies:
		i, ok := index(seg, 1, len(t))
		if !ok {
			return ClickMessage{}, bad
		}
		q := t[i]
		out = reply(q.Message, q.Title, q.ReplyMetadata)
		out.Language = q.UpdateLanguage
	case List:
		if len(seg) != 2 {
			return ClickMessage{}, bad
		}
		switch seg[0] {
		case "elements":
			i, ok := index(seg[1:], 1, len(t.Elements))
			if !ok {
				return ClickMessage{}, bad
			}
			e := t.Elements[i]
			out = actionMessage(e.Action, e.Title)
		case "buttons":
			i, ok := index(seg[1:], 1, len(t.Buttons))
			if !ok {
				return ClickMessage{}, bad
			}
			b := t.Buttons[i]
			out = actionMessage(b.Action, b.Name)
		default:
			return ClickMessage{}, bad
		}
	case Dialog:
		if len(seg) != 2 || seg[0] != "buttons" {
			return ClickMessage{}, bad
		}
		i, ok := index(seg[1:], 1, len(t.Buttons))
		if !ok {
			return ClickMessage{}, bad
		}
		out = reply(t.Buttons[i].Name, t.Buttons[i].Name, t.Buttons[i].ReplyMetadata)
	case Cards:
		if len(seg) != 3 || seg[1] != "buttons" {
			return ClickMessage{}, bad
		}
		ci, ok := index(seg[:1], 1, len(t))
		if !ok {
			return ClickMessage{}, bad
		}
		bi, ok := index(seg[2:], 1, len(t[ci].Buttons))
		if !ok {
			return ClickMessage{}, bad
		}
		b := t[ci].Buttons[bi]
		out = actionMessage(&b.Action, b.Name)
	case GenericButtons:
		i, ok := index(seg, 1, len(t.Buttons))
		if !ok {
			return ClickMessage{}, bad
		}
		b := t.Buttons[i]
		out = actionMessage(&b.Action, b.Name)
	case Form:
		i, ok := index(seg, 1, len(t))
		if !ok || t[i].Type != "submit" {
			return ClickMessage{}, bad
		}
		out, err = formMessage(t, t[i], click.Values)
		if err != nil {
			return ClickMessage{}, err
		}
	default: // images and videos have nothing to click
		return ClickMessage{}, bad
	}
	if out.Link != "" {
		return out, nil
	}
	out.Metadata[MetaClickedPath] = click.Path
	if strings.TrimSpace(out.Text) == "" {
		out.Text = out.Metadata[MetaClicked]
	}
	return out, nil
}

func reply(text, label string, replyMeta chat.Metadata) ClickMessage {
	m := replyMeta.Clone()
	if m == nil {
		m = chat.Metadata{}
	}
	m[MetaClicked] = firstNonEmpty(label, text)
	return ClickMessage{Text: firstNonEmpty(text, label), Metadata: m}
}

// actionMessage resolves a button or item with an action; without one, a
// click sends the label (Kommunicate's default).
func actionMessage(a *Action, label string) ClickMessage {
	if a == nil {
		return reply(label, label, nil)
	}
	switch a.Type {
	case ActionLink:
		return ClickMessage{Link: a.URL}
	case ActionSubmit:
		out := reply(firstNonEmpty(a.Text, label), label, a.ReplyMetadata)
		if len(a.FormData) > 0 {
			fd, _ := json.Marshal(a.FormData)
			out.Metadata[MetaButtonData] = string(fd)
		}
		return out
	}
	out := reply(firstNonEmpty(a.Message, a.Title, label), firstNonEmpty(label, a.Title), a.ReplyMetadata)
	out.Language = a.UpdateLanguage
	return out
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// formMessage checks a submission against the form and builds the
// contact's message. Hidden fields always carry the bot's own values, never
// the client's.
func formMessage(form Form, submit FormField, values map[string][]string) (ClickMessage, error) {
	fields := map[string]FormField{}
	for _, f := range form {
		if f.Type != "submit" {
			fields[f.Key()] = f
		}
	}
	for k := range values {
		if _, ok := fields[k]; !ok {
			return ClickMessage{}, chat.FieldError("click.values", "the form has no field %q", truncateRunes(k, 40))
		}
	}
	data := map[string]any{}
	var keys []string
	for key, f := range fields {
		vs := values[key]
		field := "click.values." + key
		if f.Type == "hidden" {
			data[key] = f.Data.Value
			keys = append(keys, key)
			continue
		}
		if f.Type != "checkbox" && len(vs) > 1 {
			return ClickMessage{}, chat.FieldError(field, "%s takes one value", key)
		}
		if len(vs) > MaxFormOptions {
			return ClickMessage{}, chat.FieldError(field, "%s has too many values", key)
		}
		c := &checker{}
		for _, v := range vs {
			c.text(field, v, MaxTextLen, false)
		}
		if c.err != nil {
			return ClickMessage{}, c.err
		}
		v := strings.Join(vs, ",")
		if f.Data.Validation != nil && f.Data.Validation.Regex != "" {
			if re, err := regexp.Compile(f.Data.Validation.Regex); err == nil && !re.MatchString(v) {
				return ClickMessage{}, chat.FieldError(field, "%s", firstNonEmpty(f.Data.Validation.ErrorText, key+" is not valid"))
			}
		}
		if v != "" {
			switch f.Type {
			case "email":
				if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
					return ClickMessage{}, chat.FieldError(field, "%s is not an email address", key)
				}
			case "number":
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return ClickMessage{}, chat.FieldError(field, "%s is not a number", key)
				}
			case "date":
				if _, err := time.Parse("2006-01-02", v); err != nil || !isoDate.MatchString(v) {
					return ClickMessage{}, chat.FieldError(field, "%s is not a date (YYYY-MM-DD)", key)
				}
			case "radio", "checkbox", "dropdown":
				for _, one := range vs {
					if !hasOption(f.Data.Options, one) {
						return ClickMessage{}, chat.FieldError(field, "%q is not a choice of %s", truncateRunes(one, 40), key)
					}
				}
			}
		}
		if len(vs) == 0 {
			continue
		}
		keys = append(keys, key)
		if f.Type == "checkbox" {
			data[key] = vs
		} else {
			data[key] = v
		}
	}
	sort.Strings(keys)
	b, err := json.Marshal(data)
	if err != nil {
		return ClickMessage{}, chat.Errorf(chat.CodeInternal, "encoding form values")
	}
	out := reply("", submit.Data.Name, nil)
	out.Metadata[MetaFormValues] = string(b)
	a := submit.Data.Action
	if a != nil && a.PostFormDataAsMessage {
		var lines []string
		for _, k := range keys {
			if s, ok := data[k].(string); ok {
				lines = append(lines, k+" : "+s)
			} else {
				lines = append(lines, k+" : "+strings.Join(data[k].([]string), ", "))
			}
		}
		out.Text = strings.Join(lines, "\n")
	} else if a != nil && a.Message != "" {
		out.Text = a.Message
	} else {
		out.Text = submit.Data.Name
	}
	return out, nil
}

func hasOption(opts []FormOption, v string) bool {
	for _, o := range opts {
		if o.Value == v && !o.Disabled {
			return true
		}
	}
	return false
}

// splitPointer parses a JSON Pointer into its unescaped segments.
func splitPointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") || len(p) > 64 {
		return nil, chat.FieldError("click.path", "click.path must be a JSON Pointer such as /0 or /1/buttons/0")
	}
	seg := strings.Split(p[1:], "/")
	for i, s := range seg {
		seg[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return seg, nil
}

// index reads seg as exactly n segments whose first is an array index below
// length; leading zeros and signs are refused so one element has one path.
func index(seg []string, n, length int) (int, bool) {
	if len(seg) != n {
		return 0, false
	}
	s := seg[0]
	if s == "" || len(s) > 4 || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i >= length {
		return 0, false
	}
	return i, true
}
