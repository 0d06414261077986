package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeyLen is the length of a generated secret key, and the minimum for a
// configured one.
const MasterKeyLen = 32

var errKeyFormat = fmt.Errorf("must be at least %d random bytes, base64 or hex encoded (for example the output of: openssl rand -base64 %d)", MasterKeyLen, MasterKeyLen)

// ParseKey decodes the configured SWITCHBOARD_SECRET_KEY. The error names the
// setting but never repeats its value, because it goes to logs.
func ParseKey(s string) ([]byte, error) {
	k, err := decodeKey(s)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEY %w", err)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	// Hex first: a 64-digit hex string is also valid base64, but someone who
	// wrote hex means hex.
	if k, err := hex.DecodeString(s); err == nil {
		if len(k) >= MasterKeyLen {
			return k, nil
		}
		return nil, errKeyFormat
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) >= MasterKeyLen {
				return k, nil
			}
			return nil, errKeyFormat
		}
	}
	return nil, errKeyFormat
}

// LoadOrCreateKey reads the secret key kept at path, creating it on first
// start. The file holds the key in base64, so that an operator moving to
// several nodes can copy it into SWITCHBOARD_SECRET_KEY unchanged: every node
// must share it to read each other's encrypted secrets and signed URLs.
//
// Losing the file makes stored bot credentials unreadable and invalidates
// signed URLs; it should be backed up with the database.
func LoadOrCreateKey(path string) ([]byte, error) {
	if k, err := readKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: creating key directory: %w", err)
	}
	key := make([]byte, MasterKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: generating secret key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".secret-key-*")
	if err != nil {
		return nil, fmt.Errorf("auth: creating key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the link below, only the extra name goes
	// CreateTemp already uses 0600; Chmod makes that independent of it.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("auth: creating key file: %w", err)
	}
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("auth: writing key file: %w", err)
	}
	// Link, unlike rename, refuses to replace an existing file. Two
	// processes starting on a fresh data directory at once therefore agree
	// on one key: the loser reads the winner's file instead of overwriting
	// it after the winner has already encrypted something with its key.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("auth: installing key file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Make the new directory entry durable before anything is
		// encrypted with the key; best effort where directories cannot be
		// synced.
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading key file: %w", err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s %w", path, err)
	}
	return k, nil
}
