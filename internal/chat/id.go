package chat

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// Crockford's base32 alphabet: no I, L, O or U, so ids read aloud unambiguously.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a 26-character id: 48 bits of milliseconds then 80 random
// bits. Ids sort by creation time, which makes them stable pagination cursors
// and keeps B-tree inserts at the right edge of the index.
func NewID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("chat: crypto/rand failed: " + err.Error())
	}
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits as 26 five-bit digits, most significant first (the top digit
	// holds the 3 leftover bits).
	for i := 25; i >= 0; i-- {
		out[i] = idAlphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
