package upload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func TestServeContent(t *testing.T) {
	body := "0123456789"
	cases := []struct {
		name, mime, file  string
		wantType, wantDis string
	}{
		{"image inline", "image/png", "photo.png", "image/png", `inline; filename="photo.png"; filename*=UTF-8''photo.png`},
		{"pdf inline", "application/pdf", "a.pdf", "application/pdf", "inline;"},
		{"audio inline", "audio/ogg", "v.ogg", "audio/ogg", "inline;"},
		{"zip downloads", "application/zip", "a.zip", "application/zip", "attachment;"},
		{"text downloads", "text/plain; charset=utf-8", "a.txt", "text/plain; charset=utf-8", "attachment;"},
		{"unexpected stored type", "text/html", "page.html", "application/octet-stream", "attachment;"},
		{"unicode name", "application/pdf", `résumé "final" 100%.pdf`, "application/pdf",
			`inline; filename="r_sum_ _final_ 100_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20_final_%20100%25.pdf`},
		{"header injection", "image/png", "a\r\nSet-Cookie: x=1.png", "image/png", `filename="aSet-Cookie_ x=1.png"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := &chat.Upload{Name: c.file, MimeType: c.mime, Size: int64(len(body)), CreatedAt: time.Unix(1_700_000_000, 0)}
			w := httptest.NewRecorder()
			ServeContent(w, httptest.NewRequest(http.MethodGet, "/f", nil), u, strings.NewReader(body))
			h := w.Result().Header
			if w.Code != http.StatusOK || w.Body.String() != body {
				t.Fatalf("status %d body %q", w.Code, w.Body.String())
			}
			want := map[string]string{
				"Content-Type":            c.wantType,
				"X-Content-Type-Options":  "nosniff",
				"Content-Security-Policy": "sandbox; default-src 'none'",
				"Cache-Control":           "private",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if d := h.Get("Content-Disposition"); !strings.Contains(d, c.wantDis) {
				t.Errorf("Content-Disposition = %q, want it to contain %q", d, c.wantDis)
			}
			if strings.ContainsAny(h.Get("Content-Disposition"), "\r\n") {
				t.Error("control characters in Content-Disposition")
			}
		})
	}
}

func TestServeContentRange(t *testing.T) {
	u := &chat.Upload{Name: "clip.mp4", MimeType: "video/mp4", CreatedAt: time.Unix(1_700_000_000, 0)}
	r := httptest.NewRequest(http.MethodGet, "/f", nil)
	r.Header.Set("Range", "bytes=2-4")
	w := httptest.NewRecorder()
	ServeContent(w, r, u, strings.NewReader("0123456789"))
	if w.Code != http.StatusPartialContent || w.Body.String() != "234" {
		t.Fatalf("range: status %d body %q", w.Code, w.Body.String())
	}
}
