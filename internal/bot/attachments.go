package bot

import (
	"mime"
	"strconv"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Attachment is how a contact's file or location reaches a bot, in the
// shape Kommunicate's bots already parse (SPEC §4.2): a file, with Type its
// media type and a payload of name, url and size, or a location, with Type
// "location" and a payload of lat and lon.
type Attachment struct {
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// Attachments lists m's files and location for a bot. urls maps upload ids
// to the signed URLs the bot's code can fetch; a file without one is still
// listed, and a warning tells the bot's owner why it has no url.
func Attachments(m *chat.Message, urls map[string]string) ([]Attachment, []string) {
	var out []Attachment
	var warnings []string
	for _, a := range m.Attachments {
		p := map[string]any{"name": a.Name, "size": a.Size}
		if u := urls[a.UploadID]; u != "" {
			p["url"] = u
		} else {
			warnings = append(warnings, "attachment "+strconv.Quote(a.Name)+" had no download URL for the bot")
		}
		// The bare media type: bots match "text/plain", not the charset
		// parameter the upload's sniffing adds.
		typ, _, err := mime.ParseMediaType(a.MimeType)
		if err != nil || typ == "" {
			typ = "application/octet-stream"
		}
		out = append(out, Attachment{Type: typ, Payload: p})
	}
	if l := m.Location; l != nil {
		out = append(out, Attachment{Type: "location", Payload: map[string]any{"lat": l.Lat, "lon": l.Lon}})
	}
	return out, warnings
}
