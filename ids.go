package overcast

import (
	"crypto/rand"
	"encoding/hex"
)

// NewUUID returns a random (version 4) UUID: the shape of AWS's request
// IDs, secret version IDs, event IDs and service-linked-role deletion tasks.
func NewUUID() string {
	var u [16]byte
	rand.Read(u[:])
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

// RandomString returns n characters of alphabet drawn from crypto/rand
// without modulo bias (bytes above the largest multiple of the alphabet's
// length are thrown away): the letters of access key IDs, secrets, IAM
// unique IDs and secret ARN suffixes.
func RandomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2+1)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
