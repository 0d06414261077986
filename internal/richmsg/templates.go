package richmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Template ids (metadata.templateId), as Kommunicate numbers them.
const (
	TemplateButtons        = "3"
	TemplateQuickReplies   = "6"
	TemplateList           = "7"
	TemplateDialog         = "8"
	TemplateImages         = "9"
	TemplateCards          = "10"
	TemplateGenericButtons = "11"
	TemplateForm           = "12"
	TemplateGenericButton2 = "13"
	TemplateVideo          = "14"
)

// Template-3 keys that live beside the payload in the metadata, not in it.
const (
	MetaFormData    = "formData"
	MetaFormAction  = "formAction"
	MetaRequestType = "requestType"
	// MetaContentType is Kommunicate's marker for a rich message ("300").
	MetaContentType = "contentType"
	ContentTypeRich = "300"
)

// templateKeys are removed with the template when it degrades to text.
var templateKeys = []string{chat.MetaTemplateID, chat.MetaPayload, MetaContentType, MetaFormData, MetaFormAction, MetaRequestType}

// Template is a decoded, checked rich message.
type Template interface {
	TemplateID() string
	payload() any
}

// ---- 3: link and submit buttons ----

// Buttons is template 3. Submit buttons post FormData to FormAction, which
// Kommunicate keeps in the metadata beside the payload.
type Buttons struct {
	Buttons     []Button
	FormData    chat.Metadata
	FormAction  string
	RequestType string
}

// Button is one button of template 3.
type Button struct {
	Type             string        `json:"type"` // "link" or "submit"
	Name             string        `json:"name"`
	URL              string        `json:"url,omitempty"`
	OpenLinkInNewTab *bool         `json:"openLinkInNewTab,omitempty"`
	ReplyText        string        `json:"replyText,omitempty"`
	ReplyMetadata    chat.Metadata `json:"replyMetadata,omitempty"`
}

func (Buttons) TemplateID() string { return TemplateButtons }
func (t Buttons) payload() any     { return t.Buttons }

func decodeButtons(c *checker, p []byte, meta chat.Metadata) Template {
	var t Buttons
	if !c.decode(p, &t.Buttons) {
		return nil
	}
	c.count("payload", len(t.Buttons), 1, MaxButtons)
	t.FormAction = meta[MetaFormAction]
	t.RequestType = meta[MetaRequestType]
	if fd := meta[MetaFormData]; fd != "" {
		if err := json.Unmarshal([]byte(fd), &t.FormData); err != nil {
			c.failf(MetaFormData, "must be a JSON object")
		}
		c.meta(MetaFormData, t.FormData)
	}
	c.url(MetaFormAction, &t.FormAction, false)
	c.requestType(MetaRequestType, &t.RequestType)
	for i := range t.Buttons {
		b := &t.Buttons[i]
		f := idx("payload", i)
		switch strings.ToLower(b.Type) {
		case "link":
			b.Type = ActionLink
			c.url(f+".url", &b.URL, true)
		case "", "submit":
			// Kommunicate treats every non-link button as submit.
			b.Type = ActionSubmit
			b.URL, b.OpenLinkInNewTab = "", nil
		default:
			c.failf(f+".type", "%q is not a button type (link or submit)", truncateRunes(b.Type, 30))
		}
		c.text(f+".name", b.Name, MaxLabelLen, true)
		c.text(f+".replyText", b.ReplyText, MaxTextLen, false)
		c.meta(f+".replyMetadata", b.ReplyMetadata)
	}
	return t
}

// ---- 6: quick replies (suggested replies) ----

// QuickReplies is template 6.
type QuickReplies []QuickReply

// QuickReply sends Message (Title when empty) with ReplyMetadata when
// clicked; UpdateLanguage switches the contact's language.
type QuickReply struct {
	Title          string        `json:"title"`
	Message        string        `json:"message"`
	ReplyMetadata  chat.Metadata `json:"replyMetadata,omitempty"`
	UpdateLanguage string        `json:"updateLanguage,omitempty"`
}

func (QuickReplies) TemplateID() string { return TemplateQuickReplies }
func (t QuickReplies) payload() any     { return []QuickReply(t) }

