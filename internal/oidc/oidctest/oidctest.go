// Package oidctest mints what tests of web identity federation need: signing
// keys, the JSON Web Key Sets that publish them, signed ID tokens, and an
// HTTPS issuer serving OpenID Connect discovery.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Key is a signing key and the algorithm it signs with.
type Key struct {
	ID     string
	Alg    string // RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512
	signer crypto.Signer
}

// NewKey generates a key for alg, named id.
func NewKey(id, alg string) (*Key, error) {
	var signer crypto.Signer
	var err error
	switch alg[:2] {
	case "RS", "PS":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES":
		curves := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}
		c, ok := curves[alg]
		if !ok {
			return nil, fmt.Errorf("oidctest: unknown algorithm %s", alg)
		}
		signer, err = ecdsa.GenerateKey(c, rand.Reader)
	default:
		return nil, fmt.Errorf("oidctest: unknown algorithm %s", alg)
	}
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, Alg: alg, signer: signer}, nil
}

// MustKey is NewKey for tests.
func MustKey(t testing.TB, id, alg string) *Key {
	t.Helper()
	k, err := NewKey(id, alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// WithID is the same key published under another key ID.
func (k *Key) WithID(id string) *Key { return &Key{ID: id, Alg: k.Alg, signer: k.signer} }

// JWK is the key's public half as a JSON Web Key.
func (k *Key) JWK() map[string]any {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": k.ID, "use": "sig", "alg": k.Alg,
			"n": b64(pub.N.Bytes()), "e": b64([]byte{1, 0, 1})}
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		point, _ := pub.Bytes() // 0x04 || x || y
		return map[string]any{"kty": "EC", "kid": k.ID, "use": "sig", "alg": k.Alg, "crv": pub.Curve.Params().Name,
			"x": b64(point[1 : 1+size]), "y": b64(point[1+size:])}
	}
	return nil
}

// JWKS is a JSON Web Key Set of keys.
func JWKS(keys ...*Key) []byte {
	set := struct {
		Keys []map[string]any `json:"keys"`
	}{Keys: []map[string]any{}}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	b, _ := json.Marshal(set)
	return b
}

// Sign returns a compact JWS of claims signed by k.
func (k *Key) Sign(claims map[string]any) (string, error) {
	b64 := base64.RawURLEncoding.EncodeToString
	header := map[string]string{"alg": k.Alg, "typ": "JWT"}
	if k.ID != "" {
		header["kid"] = k.ID
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signed := b64(h) + "." + b64(p)
	hashes := map[string]func() hash.Hash{"256": sha256.New, "384": sha512.New384, "512": sha512.New}
	cryptoHashes := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}
	bits := k.Alg[2:]
	d := hashes[bits]()
	d.Write([]byte(signed))
	digest := d.Sum(nil)
	var sig []byte
	switch k.Alg[:2] {
	case "RS":
		sig, err = k.signer.Sign(rand.Reader, digest, cryptoHashes[bits])
	case "PS":
		sig, err = k.signer.Sign(rand.Reader, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: cryptoHashes[bits]})
	case "ES":
		sig, err = ecdsaJWS(k.signer.(*ecdsa.PrivateKey), digest)
	}
	if err != nil {
		return "", err
	}
	return signed + "." + b64(sig), nil
}

// ecdsaJWS signs digest, as a JWS carries ECDSA signatures: r and s side
// by side, each as long as the curve's order.
func ecdsaJWS(key *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, err
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	sig := make([]byte, 2*size)
	r.FillBytes(sig[:size])
	s.FillBytes(sig[size:])
	return sig, nil
}

// MustSign is Sign for tests.
func (k *Key) MustSign(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok, err := k.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Issuer is an OpenID Connect issuer over HTTPS: it serves its discovery
// document and the key set it publishes.
type Issuer struct {
	// URL is the issuer (https://127.0.0.1:port), the iss of its tokens.
	URL string
	// CAFile is a PEM file of the certificate its HTTPS is served with,
	// for the verifier to trust (awstest.IdPCAFile).
	CAFile string

	mu      sync.Mutex
	keys    []*Key
	fetches int
}

// NewIssuer starts an issuer publishing keys until the test ends.
func NewIssuer(t testing.TB, keys ...*Key) *Issuer {
	t.Helper()
	iss := &Issuer{keys: keys}
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256"}})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		iss.mu.Lock()
		iss.fetches++
		body := JWKS(iss.keys...)
		iss.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	iss.CAFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(iss.CAFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	return iss
}

// Publish replaces the keys the issuer publishes, as a key rotation does.
func (iss *Issuer) Publish(keys ...*Key) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.keys = keys
}

// FetchCount is how often the key set was fetched.
func (iss *Issuer) FetchCount() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.fetches
}
