package httpapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/httpx"
	"github.com/switchboard-chat/switchboard/internal/upload"
)

// multipartOverhead is what the request body may hold beyond the file
// itself: boundaries, part headers and small form fields.
const multipartOverhead = 64 << 10

// createUpload streams the form's "file" part into the service, which
// sniffs its first bytes and writes the rest to blob storage. The file is
// never held in memory whole, and the request body as a whole is bounded,
// so neither a huge file nor a huge number of other parts gets through.
func (s *server) createUpload(w http.ResponseWriter, r *http.Request) error {
	limit := s.uploadMax + multipartOverhead
	if r.ContentLength > limit {
		return s.errTooLarge()
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return chat.Errorf(chat.CodeUnsupported, `the body must be multipart/form-data with the file in a part named "file"`)
	}
	body := &readErrors{r: http.MaxBytesReader(w, r.Body, limit)}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return chat.FieldError("file", `the form has no part named "file"`)
		}
		if err != nil {
			return s.uploadReadError(body, chat.Errorf(chat.CodeInvalid, "malformed multipart body"))
		}
		if part.FormName() != "file" {
			// Other fields are allowed (browsers add some) but unused;
			// the body limit bounds what skipping them can cost.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return s.uploadReadError(body, chat.Errorf(chat.CodeInvalid, "malformed multipart body"))
			}
			continue
		}
		file := &readErrors{r: part}
		u, err := s.svc.CreateUpload(r.Context(), actorOf(r), part.FileName(), part.Header.Get("Content-Type"), file)
		if err != nil {
			if file.err != nil {
				// The stream broke (limit, truncated body): that, not
				// whatever the storage layer made of it, is the answer.
				return s.uploadReadError(body, chat.Errorf(chat.CodeInvalid, "the upload ended before the file was complete"))
			}
			return err
		}
		httpx.WriteJSON(w, http.StatusCreated, uploadJSON{
			ID: u.ID, URL: s.fileURL(u.AppID, u.ID), Name: u.Name, Size: u.Size, MimeType: u.MimeType,
		})
		return nil
	}
}

// uploadReadError explains a failed read of the body: 413 when it was the
// size limit, otherwise fallback.
func (s *server) uploadReadError(body *readErrors, fallback error) error {
	var tooBig *http.MaxBytesError
	if errors.As(body.err, &tooBig) {
		return s.errTooLarge()
	}
	return fallback
}

func (s *server) errTooLarge() error {
	return chat.Errorf(chat.CodeTooLarge, "the file is larger than the limit of %d bytes", s.uploadMax).
		WithDetail("maxBytes", s.uploadMax)
}

// readErrors remembers the first error other than io.EOF that its reader
// returned, so that the handler can tell a client fault (over the limit,
// cut short) from a server one after the service has wrapped it.
type readErrors struct {
	r   io.Reader
	err error
}

func (e *readErrors) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// serveFile serves a signed file link. There is no other authorisation: the
// signature binds the app, the upload and the expiry.
func (s *server) serveFile(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	u, f, err := s.svc.OpenFile(r.Context(), r.PathValue("appId"), r.PathValue("uploadId"), q.Get("expires"), q.Get("sig"))
	if err != nil {
		return err
	}
	defer f.Close()
	upload.ServeContent(w, r, u, f)
	return nil
}
