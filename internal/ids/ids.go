// Package ids is overcast's one source of identifiers: UUIDs (request IDs,
// secret versions, event IDs), random strings (access keys, unique IDs,
// ARN suffixes) and AWS-style resource IDs (i-0abc..., sg-0123...). Services
// take a *Source from their environment; tests seed one to get the same
// IDs on every run.
package ids

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"sync"
)

// Source draws identifiers from a stream of random bytes. It is safe for
// concurrent use.
type Source struct {
	mu sync.Mutex
	r  io.Reader
}

// Random returns a source reading crypto/rand: what overcast runs with.
func Random() *Source { return &Source{r: crand.Reader} }

// Seeded returns a deterministic source: the same seed gives the same IDs
// in the same order. For tests only; its output is predictable.
func Seeded(seed uint64) *Source {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return &Source{r: rand.NewChaCha8(s)}
}

var fallback = Random()

// read fills b; a nil Source reads crypto/rand, so that a zero value in a
// test fixture still works.
func (s *Source) read(b []byte) {
	if s == nil {
		s = fallback
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.ReadFull(s.r, b); err != nil {
		panic("ids: reading random bytes: " + err.Error()) // crypto/rand does not fail on Linux
	}
}

// UUID returns a random (version 4) UUID.
func (s *Source) UUID() string {
	var u [16]byte
	s.read(u[:])
	return FormatUUID(u)
}

// FormatUUID is u as a version 4 UUID, its version and variant bits set:
// for IDs derived from other unique values, which need no randomness of
// their own (CloudTrail's event IDs).
func FormatUUID(u [16]byte) string {
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// String returns n characters of alphabet without modulo bias (bytes above
// the largest multiple of the alphabet's length are thrown away).
func (s *Source) String(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+1)
	for len(out) < n {
		s.read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// Hex returns n lowercase hexadecimal digits.
func (s *Source) Hex(n int) string {
	b := make([]byte, (n+1)/2)
	s.read(b)
	return hex.EncodeToString(b)[:n]
}

// Resource returns an AWS-style resource ID, prefix-hhhhhhhhhhhhhhhhh with
// AWS's 17 hex digits (i-0123456789abcdef0, sg-..., subnet-...).
func (s *Source) Resource(prefix string) string { return prefix + "-" + s.Hex(17) }

// Bytes returns n random bytes.
func (s *Source) Bytes(n int) []byte {
	b := make([]byte, n)
	s.read(b)
	return b
}

// Alphabets AWS's identifiers are drawn from.
const (
	UpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	Alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
