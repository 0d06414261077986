// Package upload accepts files from clients and keeps them: it decides what a
// file really is from its bytes, refuses what could run or render as active
// content, stores the bytes durably (on local disk or in an S3-compatible
// bucket) and serves them back with headers that keep a browser from treating them as part of the application.
package upload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// tmpDir holds files being written. It lives inside the root so that the
// final rename never crosses a filesystem, and its leading dot puts it
// outside the key space (keys cannot start with a dot).
const tmpDir = ".tmp"

// Disk is blob storage in a local directory. All access goes through an
// os.Root, so even a key that slipped past validation, or a symlink planted
// in the directory, cannot reach a file outside it.
type Disk struct {
	root *os.Root
}

// NewDisk opens (creating if needed) blob storage under dir, and removes
// temporary files left by a crash.
func NewDisk(dir string) (*Disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upload: creating %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("upload: opening %s: %w", dir, err)
	}
	if err := root.MkdirAll(tmpDir, 0o700); err != nil {
		root.Close()
		return nil, fmt.Errorf("upload: creating temp dir: %w", err)
	}
	d := &Disk{root: root}
	d.sweep(time.Now().Add(-time.Hour))
	return d, nil
}

// sweep removes temp files older than cutoff. Younger ones may belong to a
// Put still running in another process sharing the directory.
func (d *Disk) sweep(cutoff time.Time) {
	entries, err := fs.ReadDir(d.root.FS(), tmpDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = d.root.Remove(tmpDir + "/" + e.Name())
		}
	}
}

// Close releases the directory handle.
func (d *Disk) Close() error { return d.root.Close() }

const maxKeyLen = 255

// checkKey admits slash-separated segments of letters, digits, '.', '_' and
// '-', each starting with a letter or digit. That rules out "..", absolute
// paths, backslashes, empty segments and the temp directory by construction
// rather than by spotting bad patterns.
func checkKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return errKey()
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || !isAlnum(seg[0]) {
			return errKey()
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return errKey()
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func errKey() error { return chat.Errorf(chat.CodeInvalid, "invalid storage key") }

// Put stores r under key. It returns only once the bytes and their directory
// entry are on disk, so an acknowledged upload survives a crash; until then
// the data lives under a temporary name, so a failed or oversized Put leaves
// nothing under key (and replaces nothing already there). A stream longer
// than maxBytes is refused with CodeTooLarge.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, maxBytes int64) (size int64, err error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	tmp := tmpDir + "/" + hex.EncodeToString(rnd[:])
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("upload: creating temp file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			_ = d.root.Remove(tmp)
		}
	}()

	n, err := copyLimited(ctx, f, r, maxBytes)
	if err != nil {
		if chat.IsCode(err, chat.CodeTooLarge) {
			return 0, err
		}
		return 0, fmt.Errorf("upload: writing %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("upload: syncing %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("upload: closing %s: %w", key, err)
	}
	dir := path.Dir(key)
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o700); err != nil {
			return 0, fmt.Errorf("upload: creating directory for %s: %w", key, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := d.root.Rename(tmp, key); err != nil {
		return 0, fmt.Errorf("upload: storing %s: %w", key, err)
	}
	committed = true
	// The rename is durable only once its directory is synced.
	if err := d.syncDir(dir); err != nil {
		return 0, fmt.Errorf("upload: syncing directory of %s: %w", key, err)
	}
	return n, nil
}

func (d *Disk) syncDir(dir string) error {
	f, err := d.root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Open returns the stored file for reading; a missing key is CodeNotFound.
// The *os.File serves Range requests through http.ServeContent.
func (d *Disk) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := d.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chat.NotFound("file")
	}
	if err != nil {
		return nil, fmt.Errorf("upload: opening %s: %w", key, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, chat.NotFound("file")
	}
	return f, nil
}

// Delete removes a stored file. Deleting a missing key succeeds, so a retried
// cleanup does not fail.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("upload: deleting %s: %w", key, err)
	}
	return nil
}
