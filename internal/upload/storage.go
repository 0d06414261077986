package upload

import (
	"context"
	"fmt"
	"io"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Storage keeps uploaded files' bytes under keys. Disk and S3 implement it;
// a node uses one, chosen by configuration.
type Storage interface {
	// Put stores r under key, refusing a stream longer than maxBytes with
	// CodeTooLarge. Nothing is left under key when it fails.
	Put(ctx context.Context, key string, r io.Reader, maxBytes int64) (int64, error)
	// Open returns the stored bytes, seekable so that Range requests are
	// served; a missing key is CodeNotFound.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	Close() error
}

var (
	_ Storage = (*Disk)(nil)
	_ Storage = (*S3)(nil)
)

// copyLimited copies r to w, at most maxBytes of it, stopping when ctx ends.
// A longer stream is CodeTooLarge; what was written by then is the caller's
// to discard.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, maxBytes int64) (int64, error) {
	if maxBytes <= 0 {
		return 0, fmt.Errorf("upload: maxBytes must be positive, got %d", maxBytes)
	}
	// One byte more than allowed tells "exactly at the limit" from "over".
	n, err := io.Copy(w, io.LimitReader(ctxReader{ctx, r}, maxBytes+1))
	if err != nil {
		return 0, err
	}
	if n > maxBytes {
		return 0, chat.Errorf(chat.CodeTooLarge, "the file is larger than the limit of %d bytes", maxBytes).
			WithDetail("maxBytes", maxBytes)
	}
	return n, nil
}

// ctxReader stops a copy when the request is cancelled, so a client that
// hangs up mid-upload does not keep a goroutine writing.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
