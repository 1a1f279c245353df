// Package signed verifies CloudFront signed URLs and signed cookies, as
// CloudFront does for a cache behaviour with trusted key groups or
// trusted signers: canned policies (Expires) and custom ones (Policy),
// RSA-SHA1, ECDSA and the SHA256 hash algorithm, CloudFront's base64, and
// the 403 bodies CloudFront answers with.
//
// Signature checks cost a public-key operation; a Verifier remembers the
// ones that passed, so that a viewer repeating a signed URL or sending its
// cookies again costs a map lookup. The policy's conditions (dates,
// address, resource) are still checked on every request.
package signed

import (
	"crypto"
	_ "crypto/sha1" // crypto.SHA1.New, the default hash algorithm
	_ "crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cacheSize bounds the verified signatures a Verifier remembers: about
// 1 KB each (signature, policy).
const cacheSize = 10_000

// Verifier checks signed requests. It is safe for concurrent use; one
// serves every distribution, since what it remembers is keyed by the
// signature and the key that verified it.
type Verifier struct {
	now        func() time.Time
	maxEntries int

	mu       sync.RWMutex
	verified map[string]*verification // by signature, as sent

	// signatureChecks counts the public-key verifications done, for tests
	// to tell a cached answer from a computed one.
	signatureChecks atomic.Int64
}

// verification is a signature that verified, with everything it was
// verified over: a later request is answered from it only when it sends
// the same, and is checked against the same key.
type verification struct {
	keyID    string
	public   crypto.PublicKey
	hash     crypto.Hash
	material string // the policy as sent, or a canned policy's Expires
	cookie   bool   // policies in cookies must name their Resource
	policy   *policy
}

// NewVerifier returns a Verifier that reads the time from now (a
// clock.Clock's Now).
func NewVerifier(now func() time.Time) *Verifier {
	return &Verifier{now: now, maxEntries: cacheSize, verified: map[string]*verification{}}
}

// Check decides a viewer request for a behaviour that requires signed
// URLs or cookies. resourceURL is the URL the policy's Resource is
// compared with (see ResourceURL); viewerIP is the viewer's address;
// keys are the behaviour's trusted keys by ID. It returns nil to serve the
// request, or a *Denied to answer it with.
func (v *Verifier) Check(r *http.Request, resourceURL string, viewerIP net.IP, keys map[string]Key) error {
	c := requestCredentials(r)
	if c.keyPairID == "" {
		return errMissingKey
	}
	key, ok := keys[c.keyPairID]
	if !ok {
		return errUnknownKey
	}
	hash, ok := hashAlgorithm(c.hash)
	if !ok {
		return errAccessDenied
	}
	p, denied := v.verify(c, key, hash, resourceURL)
	if denied != nil {
		return denied
	}
	viewer, _ := netip.AddrFromSlice(viewerIP)
	now := v.now()
	if !p.allows(now, resourceURL, viewer) {
		if !now.Before(p.notAfter) {
			v.forget(c.signature, p) // expired for good
		}
		return errAccessDenied
	}
	return nil
}

// hashAlgorithm is the hash a Hash-Algorithm value names; SHA1 when
// absent.
func hashAlgorithm(name string) (crypto.Hash, bool) {
	switch name {
	case "", "SHA1":
		return crypto.SHA1, true
	case "SHA256":
		return crypto.SHA256, true
	}
	return 0, false
}

// verify returns the policy of c once its signature is key's: from what
// the Verifier remembers, or by reading the policy and checking the
// signature.
func (v *Verifier) verify(c credentials, key Key, hash crypto.Hash, resourceURL string) (*policy, *Denied) {
	canned := c.policy == ""
	material := c.policy
	if canned {
		material = c.expires
	}
	v.mu.RLock()
	known := v.verified[c.signature]
	v.mu.RUnlock()
	if known != nil && known.answers(c, key, hash, material, resourceURL) {
		return known.policy, nil
	}

	var doc []byte
	var p *policy
	switch {
	case canned && c.expires == "":
		return nil, errMalformedPolicy
	case canned:
		expires, err := strconv.ParseInt(c.expires, 10, 64)
		if err != nil {
			return nil, errMalformedPolicy
		}
		doc = cannedPolicy(resourceURL, expires)
		p = &policy{resource: resourceURL, exact: true, notAfter: time.Unix(expires, 0)}
	default:
		var err error
		if doc, err = decodeBase64(c.policy); err != nil {
			return nil, errMalformedPolicy
		}
		var ok bool
		if p, ok = parsePolicy(doc, c.cookie); !ok {
			return nil, errMalformedPolicy
		}
	}
	sig, err := decodeBase64(c.signature)
	if err != nil {
		return nil, errMalformedSignature
	}
	h := hash.New()
	h.Write(doc)
	v.signatureChecks.Add(1)
	if !verify(key.Public, hash, h.Sum(nil), sig) {
		return nil, errAccessDenied
	}
	v.remember(strings.Clone(c.signature), &verification{keyID: key.ID, public: key.Public, hash: hash,
		material: strings.Clone(material), cookie: c.cookie, policy: p})
	return p, nil
}

// answers reports whether a request signed with the same signature sent
// what was verified: the same key, hash, policy (for a canned one, the
// same URL) and in the same place.
func (known *verification) answers(c credentials, key Key, hash crypto.Hash, material, resourceURL string) bool {
	canned := c.policy == ""
	return known.keyID == key.ID && known.public == key.Public && known.hash == hash &&
		known.material == material && known.cookie == c.cookie &&
		known.policy.exact == canned && (!canned || known.policy.resource == resourceURL)
}

// remember stores a verification, making room by forgetting an arbitrary
// one when full: any signature is as likely to come back as another,
// and a forgotten one only costs its check again.
func (v *Verifier) remember(signature string, known *verification) {
	if v.maxEntries <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.verified) >= v.maxEntries {
		for sig := range v.verified {
			delete(v.verified, sig)
			break
		}
	}
	v.verified[signature] = known
}

// forget drops what was remembered of signature, if it is still p.
func (v *Verifier) forget(signature string, p *policy) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if known := v.verified[signature]; known != nil && known.policy == p {
		delete(v.verified, signature)
	}
}
