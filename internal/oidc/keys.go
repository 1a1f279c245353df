package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Key is one public key of a JSON Web Key Set.
type Key struct {
	ID     string // kid
	Public crypto.PublicKey
}

// ParseJWKS reads a JSON Web Key Set, keeping its RSA and EC signing keys
// and skipping the others (encryption keys, kinds it does not know), as a
// verifier must.
func ParseJWKS(b []byte) ([]Key, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("oidc: JWKS: %w", err)
	}
	var keys []Key
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var pub crypto.PublicKey
		switch k.Kty {
		case "RSA":
			n, e := bigInt(k.N), bigInt(k.E)
			if n == nil || e == nil || !e.IsInt64() {
				continue
			}
			pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case "EC":
			pub = ecKey(k.Crv, k.X, k.Y)
		}
		if pub != nil {
			keys = append(keys, Key{ID: k.Kid, Public: pub})
		}
	}
	return keys, nil
}

func bigInt(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// ecKey is the public key at (x, y) on a named curve, or nil.
func ecKey(crv, x, y string) crypto.PublicKey {
	curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	c, ok := curves[crv]
	bx, by := bigInt(x), bigInt(y)
	if !ok || bx == nil || by == nil {
		return nil
	}
	size := (c.Params().BitSize + 7) / 8
	point := make([]byte, 1+2*size)
	point[0] = 4 // uncompressed
	bx.FillBytes(point[1 : 1+size])
	by.FillBytes(point[1+size:])
	pub, err := ecdsa.ParseUncompressedPublicKey(c, point)
	if err != nil {
		return nil
	}
	return pub
}

// ErrUnreachable is an issuer that could not be asked for its keys: the
// connection failed, or it answered with an error.
var ErrUnreachable = errors.New("oidc: identity provider unreachable")

// ErrNoKey is an issuer that answered but publishes no key the token
// names.
var ErrNoKey = errors.New("oidc: no verification key")

// Keys finds issuers' public keys: by OpenID Connect discovery (the
// issuer's /.well-known/openid-configuration names its jwks_uri), or at a
// JWKS URL given instead, for issuers overcast cannot reach. Key sets are
// cached; a token naming a key the cached set lacks fetches the set again,
// which is how issuers rotate keys.
type Keys struct {
	// Client fetches the documents; its TLS settings say which
	// certificate authorities the issuers' HTTPS is trusted from.
	Client *http.Client
	// MaxAge is how long a fetched key set is used before it is fetched
	// again; 0 is an hour.
	MaxAge time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	sets map[string]*keySet // by issuer, or by the JWKS URL given instead
}

// keySet is one source's keys. Its lock is held while it is fetched, so
// that one fetch serves every request waiting for it, and a slow issuer
// delays only its own tokens.
type keySet struct {
	mu      sync.Mutex
	keys    []Key
	fetched time.Time
}

// Key returns the key kid names among the issuer's keys; with kid "", the
// issuer's only key. jwksURL, when set, is where the keys are (an
// https, http or file URL) instead of where discovery says.
func (k *Keys) Key(ctx context.Context, issuer, jwksURL, kid string) (crypto.PublicKey, error) {
	source := issuer
	if jwksURL != "" {
		source = jwksURL
	}
	k.mu.Lock()
	if k.sets == nil {
		k.sets = map[string]*keySet{}
	}
	set, ok := k.sets[source]
	if !ok {
		set = &keySet{}
		k.sets[source] = set
	}
	k.mu.Unlock()

	set.mu.Lock()
	defer set.mu.Unlock()
	maxAge := k.MaxAge
	if maxAge == 0 {
		maxAge = time.Hour
	}
	now := k.Now()
	if !set.fetched.IsZero() && now.Sub(set.fetched) < maxAge {
		if key, ok := find(set.keys, kid); ok {
			return key, nil
		}
	}
	keys, err := k.fetch(ctx, issuer, jwksURL)
	if err != nil {
		return nil, err
	}
	set.keys, set.fetched = keys, now
	if key, ok := find(keys, kid); ok {
		return key, nil
	}
	return nil, ErrNoKey
}

func find(keys []Key, kid string) (crypto.PublicKey, bool) {
	if kid == "" {
		if len(keys) == 1 {
			return keys[0].Public, true
		}
		return nil, false
	}
	for _, key := range keys {
		if key.ID == kid {
			return key.Public, true
		}
	}
	return nil, false
}

func (k *Keys) fetch(ctx context.Context, issuer, jwksURL string) ([]Key, error) {
	if jwksURL == "" {
		var discovery struct {
			JWKSURI string `json:"jwks_uri"`
		}
		b, err := k.get(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &discovery); err != nil || !strings.HasPrefix(discovery.JWKSURI, "https://") {
			return nil, fmt.Errorf("%w: %s publishes no https jwks_uri", ErrNoKey, issuer)
		}
		jwksURL = discovery.JWKSURI
	}
	b, err := k.get(ctx, jwksURL)
	if err != nil {
		return nil, err
	}
	keys, err := ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	return keys, nil
}

// maxDocument bounds what is read of an issuer's answer.
const maxDocument = 1 << 20

func (k *Keys) get(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	if u.Scheme == "file" {
		b, err := os.ReadFile(u.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
		}
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	resp, err := k.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %s", ErrUnreachable, raw, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxDocument))
}
