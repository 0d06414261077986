package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/upload/s3test"
)

// testStorage checks the contract every Storage keeps. has reports whether
// the backend itself (not through st) holds key.
func testStorage(t *testing.T, st Storage, has func(key string) bool) {
	ctx := context.Background()
	data := []byte("0123456789abcdefghij")
	const key = "app1/01hx"

	t.Run("put and read whole", func(t *testing.T) {
		n, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put = %d, %v", n, err)
		}
		f, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, err := io.ReadAll(f); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %q, %v", got, err)
		}
	})

	t.Run("seek and read", func(t *testing.T) {
		f, err := st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Fatalf("Seek(end) = %d, %v", end, err)
		}
		for _, off := range []int64{15, 3, 0} {
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(f, buf); err != nil || !bytes.Equal(buf, data[off:off+4]) {
				t.Fatalf("at %d read %q, %v", off, buf, err)
			}
		}
	})

	t.Run("served with ranges", func(t *testing.T) {
		u := &chat.Upload{Name: "a.bin", MimeType: "application/zip", CreatedAt: time.Unix(1_700_000_000, 0)}
		for _, c := range []struct {
			rng, want string
			status    int
		}{
			{"", string(data), http.StatusOK},
			{"bytes=5-9", "56789", http.StatusPartialContent},
			{"bytes=-3", "hij", http.StatusPartialContent},
			{"bytes=18-", "ij", http.StatusPartialContent},
			{"bytes=0-1,10-11", "", http.StatusPartialContent}, // multipart: checked below
			{"bytes=40-50", "", http.StatusRequestedRangeNotSatisfiable},
		} {
			f, err := st.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/f", nil)
			if c.rng != "" {
				r.Header.Set("Range", c.rng)
			}
			w := httptest.NewRecorder()
			ServeContent(w, r, u, f)
			f.Close()
			if w.Code != c.status {
				t.Fatalf("Range %q: status %d", c.rng, w.Code)
			}
			body := w.Body.String()
			if strings.Contains(c.rng, ",") {
				if !strings.Contains(body, "\r\n\r\n01\r\n") || !strings.Contains(body, "\r\n\r\nab\r\n") {
					t.Fatalf("multipart body %q", body)
				}
			} else if c.want != "" && body != c.want {
				t.Fatalf("Range %q: body %q, want %q", c.rng, body, c.want)
			}
		}
	})

	t.Run("missing key", func(t *testing.T) {
		if _, err := st.Open(ctx, "app1/missing"); !chat.IsCode(err, chat.CodeNotFound) {
			t.Fatalf("Open = %v, want not_found", err)
		}
	})

	t.Run("too large leaves nothing", func(t *testing.T) {
		_, err := st.Put(ctx, "app1/big", strings.NewReader("12345678901"), 10)
		if !chat.IsCode(err, chat.CodeTooLarge) {
			t.Fatalf("Put = %v, want too_large", err)
		}
		if has("app1/big") {
			t.Fatal("an oversized upload was stored")
		}
		if n, err := st.Put(ctx, "app1/exact", strings.NewReader("1234567890"), 10); err != nil || n != 10 {
			t.Fatalf("Put at the limit = %d, %v", n, err)
		}
	})

	t.Run("failing reader leaves nothing", func(t *testing.T) {
		boom := errors.New("connection reset")
		_, err := st.Put(ctx, "app1/broken", &failingReader{data: []byte("partial"), err: boom}, 100)
		if !errors.Is(err, boom) {
			t.Fatalf("Put = %v, want %v", err, boom)
		}
		if has("app1/broken") {
			t.Fatal("a half-read upload was stored")
		}
	})

	t.Run("hostile keys", func(t *testing.T) {
		for _, k := range []string{"", "../x", "/abs", "a//b", ".tmp/x", "a\\b", strings.Repeat("a", 256)} {
			if _, err := st.Put(ctx, k, strings.NewReader("x"), 10); !chat.IsCode(err, chat.CodeInvalid) {
				t.Errorf("Put(%q) = %v, want invalid", k, err)
			}
			if _, err := st.Open(ctx, k); !chat.IsCode(err, chat.CodeInvalid) {
				t.Errorf("Open(%q) = %v, want invalid", k, err)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		if err := st.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if has(key) {
			t.Fatal("still stored after Delete")
		}
		if _, err := st.Open(ctx, key); !chat.IsCode(err, chat.CodeNotFound) {
			t.Fatalf("Open after Delete = %v, want not_found", err)
		}
		if err := st.Delete(ctx, key); err != nil {
			t.Fatalf("second Delete = %v, want nil", err)
		}
	})
}

func TestDiskStorage(t *testing.T) {
	d, dir := newDisk(t)
	testStorage(t, d, func(key string) bool {
		_, err := os.Stat(dir + "/" + key)
		return err == nil
	})
}

func newS3(t *testing.T, srv *s3test.Server, secret string) (*S3, error) {
	return NewS3(context.Background(), S3Options{
		Bucket:      srv.Bucket,
		Endpoint:    srv.URL,
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKeyID, secret, ""),
		SpoolDir:    t.TempDir(),
	})
}

func TestS3Storage(t *testing.T) {
	srv := s3test.Start(t)
	st, err := newS3(t, srv, s3test.SecretAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	testStorage(t, st, func(key string) bool { return srv.Has(t, key) })
	if left, _ := os.ReadDir(st.spool); len(left) != 0 {
		t.Fatalf("spool files left behind: %v", left)
	}
}

func TestS3StartChecksBucket(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	if _, err := NewS3(ctx, S3Options{Endpoint: srv.URL}); err == nil {
		t.Fatal("empty bucket name accepted")
	}
	if _, err := NewS3(ctx, S3Options{
		Bucket: "no-such-bucket", Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKeyID, s3test.SecretAccessKey, ""),
	}); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("missing bucket: %v", err)
	}
	if _, err := NewS3(ctx, S3Options{
		Bucket: srv.Bucket, Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("SOMEONEELSE", "x", ""),
	}); err == nil {
		t.Fatal("refused credentials accepted at start")
	}
}
