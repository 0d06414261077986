package upload

import (
	"io"
	"net/http"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// ServeContent writes a stored upload, honouring Range and conditional
// requests. The headers assume the file is hostile even though Sniff let it
// in: the stored type is the only type (nosniff), nothing in the response
// may run script or load anything (a sandbox CSP, which also gives it a
// unique origin so it cannot read the dashboard's cookies or storage), and
// only media a browser shows passively is displayed inline; everything else
// downloads.
func ServeContent(w http.ResponseWriter, r *http.Request, u *chat.Upload, f io.ReadSeeker) {
	ct := u.MimeType
	base, _, _ := strings.Cut(ct, ";")
	if !accepted[base] {
		// A row from before a policy change, or a bug: never let it render.
		ct, base = typeUnknown, typeUnknown
	}
	disposition := "attachment"
	if inline(base) {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Disposition", contentDisposition(disposition, u.Name))
	// The URL is signed and short-lived: shared caches must not keep the
	// file past it, nor serve it to someone without the URL.
	h.Set("Cache-Control", "private")
	// A link inside a served PDF must not leak the signed URL.
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, "", u.CreatedAt, f)
}

func inline(base string) bool {
	return base == typePDF || strings.HasPrefix(base, "image/") ||
		strings.HasPrefix(base, "audio/") || strings.HasPrefix(base, "video/")
}

// contentDisposition follows RFC 6266: a quoted ASCII filename for old
// clients and filename* (RFC 8187, UTF-8 percent-encoded) for the real one.
func contentDisposition(disposition, name string) string {
	name = SanitizeName(name)
	var ascii, enc strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isAttrChar(c) {
			enc.WriteByte(c)
		} else {
			enc.WriteByte('%')
			enc.WriteByte(hex[c>>4])
			enc.WriteByte(hex[c&15])
		}
	}
	return disposition + `; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}

// isAttrChar is RFC 8187's attr-char: what may appear unencoded in filename*.
func isAttrChar(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
