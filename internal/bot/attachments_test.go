package bot

import (
	"reflect"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestAttachments(t *testing.T) {
	m := &chat.Message{
		Attachments: []chat.Attachment{
			{UploadID: "u1", Name: "notes.txt", MimeType: "text/plain; charset=utf-8", Size: 12},
			{UploadID: "u2", Name: "blob", Size: 3},
		},
		Location: &chat.Location{Lat: 52.5, Lon: 13.4},
	}
	got, warns := Attachments(m, map[string]string{"u1": "https://sb.example/files/a/u1?sig=x"})
	want := []Attachment{
		{Type: "text/plain", Payload: map[string]any{"name": "notes.txt", "size": int64(12), "url": "https://sb.example/files/a/u1?sig=x"}},
		{Type: "application/octet-stream", Payload: map[string]any{"name": "blob", "size": int64(3)}},
		{Type: "location", Payload: map[string]any{"lat": 52.5, "lon": 13.4}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v\nwant %#v", got, want)
	}
	if len(warns) != 1 || warns[0] != `attachment "blob" had no download URL for the bot` {
		t.Fatalf("warnings = %q", warns)
	}
}
