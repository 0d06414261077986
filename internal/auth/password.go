package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are written into every hash, so
// raising them later only affects new hashes and old ones keep verifying.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
}

// DefaultParams is OWASP's argon2id recommendation (m=19 MiB, t=2, p=1):
// roughly 20-50 ms per sign-in on a small server, which is slow enough to
// make offline guessing expensive without letting a burst of sign-ins exhaust
// memory.
var DefaultParams = Params{Memory: 19456, Time: 2, Threads: 1}

// TestParams is for tests in other packages that create agents. With
// DefaultParams every created or signed-in agent costs tens of milliseconds
// and 19 MiB, which under -race makes store and end-to-end suites slow; the
// hashes they produce still go through exactly the same code paths. Never use
// it in a running server.
var TestParams = Params{Memory: 64, Time: 1, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	// Bounds on parameters read back from a stored hash. A corrupted or
	// planted row must not make a sign-in attempt allocate gigabytes or spin
	// for minutes, so anything far beyond what HashPassword would ever be
	// configured with is rejected instead of computed.
	maxMemory  = 256 << 10 // KiB, 256 MiB: 13x the default
	maxTime    = 32
	maxCost    = 4 * maxMemory // memory x passes: about a second of CPU
	maxThreads = 64
	minSalt    = 8
	maxSalt    = 64
	minKey     = 16
	maxKey     = 64
)

var errMalformedHash = errors.New("auth: malformed password hash")

func (p Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > maxThreads:
		return fmt.Errorf("auth: argon2 threads %d out of range 1..%d", p.Threads, maxThreads)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("auth: argon2 time %d out of range 1..%d", p.Time, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2 itself needs at least 8 KiB per lane.
		return fmt.Errorf("auth: argon2 memory %d KiB out of range %d..%d", p.Memory, 8*uint32(p.Threads), maxMemory)
	case uint64(p.Memory)*uint64(p.Time) > maxCost:
		return fmt.Errorf("auth: argon2 cost m=%d,t=%d too high", p.Memory, p.Time)
	}
	return nil
}

// HashPassword returns pw hashed with argon2id and a fresh random salt, in the
// PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash) that other
// argon2 implementations can read, so hashes survive a change of language or
// library.
func HashPassword(p Params, pw string) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches encoded. A wrong password is
// (false, nil); an error means the stored hash itself is unusable, which is a
// server-side problem to log, not something to tell the client.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseHash is strict: exactly one textual form per hash is accepted, which
// keeps the fuzzer's round-trip property simple and leaves no odd corners.
func parseHash(encoded string) (p Params, salt, key []byte, err error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errMalformedHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version", errMalformedHash)
	}
	var m, t, threads uint64
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, errMalformedHash
	}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(fields[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return p, nil, nil, errMalformedHash
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, errMalformedHash
		}
		switch i {
		case 0:
			m = n
		case 1:
			t = n
		case 2:
			threads = n
		}
	}
	if threads > maxThreads {
		return p, nil, nil, fmt.Errorf("%w: argon2 threads %d out of range", errMalformedHash, threads)
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads)}
	if err := p.validate(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", errMalformedHash, err)
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err = b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSalt || len(salt) > maxSalt {
		return p, nil, nil, fmt.Errorf("%w: bad salt", errMalformedHash)
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < minKey || len(key) > maxKey {
		return p, nil, nil, fmt.Errorf("%w: bad hash", errMalformedHash)
	}
	return p, salt, key, nil
}
