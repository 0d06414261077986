package chat

import "unicode/utf8"

// NewMessage is what a sender asks to append. The store assigns id, seq and time.
type NewMessage struct {
	Sender      Sender
	Text        string
	ContentType ContentType
	Metadata    Metadata
	Attachments []Attachment
	Location    *Location
	ClientKey   string
}

// Normalize fills the content type from the message's shape when the sender
// left it as text, then checks that the message is well formed and complete.
func (m *NewMessage) Normalize() error {
	if !m.Sender.Type.Valid() {
		return FieldError("sender.type", "sender type must be contact, agent, bot or system")
	}
	if m.Sender.Type != SenderSystem {
		if err := ValidateID("sender.id", m.Sender.ID); err != nil {
			return err
		}
	}
	if m.ContentType == ContentText {
		switch {
		case m.Location != nil:
			m.ContentType = ContentLocation
		case len(m.Attachments) > 0:
			m.ContentType = ContentAttachment
		}
	}
	if !m.ContentType.Valid() {
		return FieldError("contentType", "unknown content type %d", int(m.ContentType))
	}
	if len(m.Text) > MaxTextLen {
		return FieldError("text", "text must be at most %d bytes", MaxTextLen)
	}
	if !utf8.ValidString(m.Text) {
		return FieldError("text", "text is not valid UTF-8")
	}
	if err := m.Metadata.Validate("metadata"); err != nil {
		return err
	}
	if err := ValidateClientKey(m.ClientKey); err != nil {
		return err
	}
	if len(m.Attachments) > MaxAttachments {
		return FieldError("attachments", "a message may carry at most %d attachments", MaxAttachments)
	}
	for _, a := range m.Attachments {
		if err := ValidateID("attachments.uploadId", a.UploadID); err != nil {
			return err
		}
	}
	if err := ValidateLocation(m.Location); err != nil {
		return err
	}
	switch m.ContentType {
	case ContentLocation:
		if m.Location == nil {
			return FieldError("location", "a location message needs a location")
		}
	case ContentAttachment:
		if len(m.Attachments) == 0 {
			return FieldError("attachments", "an attachment message needs attachments")
		}
	case ContentSystem:
		if m.Sender.Type != SenderSystem {
			return FieldError("contentType", "only the system sends system notices")
		}
	}
	if m.ContentType != ContentLocation && m.Location != nil {
		return FieldError("location", "only a location message (contentType 2) carries a location")
	}
	if m.Text == "" && len(m.Attachments) == 0 && m.Location == nil && m.Metadata[MetaTemplateID] == "" {
		return FieldError("text", "a message needs text, attachments, a location or a rich template")
	}
	return nil
}
