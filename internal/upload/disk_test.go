package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

func newDisk(t *testing.T) (*Disk, string) {
	t.Helper()
	dir := t.TempDir()
	d, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, dir
}

// files lists every regular file under dir, temp files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDiskRoundTrip(t *testing.T) {
	d, dir := newDisk(t)
	ctx := context.Background()
	data := []byte("hello, blob")
	n, err := d.Put(ctx, "app1/01hx/upload", bytes.NewReader(data), int64(len(data)))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %d, %v", n, err)
	}
	f, err := d.Open(ctx, "app1/01hx/upload")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) {
		t.Fatalf("read back %q", got)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "app1/01hx/upload")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := d.Delete(ctx, "app1/01hx/upload"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "app1/01hx/upload"); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("Open after Delete = %v, want not_found", err)
	}
	if err := d.Delete(ctx, "app1/01hx/upload"); err != nil {
		t.Fatalf("second Delete = %v, want nil", err)
	}
	if _, err := d.Open(ctx, "app1/01hx"); !chat.IsCode(err, chat.CodeNotFound) {
		t.Fatalf("Open of a directory = %v, want not_found", err)
	}
}

func TestDiskKeys(t *testing.T) {
	d, _ := newDisk(t)
	ctx := context.Background()
	bad := []string{
		"", "../escape", "a/../../escape", "/etc/passwd", "a//b", "a/", "/", ".", "..",
		"a/./b", ".tmp/x", ".hidden", `a\b`, `..\escape`, "a b", "a\x00b", "ü", "a/-b",
		strings.Repeat("a", 256),
	}
	for _, key := range bad {
		t.Run(key, func(t *testing.T) {
			if _, err := d.Put(ctx, key, strings.NewReader("x"), 10); !chat.IsCode(err, chat.CodeInvalid) {
				t.Errorf("Put(%q) = %v, want invalid", key, err)
			}
			if _, err := d.Open(ctx, key); !chat.IsCode(err, chat.CodeInvalid) {
				t.Errorf("Open(%q) = %v, want invalid", key, err)
			}
			if err := d.Delete(ctx, key); !chat.IsCode(err, chat.CodeInvalid) {
				t.Errorf("Delete(%q) = %v, want invalid", key, err)
			}
		})
	}
	for _, key := range []string{"a", "A1.b_c-d", "app/01hx/f.png", strings.Repeat("a", 255)} {
		if _, err := d.Put(ctx, key, strings.NewReader("x"), 10); err != nil {
			t.Errorf("Put(%q) = %v", key, err)
		}
	}
}

func TestDiskSymlinkEscape(t *testing.T) {
	d, dir := newDisk(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if f, err := d.Open(context.Background(), "link/secret"); err == nil {
		f.Close()
		t.Fatal("Open followed a symlink out of the root")
	}
	if _, err := d.Put(context.Background(), "link/planted", strings.NewReader("x"), 10); err == nil {
		t.Fatal("Put wrote through a symlink out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Fatal("file written outside the root")
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDiskPutFailuresLeaveNothing(t *testing.T) {
	boom := errors.New("connection reset")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name     string
		ctx      context.Context
		r        io.Reader
		max      int64
		wantCode chat.Code
		wantErr  error
	}{
		{"one byte over", context.Background(), strings.NewReader("12345678901"), 10, chat.CodeTooLarge, nil},
		{"far over", context.Background(), io.LimitReader(zeros{}, 10<<20), 1 << 20, chat.CodeTooLarge, nil},
		{"reader fails midway", context.Background(), &failingReader{data: []byte("partial"), err: boom}, 100, "", boom},
		{"cancelled", cancelled, strings.NewReader("data"), 100, "", context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, dir := newDisk(t)
			// A previous version under the same key must survive.
			if _, err := d.Put(context.Background(), "k/v", strings.NewReader("old"), 10); err != nil {
				t.Fatal(err)
			}
			_, err := d.Put(c.ctx, "k/v", c.r, c.max)
			if c.wantCode != "" && !chat.IsCode(err, c.wantCode) {
				t.Fatalf("Put = %v, want %s", err, c.wantCode)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Fatalf("Put = %v, want %v", err, c.wantErr)
			}
			if got := files(t, dir); len(got) != 1 || got[0] != "k/v" {
				t.Fatalf("files after failed Put: %v", got)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "k/v")); string(b) != "old" {
				t.Fatalf("previous content replaced by %q", b)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestDiskExactLimit(t *testing.T) {
	d, _ := newDisk(t)
	n, err := d.Put(context.Background(), "k", strings.NewReader("1234567890"), 10)
	if err != nil || n != 10 {
		t.Fatalf("Put at the limit = %d, %v", n, err)
	}
	if _, err := d.Put(context.Background(), "k", strings.NewReader(""), 0); err == nil {
		t.Fatal("maxBytes 0 accepted")
	}
}

func TestDiskSweepsStaleTemps(t *testing.T) {
	dir := t.TempDir()
	d, err := NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	stale, fresh := filepath.Join(dir, tmpDir, "stale"), filepath.Join(dir, tmpDir, "fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	d, err = NewDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temp file survived a restart")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a recent temp file (maybe in use) was removed")
	}
}

func TestDiskConcurrentPuts(t *testing.T) {
	d, dir := newDisk(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			key := "app/" + string(rune('a'+i))
			if _, err := d.Put(context.Background(), key, strings.NewReader(key), 100); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := files(t, dir); len(got) != 16 {
		t.Fatalf("got %d files: %v", len(got), got)
	}
}