func decodeQuickReplies(c *checker, p []byte, _ chat.Metadata) Template {
	var t QuickReplies
	if !c.decode(p, &t) {
		return nil
	}
	c.count("payload", len(t), 1, MaxQuickReplies)
	for i := range t {
		q := &t[i]
		f := idx("payload", i)
		c.text(f+".title", q.Title, MaxLabelLen, true)
		if strings.TrimSpace(q.Message) == "" {
			q.Message = q.Title // Kommunicate sends the title then; say so in the payload
		}
		c.text(f+".message", q.Message, MaxTextLen, true)
		c.meta(f+".replyMetadata", q.ReplyMetadata)
		c.language(f+".updateLanguage", q.UpdateLanguage)
	}
	return t
}

// ---- 7: list ----

// List is template 7.
type List struct {
	HeaderImgSrc string        `json:"headerImgSrc,omitempty"`
	HeaderText   string        `json:"headerText,omitempty"`
	Elements     []ListElement `json:"elements"`
	Buttons      []ListButton  `json:"buttons"`
}

// ListElement is one item; without an action a click sends its title.
type ListElement struct {
	ImgSrc      string  `json:"imgSrc,omitempty"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Action      *Action `json:"action,omitempty"`
}

// ListButton is one footer button of a list.
type ListButton struct {
	Name   string  `json:"name"`
	Action *Action `json:"action,omitempty"`
}

func (List) TemplateID() string { return TemplateList }
func (t List) payload() any     { return t }

func decodeList(c *checker, p []byte, _ chat.Metadata) Template {
	var raw struct {
		HeaderImgSrc string `json:"headerImgSrc"`
		HeaderText   string `json:"headerText"`
		Elements     []struct {
			ImgSrc      string     `json:"imgSrc"`
			Title       string     `json:"title"`
			Description string     `json:"description"`
			Action      *rawAction `json:"action"`
		} `json:"elements"`
		Buttons []struct {
			Name   string     `json:"name"`
			Action *rawAction `json:"action"`
		} `json:"buttons"`
	}
	if !c.decode(p, &raw) {
		return nil
	}
	t := List{HeaderImgSrc: raw.HeaderImgSrc, HeaderText: raw.HeaderText, Elements: []ListElement{}, Buttons: []ListButton{}}
	c.url("payload.headerImgSrc", &t.HeaderImgSrc, false)
	c.text("payload.headerText", t.HeaderText, MaxTextLen, false)
	c.count("payload.elements", len(raw.Elements), 0, MaxListElements)
	c.count("payload.buttons", len(raw.Buttons), 0, MaxButtons)
	if len(raw.Elements)+len(raw.Buttons) == 0 {
		c.failf("payload", "a list needs elements or buttons")
	}
	for i, e := range raw.Elements {
		f := idx("payload.elements", i)
		el := ListElement{ImgSrc: e.ImgSrc, Title: e.Title, Description: e.Description}
		c.url(f+".imgSrc", &el.ImgSrc, false)
		c.text(f+".title", el.Title, MaxLabelLen, true)
		c.text(f+".description", el.Description, MaxTextLen, false)
		if e.Action != nil {
			a := normalizeAction(c, f+".action", e.Action, el.Title, styleList)
			el.Action = &a
		}
		t.Elements = append(t.Elements, el)
	}
	for i, b := range raw.Buttons {
		f := idx("payload.buttons", i)
		lb := ListButton{Name: b.Name}
		c.text(f+".name", lb.Name, MaxLabelLen, true)
		if b.Action != nil {
			a := normalizeAction(c, f+".action", b.Action, lb.Name, styleList)
			lb.Action = &a
		}
		t.Buttons = append(t.Buttons, lb)
	}
	return t
}

// ---- 8: dialog box (FAQ answer) ----

// Dialog is template 8: a question, its answer, and reply buttons ("Was
// this helpful?" Yes/No).
type Dialog struct {
	Title       string         `json:"title,omitempty"`
	Description string         `json:"description,omitempty"`
	ButtonLabel string         `json:"buttonLabel,omitempty"`
	Buttons     []DialogButton `json:"buttons"` // always present: Kommunicate's renderer reads its length
}

// DialogButton sends its name when clicked.
type DialogButton struct {
	Name          string        `json:"name"`
	ReplyMetadata chat.Metadata `json:"replyMetadata,omitempty"`
}

func (Dialog) TemplateID() string { return TemplateDialog }
func (t Dialog) payload() any     { return t }

func decodeDialog(c *checker, p []byte, _ chat.Metadata) Template {
	var t Dialog
	if !c.decode(p, &t) {
		return nil
	}
	if t.Buttons == nil {
		t.Buttons = []DialogButton{}
	}
	if strings.TrimSpace(t.Title) == "" && strings.TrimSpace(t.Description) == "" {
		c.failf("payload", "a dialog needs a title or a description")
	}
	c.text("payload.title", t.Title, MaxTextLen, false)
	c.text("payload.description", t.Description, MaxTextLen, false)
	c.text("payload.buttonLabel", t.ButtonLabel, MaxLabelLen, false)
	c.count("payload.buttons", len(t.Buttons), 0, MaxButtons)
	for i, b := range t.Buttons {
		f := idx("payload.buttons", i)
		c.text(f+".name", b.Name, MaxLabelLen, true)
		c.meta(f+".replyMetadata", b.ReplyMetadata)
	}
	return t
}

// ---- 9: images ----

// Images is template 9; images carry no action.
type Images []Image

// Image is one picture with an optional caption.
type Image struct {
	URL     string `json:"url"`
	Caption string `json:"caption,omitempty"`
}

func (Images) TemplateID() string { return TemplateImages }
func (t Images) payload() any     { return []Image(t) }

func decodeImages(c *checker, p []byte, _ chat.Metadata) Template {
	var t Images
	if !c.decode(p, &t) {
		return nil
	}
	c.count("payload", len(t), 1, MaxImages)
	for i := range t {
		f := idx("payload", i)
		c.url(f+".url", &t[i].URL, true)
		c.text(f+".caption", t[i].Caption, MaxTextLen, false)
	}
	return t
}

// ---- 10: card / carousel ----

// Cards is template 10: one card, or a carousel of several.
type Cards []Card

// Card is one card. URL, when set, makes the whole card a link.
type Card struct {
	Title       string       `json:"title,omitempty"`
	TitleExt    string       `json:"titleExt,omitempty"`
	Subtitle    string       `json:"subtitle,omitempty"`
	Description string       `json:"description,omitempty"`
	Header      *CardHeader  `json:"header,omitempty"`
	URL         string       `json:"url,omitempty"`
	Buttons     []CardButton `json:"buttons,omitempty"`
}

// CardHeader is the card's image and the text laid over it.
type CardHeader struct {
	ImgSrc      string `json:"imgSrc,omitempty"`
	OverlayText string `json:"overlayText,omitempty"`
}

// CardButton is a button in a card's footer.
type CardButton struct {
	Name   string `json:"name"`
	Action Action `json:"action"`
}

func (Cards) TemplateID() string { return TemplateCards }
func (t Cards) payload() any     { return []Card(t) }

func decodeCards(c *checker, p []byte, _ chat.Metadata) Template {
	var raw []struct {
		Title       string      `json:"title"`
		TitleExt    string      `json:"titleExt"`
		Subtitle    string      `json:"subtitle"`
		Description string      `json:"description"`
		Header      *CardHeader `json:"header"`
		URL         string      `json:"url"`
		Buttons     []struct {
			Name   string     `json:"name"`
			Action *rawAction `json:"action"`
		} `json:"buttons"`
	}
	if !c.decode(p, &raw) {
		return nil
	}
	c.count("payload", len(raw), 1, MaxCards)
	t := make(Cards, 0, len(raw))
	for i, r := range raw {
		f := idx("payload", i)
		card := Card{Title: r.Title, TitleExt: r.TitleExt, Subtitle: r.Subtitle, Description: r.Description, URL: r.URL}
		if r.Header != nil && (r.Header.ImgSrc != "" || r.Header.OverlayText != "") {
			h := *r.Header
			card.Header = &h
			c.url(f+".header.imgSrc", &h.ImgSrc, false)
			c.text(f+".header.overlayText", h.OverlayText, MaxLabelLen, false)
		}
		if strings.TrimSpace(card.Title) == "" && (card.Header == nil || card.Header.ImgSrc == "") {
			c.failf(f, "a card needs a title or a header image")
		}
		c.text(f+".title", card.Title, MaxLabelLen, false)
		c.text(f+".titleExt", card.TitleExt, MaxLabelLen, false)
		c.text(f+".subtitle", card.Subtitle, MaxTextLen, false)
		c.text(f+".description", card.Description, MaxTextLen, false)
		c.url(f+".url", &card.URL, false)
		c.count(f+".buttons", len(r.Buttons), 0, MaxButtons)
		for j, b := range r.Buttons {
			bf := idx(f+".buttons", j)
			c.text(bf+".name", b.Name, MaxLabelLen, true)
			if b.Action == nil {
				c.failf(bf+".action", "is required")
				continue
			}
			card.Buttons = append(card.Buttons, CardButton{Name: b.Name, Action: normalizeAction(c, bf+".action", b.Action, b.Name, styleNested)})
		}
		t = append(t, card)
	}
	return t
}

// ---- 11, 13: generic buttons ----

// GenericButtons is templates 11 and 13 (Kommunicate's two generations of
// the same button row; the canonical form is the same).
type GenericButtons struct {
	ID      string
	Buttons []GenericButton
}

// GenericButton is one button of template 11 or 13.
type GenericButton struct {
	Name   string `json:"name"`
	Action Action `json:"action"`
}

func (t GenericButtons) TemplateID() string { return t.ID }
func (t GenericButtons) payload() any       { return t.Buttons }

func decodeGenericButtons(id string) func(*checker, []byte, chat.Metadata) Template {
	return func(c *checker, p []byte, _ chat.Metadata) Template {
		var raw []struct {
			Name   string     `json:"name"`
			Action *rawAction `json:"action"`
		}
		if !c.decode(p, &raw) {
			return nil
		}
		c.count("payload", len(raw), 1, MaxButtons)
		t := GenericButtons{ID: id}
		for i, b := range raw {
			f := idx("payload", i)
			c.text(f+".name", b.Name, MaxLabelLen, true)
			t.Buttons = append(t.Buttons, GenericButton{Name: b.Name, Action: normalizeAction(c, f+".action", b.Action, b.Name, styleFlat)})
		}
		return t
	}
}

// ---- 12: form ----

// Form is template 12: input fields and at least one submit button.
type Form []FormField

// FormField is one field, in Kommunicate's {type, data} shape.
type FormField struct {
	Type string        `json:"type"`
	Data FormFieldData `json:"data"`
}

// FormFieldData holds a field's settings; which apply depends on Type.
type FormFieldData struct {
	Label       string          `json:"label,omitempty"`
	Name        string          `json:"name,omitempty"` // the key of the submitted value
	Title       string          `json:"title,omitempty"`
	Placeholder string          `json:"placeholder,omitempty"`
	Value       string          `json:"value,omitempty"` // hidden fields
	Rows        int             `json:"rows,omitempty"`
	Cols        int             `json:"cols,omitempty"`
	Options     []FormOption    `json:"options,omitempty"`
	Validation  *FormValidation `json:"validation,omitempty"`
	Action      *FormSubmit     `json:"action,omitempty"` // submit only
}

// FormOption is a choice of a radio, checkbox or dropdown field.
type FormOption struct {
	Label    string `json:"label"`
	Value    string `json:"value"`
	Selected bool   `json:"selected,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// FormValidation is checked by the widget and, when Go's regexp syntax
// accepts the pattern, again by ClickToMessage.
type FormValidation struct {
	Regex     string `json:"regex,omitempty"`
	ErrorText string `json:"errorText,omitempty"`
}

// FormSubmit is what a submit button does.
type FormSubmit struct {
	Message               string `json:"message,omitempty"`
	FormAction            string `json:"formAction,omitempty"`
	RequestType           string `json:"requestType,omitempty"`
	PostBackToKommunicate bool   `json:"postBackToKommunicate,omitempty"`
	PostFormDataAsMessage bool   `json:"postFormDataAsMessage,omitempty"`
}

// Field types a form may use.
var formFieldTypes = map[string]bool{
	"text": true, "email": true, "number": true, "date": true, "textarea": true,
	"radio": true, "checkbox": true, "dropdown": true, "hidden": true, "submit": true,
}

func (Form) TemplateID() string { return TemplateForm }
func (t Form) payload() any     { return []FormField(t) }

// Key is the name a field's value is submitted under (Kommunicate's widget
// uses the label for text inputs and the name for the others).
func (f FormField) Key() string { return firstNonEmpty(f.Data.Name, f.Data.Label) }

func decodeForm(c *checker, p []byte, _ chat.Metadata) Template {
	type rawData struct {
		FormFieldData
		// Flat submit variant: {"type":"submit","name","formAction","requestType","message"}.
		FormAction  string `json:"formAction"`
		RequestType string `json:"requestType"`
		Message     string `json:"message"`
	}
	var raw []struct {
		Type string `json:"type"`
		rawData
		Data *rawData `json:"data"`
	}
	if !c.decode(p, &raw) {
		return nil
	}
	c.count("payload", len(raw), 1, MaxFormFields)
	t := make(Form, 0, len(raw))
	keys := map[string]bool{}
	submits := 0
	for i, r := range raw {
		f := idx("payload", i)
		d := r.rawData
		if r.Data != nil {
			d = *r.Data
		}
		typ := strings.ToLower(strings.TrimSpace(r.Type))
		if !formFieldTypes[typ] {
			c.failf(f+".type", "%q is not a form field type", truncateRunes(r.Type, 30))
			continue
		}
		fd := d.FormFieldData
		df := f + ".data"
		c.text(df+".label", fd.Label, MaxLabelLen, false)
		c.text(df+".name", fd.Name, MaxLabelLen, false)
		c.text(df+".title", fd.Title, MaxLabelLen, false)
		c.text(df+".placeholder", fd.Placeholder, MaxLabelLen, false)
		if typ == "submit" {
			submits++
			if fd.Action == nil {
				fd.Action = &FormSubmit{}
			}
			a := fd.Action
			a.FormAction = firstNonEmpty(a.FormAction, d.FormAction)
			a.RequestType = firstNonEmpty(a.RequestType, d.RequestType)
			a.Message = firstNonEmpty(a.Message, d.Message)
			fd.Name = firstNonEmpty(fd.Name, fd.Label)
			fd.Label = ""
			c.text(df+".name", fd.Name, MaxLabelLen, true)
			c.text(df+".action.message", a.Message, MaxTextLen, false)
			c.url(df+".action.formAction", &a.FormAction, false)
			c.requestType(df+".action.requestType", &a.RequestType)
			fd.Options, fd.Validation, fd.Value, fd.Placeholder, fd.Rows, fd.Cols = nil, nil, "", "", 0, 0
			t = append(t, FormField{Type: typ, Data: fd})
			continue
		}
		fd.Action = nil
		ff := FormField{Type: typ, Data: fd}
		key := ff.Key()
		c.text(df+".name", key, MaxLabelLen, true)
		if keys[key] {
			c.failf(df+".name", "%q is used by two fields", truncateRunes(key, 40))
		}
		keys[key] = true
		ff.Data.Name = key
		switch typ {
		case "radio", "checkbox", "dropdown":
			c.count(df+".options", len(fd.Options), 1, MaxFormOptions)
			for j, o := range fd.Options {
				of := idx(df+".options", j)
				c.text(of+".label", o.Label, MaxLabelLen, true)
				c.text(of+".value", o.Value, MaxLabelLen, false)
				if o.Value == "" {
					ff.Data.Options[j].Value = o.Label
				}
			}
		default:
			ff.Data.Options = nil
		}
		if typ == "hidden" {
			c.text(df+".value", fd.Value, MaxTextLen, false)
			ff.Data.Validation = nil
		} else {
			ff.Data.Value = ""
		}
		if typ != "textarea" {
			ff.Data.Rows, ff.Data.Cols = 0, 0
		} else if fd.Rows < 0 || fd.Rows > 50 || fd.Cols < 0 || fd.Cols > 200 {
			c.failf(df, "rows must be 0–50 and cols 0–200")
		}
		if v := ff.Data.Validation; v != nil {
			if v.Regex == "" && v.ErrorText == "" {
				ff.Data.Validation = nil
			} else {
				c.text(df+".validation.errorText", v.ErrorText, MaxLabelLen, false)
				if len(v.Regex) > MaxRegexLen {
					c.failf(df+".validation.regex", "is longer than %d bytes", MaxRegexLen)
				} else if _, err := regexp.Compile(v.Regex); err != nil {
					// The widget runs the pattern as a JavaScript regex, whose
					// syntax is wider than Go's (lookaheads); keep it, but
					// the server cannot enforce it.
					c.warnf("%s.validation.regex: the pattern is not RE2 syntax, so only the widget checks it", df)
				}
			}
		}
		t = append(t, ff)
	}
	if c.err == nil && submits == 0 {
		c.failf("payload", "a form needs a submit button")
	}
	if submits > MaxButtons {
		c.failf("payload", "a form may have at most %d submit buttons", MaxButtons)
	}
	return t
}

// ---- 14: video ----

// Videos is template 14: a video file, or an embedded YouTube or Vimeo
// player (Source "youtube" or "vimeo", URL the player's embed URL).
type Videos []Video

// Video is one video.
type Video struct {
	URL     string `json:"url"`
	Source  string `json:"source,omitempty"`
	Type    string `json:"type,omitempty"` // MIME type of a file
	Caption string `json:"caption,omitempty"`
	Width   string `json:"width,omitempty"`
	Height  string `json:"height,omitempty"`
}

func (Videos) TemplateID() string { return TemplateVideo }
func (t Videos) payload() any     { return []Video(t) }

// The size goes into a width/height attribute or a style; a strict pattern
// keeps CSS out of it.
var videoSize = regexp.MustCompile(`^[0-9]{1,4}(px|%)?$`)
var videoMIME = regexp.MustCompile(`^video/[a-z0-9.+-]{1,40}$`)
var youtubeID = regexp.MustCompile(`^[A-Za-z0-9_-]{6,20}$`)

func decodeVideos(c *checker, p []byte, _ chat.Metadata) Template {
	var t Videos
	if !c.decode(p, &t) {
		return nil
	}
	c.count("payload", len(t), 1, MaxVideos)
	for i := range t {
		v := &t[i]
		f := idx("payload", i)
		c.url(f+".url", &v.URL, true)
		c.text(f+".caption", v.Caption, MaxTextLen, false)
		for _, s := range []struct{ name, v string }{{"width", v.Width}, {"height", v.Height}} {
			if s.v != "" && !videoSize.MatchString(s.v) {
				c.failf(f+"."+s.name, "must be a number of pixels or a percentage, like 250px or 100%%")
			}
		}
		v.Source = strings.ToLower(strings.TrimSpace(v.Source))
		switch v.Source {
		case "":
			v.Type = strings.ToLower(v.Type)
			if v.Type != "" && !videoMIME.MatchString(v.Type) {
				c.failf(f+".type", "must be a video MIME type such as video/mp4")
			}
		case "youtube", "vimeo":
			// The URL becomes an iframe's src: only the providers' own
			// players may be framed, never an arbitrary page.
			v.Type = ""
			if c.err == nil {
				if embed, ok := embedURL(v.Source, v.URL); ok {
					if embed != v.URL {
						c.warnf("%s.url: rewritten to the %s embed player URL", f, v.Source)
					}
					v.URL = embed
				} else {
					c.failf(f+".url", "is not a %s video URL", v.Source)
				}
			}
		default:
			c.failf(f+".source", "%q is not a video source (youtube, vimeo, or empty for a file)", truncateRunes(v.Source, 30))
		}
	}
	return t
}

// embedURL maps a safe (already canonical) YouTube or Vimeo URL to the
// provider's embed player, accepting the watch and short-link forms bots
// copy from a browser.
func embedURL(source, raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, "https://")
	if !ok {
		return "", false
	}
	host, path, _ := strings.Cut(rest, "/")
	path, query, _ := strings.Cut(path, "?")
	path, _, _ = strings.Cut(path, "#")
	switch source {
	case "youtube":
		var id string
		switch host {
		case "www.youtube.com", "youtube.com", "m.youtube.com", "www.youtube-nocookie.com":
			if p, ok := strings.CutPrefix(path, "embed/"); ok {
				id = p
			} else if path == "watch" {
				for _, kv := range strings.Split(query, "&") {
					if v, ok := strings.CutPrefix(kv, "v="); ok {
						id = v
					}
				}
			}
		case "youtu.be":
			id = path
		}
		if !youtubeID.MatchString(id) {
			return "", false
		}
		if host == "www.youtube-nocookie.com" {
			return "https://www.youtube-nocookie.com/embed/" + id, true
		}
		return "https://www.youtube.com/embed/" + id, true
	case "vimeo":
		var id string
		switch host {
		case "player.vimeo.com":
			id, _ = strings.CutPrefix(path, "video/")
		case "vimeo.com", "www.vimeo.com":
			id = path
		}
		if _, err := strconv.ParseUint(id, 10, 64); err != nil || len(id) > 15 {
			return "", false
		}
		return "https://player.vimeo.com/video/" + id, true
	}
	return "", false
}

