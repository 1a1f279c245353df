package iam

import (
	"crypto/sha256"

	"overcast/internal/ids"
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
	upperAlnum   = ids.UpperAlnum
	secretLetter = ids.Alnum + "+/"
)

// newID returns prefix and 17 random uppercase letters and digits.
func (s *Service) newID(prefix string) string { return prefix + s.IDs.String(upperAlnum, 17) }

// newAccessKeyID returns "AKIA" and 16 random uppercase letters and digits:
// the 20 characters of a real long-term key ID.
func (s *Service) newAccessKeyID() string { return accessKeyIDPrefix + s.IDs.String(upperAlnum, 16) }

// newSecretAccessKey returns 40 characters of base64's alphabet, like AWS's.
func (s *Service) newSecretAccessKey() string { return s.IDs.String(secretLetter, 40) }

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
