package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// DeriveSigningKey returns the SigV4 signing key for secret on date's UTC day
// in region and service:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, yyyymmdd), region), service), "aws4_request").
//
// Results are memoized (see signingKeys), so callers on the hot path pay four
// HMACs only once per credential, day, region and service.
func DeriveSigningKey(secret string, date time.Time, region, service string) []byte {
	k := signingKeys.get(secret, date, region, service)
	return append([]byte(nil), k[:]...)
}

func deriveSigningKey(secret string, day int32, region, service string) [32]byte {
	var date [8]byte
	putDay(date[:0], day)
	m := hmac.New(sha256.New, []byte("AWS4"+secret))
	m.Write(date[:])
	k := m.Sum(nil)
	for _, s := range [...]string{region, service, "aws4_request"} {
		m = hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(k[:0])
	}
	return [32]byte(k)
}

// dayOf packs t's UTC calendar day as yyyymmdd, the credential scope's date.
func dayOf(t time.Time) int32 {
	y, m, d := t.UTC().Date()
	return int32(y*10000 + int(m)*100 + d)
}

// putDay appends day (yyyymmdd) as 8 digits.
func putDay(b []byte, day int32) []byte {
	var d [8]byte
	for i := 7; i >= 0; i-- {
		d[i] = byte('0' + day%10)
		day /= 10
	}
	return append(b, d[:]...)
}

// signingKeys memoizes deriveSigningKey. It is package state only because
// DeriveSigningKey is a plain function: the cache holds results of a pure
// function, is bounded, and no caller can observe it except through speed.
var signingKeys = newKeyCache(1024)

type keyCacheKey struct {
	secret, region, service string
	day                     int32
}

// keyCache is a bounded, concurrency-safe map of derived signing keys. When it
// is full an arbitrary entry is dropped: the working set (a handful of
// credentials in a few regions) is far below the bound, so any eviction
// policy is as good as LRU here and this one needs no bookkeeping.
type keyCache struct {
	mu   sync.RWMutex
	max  int
	keys map[keyCacheKey][32]byte
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, keys: make(map[keyCacheKey][32]byte)}
}

func (c *keyCache) get(secret string, date time.Time, region, service string) [32]byte {
	ck := keyCacheKey{secret: secret, region: region, service: service, day: dayOf(date)}
	c.mu.RLock()
	k, ok := c.keys[ck]
	c.mu.RUnlock()
	if ok {
		return k
	}
	k = deriveSigningKey(secret, ck.day, region, service)
	// Clone so the cache does not pin the request's Authorization header (the
	// region and service are substrings of it).
	ck.secret, ck.region, ck.service = strings.Clone(secret), strings.Clone(region), strings.Clone(service)
	c.mu.Lock()
	if len(c.keys) >= c.max {
		for old := range c.keys {
			delete(c.keys, old)
			break
		}
	}
	c.keys[ck] = k
	c.mu.Unlock()
	return k
}

// hmacSHA256 computes HMAC-SHA256 with a 32-byte key (always a derived signing
// key here) without the allocations of crypto/hmac: scratch holds the inner
// block and is returned for reuse.
func hmacSHA256(key *[32]byte, msg []byte, scratch []byte) (sum [32]byte, _ []byte) {
	const blockSize = 64
	scratch = scratch[:0]
	for i := 0; i < blockSize; i++ {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		scratch = append(scratch, b^0x36)
	}
	scratch = append(scratch, msg...)
	inner := sha256.Sum256(scratch)
	var outer [blockSize + sha256.Size]byte
	for i := 0; i < blockSize; i++ {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		outer[i] = b ^ 0x5c
	}
	copy(outer[blockSize:], inner[:])
	return sha256.Sum256(outer[:]), scratch
}

// HashHex returns the lowercase hex SHA-256 of b, the form of
// x-amz-content-sha256 and of the canonical request's payload line.
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	var h [64]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// emptySHA256 is HashHex(nil).
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