// ---- decoding ----

var decoders = map[string]func(*checker, []byte, chat.Metadata) Template{
	TemplateButtons:        decodeButtons,
	TemplateQuickReplies:   decodeQuickReplies,
	TemplateList:           decodeList,
	TemplateDialog:         decodeDialog,
	TemplateImages:         decodeImages,
	TemplateCards:          decodeCards,
	TemplateGenericButtons: decodeGenericButtons(TemplateGenericButtons),
	TemplateForm:           decodeForm,
	TemplateGenericButton2: decodeGenericButtons(TemplateGenericButton2),
	TemplateVideo:          decodeVideos,
}

// decode unmarshals a payload, turning JSON errors into a message a bot's
// owner can act on.
func (c *checker) decode(p []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(p))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var ce *chat.Error
		switch {
		case errors.As(err, &te):
			where := "payload"
			if f := chat.JSONFieldPath(te.Field); f != "" {
				where += "." + f
			}
			c.failf(where, "must be %s, not a JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &ce):
			c.failf("payload", "%s", ce.Message)
		default:
			c.failf("payload", "is not valid JSON (%s)", err.Error())
		}
		return false
	}
	if dec.More() {
		c.failf("payload", "has data after the JSON value")
		return false
	}
	return true
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "a number"
	}
	return "another type"
}

