package iam

import (
	"crypto/rand"
	"crypto/sha256"
)

// IAM's unique IDs are a four-letter prefix naming the kind of entity and
// 17 characters that, with the prefix, make the 21 AWS prints.
const (
	userIDPrefix            = "AIDA"
	roleIDPrefix            = "AROA"
	groupIDPrefix           = "AGPA"
	policyIDPrefix          = "ANPA"
	instanceProfileIDPrefix = "AIPA"
	accessKeyIDPrefix       = "AKIA"
)

const (
	upperAlnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretLetter = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// newID returns prefix and 17 random uppercase letters and digits.
func newID(prefix string) string { return prefix + randomString(upperAlnum, 17) }

// newAccessKeyID returns "AKIA" and 16 random uppercase letters and digits:
// the 20 characters of a real long-term key ID.
func newAccessKeyID() string { return accessKeyIDPrefix + randomString(upperAlnum, 16) }

// newSecretAccessKey returns 40 characters of base64's alphabet, like AWS's.
func newSecretAccessKey() string { return randomString(secretLetter, 40) }

// randomString draws n characters of alphabet from crypto/rand without
// modulo bias: both alphabets used here divide 256 unevenly, so bytes above
// the largest multiple of len(alphabet) are thrown away.
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
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

// stableID derives an ID from a name, for entities that must have the same
// ID in every account and after every restart (AWS managed policies).
func stableID(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	out := make([]byte, 17)
	for i := range out {
		out[i] = upperAlnum[int(sum[i])%len(upperAlnum)]
	}
	return prefix + string(out)
}
