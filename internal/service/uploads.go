package service

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/upload"
)

// sniffLen is how much of a file is read to decide its real type.
const sniffLen = upload.SniffLen

// FileURLTTL is how long a signed file URL stays valid. Long enough for a
// bot's Lambda to fetch the file after a slow turn; short enough that a
// leaked link soon stops working.
const FileURLTTL = 24 * time.Hour

// CreateUpload stores a file for the actor's app, after checking that its
// content is of an accepted type and agrees with its name and declared type.
func (s *Service) CreateUpload(ctx context.Context, actor Actor, name, declaredType string, r io.Reader) (*chat.Upload, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, chat.Errorf(chat.CodeInvalid, "the upload could not be read")
	}
	if len(head) == 0 {
		return nil, chat.FieldError("file", "the file is empty")
	}
	mime, err := upload.Sniff(name, declaredType, head)
	if err != nil {
		return nil, err
	}
	u := &chat.Upload{ID: chat.NewID(), AppID: actor.AppID, Name: upload.SanitizeName(name), MimeType: mime}
	u.Key = actor.AppID + "/" + u.ID
	size, err := s.blobs.Put(ctx, u.Key, br, s.uploadMaxBytes)
	if err != nil {
		return nil, err
	}
	u.Size = size
	if err := s.store.CreateUpload(ctx, u); err != nil {
		// The row is the record of the file; without it the bytes are orphaned.
		if derr := s.blobs.Delete(context.WithoutCancel(ctx), u.Key); derr != nil {
			s.log.WarnContext(ctx, "orphaned upload left on disk", "key", u.Key, "err", derr)
		}
		return nil, err
	}
	return u, nil
}

// FilePath is the unsigned path a file is served at.
func FilePath(appID, uploadID string) string {
	return "/files/" + url.PathEscape(appID) + "/" + url.PathEscape(uploadID)
}

// FileURL returns a signed, expiring URL for an upload, relative to the
// server's public URL.
func (s *Service) FileURL(appID, uploadID string) string {
	return s.keys.SignURL(FilePath(appID, uploadID), s.now().Add(FileURLTTL))
}

// OpenFile checks a signed file URL and opens the file. The signature is the
// authorisation: whoever holds an unexpired link may read that one file.
func (s *Service) OpenFile(ctx context.Context, appID, uploadID, expires, sig string) (*chat.Upload, io.ReadSeekCloser, error) {
	if chat.ValidateID("appId", appID) != nil || chat.ValidateID("uploadId", uploadID) != nil {
		return nil, nil, chat.NotFound("file")
	}
	if err := s.keys.VerifyURL(FilePath(appID, uploadID), expires, sig, s.now()); err != nil {
		return nil, nil, err
	}
	u, err := s.store.GetUpload(ctx, appID, uploadID)
	if err != nil {
		return nil, nil, err
	}
	f, err := s.blobs.Open(ctx, u.Key)
	if err != nil {
		return nil, nil, err
	}
	return u, f, nil
}