// payloadBytes returns the payload's JSON text. A payload that is a JSON
// string holding JSON (double-encoded, common from bots that stringify
// twice) is unwrapped once.
func payloadBytes(c *checker, s string) []byte {
	t := strings.TrimSpace(s)
	if t == "" {
		c.failf("payload", "is required with a templateId")
		return nil
	}
	if len(t) > MaxPayloadBytes {
		c.failf("payload", "is larger than %d bytes", MaxPayloadBytes)
		return nil
	}
	if t[0] == '"' {
		var inner string
		if json.Unmarshal([]byte(t), &inner) == nil {
			t = strings.TrimSpace(inner)
		}
	}
	if !json.Valid([]byte(t)) {
		hint := ""
		if strings.Contains(t, "'") && (strings.HasPrefix(t, "[{'") || strings.HasPrefix(t, "{'")) {
			hint = "; it looks like a Python repr: use json.dumps"
		}
		c.failf("payload", "is not valid JSON%s", hint)
		return nil
	}
	return []byte(t)
}

// Decode checks the rich message in meta and returns it typed, for a
// renderer. It returns (nil, nil, nil) when meta holds no templateId.
func Decode(meta chat.Metadata) (Template, []string, error) {
	id, ok := meta[chat.MetaTemplateID]
	if !ok {
		return nil, nil, nil
	}
	c := &checker{}
	id = strings.TrimSpace(id)
	dec := decoders[id]
	if dec == nil {
		return nil, nil, chat.FieldError(chat.MetaTemplateID, "templateId %q is not a supported rich message (3, 6, 7, 8, 9, 10, 11, 12, 13, 14)", truncateRunes(id, 20))
	}
	p := payloadBytes(c, meta[chat.MetaPayload])
	if c.err != nil {
		return nil, c.warns, c.err
	}
	t := dec(c, p, meta)
	if c.err != nil {
		return nil, c.warns, c.err
	}
	return t, c.warns, nil
}

// encode writes a template's canonical metadata keys into m.
func encode(t Template, m chat.Metadata) error {
	b, err := json.Marshal(t.payload())
	if err != nil {
		return fmt.Errorf("richmsg: encoding template %s: %w", t.TemplateID(), err)
	}
	m[chat.MetaTemplateID] = t.TemplateID()
	m[chat.MetaPayload] = string(b)
	m[MetaContentType] = ContentTypeRich
	delete(m, MetaFormData)
	delete(m, MetaFormAction)
	delete(m, MetaRequestType)
	if bt, ok := t.(Buttons); ok {
		if len(bt.FormData) > 0 {
			fd, _ := json.Marshal(bt.FormData)
			m[MetaFormData] = string(fd)
		}
		if bt.FormAction != "" {
			m[MetaFormAction] = bt.FormAction
		}
		if bt.RequestType != "" {
			m[MetaRequestType] = bt.RequestType
		}
	}
	return nil
}
