package registry

import (
	// go-digest hashes through package crypto's registry, which only knows
	// the algorithms some package has imported.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Digest and Digester are go-digest's, named here so that package ecr
// works with them without importing go-digest itself.
type (
	Digest   = digest.Digest
	Digester = digest.Digester
)

// Canonical is the algorithm uploads are hashed with as they arrive and
// manifests are named by when no digest is asked for.
const Canonical = digest.Canonical

// ParseDigest checks s is a digest this registry can verify. Only the
// spec's registered algorithms are accepted: sha256 (canonical) and sha512;
// go-digest also knows sha384, which the spec does not register.
func ParseDigest(s string) (Digest, bool) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", false
	}
	switch d.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return d, true
	}
	return "", false
}

// LooksLikeDigest reports whether a reference is meant as a digest (it has
// an algorithm separator, which tags cannot), well-formed or not.
func LooksLikeDigest(ref string) bool { return strings.Contains(ref, ":") }
