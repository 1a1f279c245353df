package registry

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
)

// Digest is a content digest, "algorithm:hex". Only the spec's registered
// algorithms are accepted: sha256 (canonical) and sha512.
type Digest string

// ParseDigest checks s is a digest this registry can verify.
func ParseDigest(s string) (Digest, bool) {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok {
		return "", false
	}
	var n int
	switch alg {
	case "sha256":
		n = 64
	case "sha512":
		n = 128
	default:
		return "", false
	}
	if len(enc) != n {
		return "", false
	}
	for i := 0; i < len(enc); i++ {
		if c := enc[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	return Digest(s), true
}

// LooksLikeDigest reports whether a reference is meant as a digest (it has
// an algorithm separator, which tags cannot), well-formed or not.
func LooksLikeDigest(ref string) bool { return strings.Contains(ref, ":") }

// Algorithm is the part before the colon.
func (d Digest) Algorithm() string {
	alg, _, _ := strings.Cut(string(d), ":")
	return alg
}

// Encoded is the hex part.
func (d Digest) Encoded() string {
	_, enc, _ := strings.Cut(string(d), ":")
	return enc
}

func (d Digest) String() string { return string(d) }

// NewHash returns a fresh hash of the algorithm, or nil for none known.
func NewHash(alg string) hash.Hash {
	switch alg {
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// FromHash is the digest a finished hash names.
func FromHash(alg string, h hash.Hash) Digest {
	return Digest(alg + ":" + hex.EncodeToString(h.Sum(nil)))
}

// FromBytes digests b with alg.
func FromBytes(alg string, b []byte) Digest {
	h := NewHash(alg)
	h.Write(b)
	return FromHash(alg, h)
}

// ValidTag reports whether tag fits the spec's tag grammar.
func ValidTag(tag string) bool {
	if len(tag) == 0 || len(tag) > 128 {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if i > 0 {
			ok = ok || c == '.' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}
