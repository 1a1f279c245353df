// Package oidc verifies OpenID Connect ID tokens (signed JWTs) with the
// keys their issuers publish, for STS's AssumeRoleWithWebIdentity.
//
// It is written on the standard library's crypto: a JWT is three base64url
// parts, and the signatures an issuer may use (RS*, PS*, ES*) are each a
// call into crypto/rsa or crypto/ecdsa. Encrypted tokens (JWE) and
// symmetric signatures (HS*) are refused: an IAM OIDC provider's keys are
// public keys.
package oidc

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // the hashes RS*/PS*/ES* use
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// ErrMalformed is a token that is not a signed JWT.
var ErrMalformed = errors.New("oidc: token is not a signed JWT")

// ErrSignature is a token whose signature its key does not verify.
var ErrSignature = errors.New("oidc: invalid JWT signature")

// Token is a parsed, not yet verified, JWT.
type Token struct {
	Algorithm string // the header's alg: RS256, ES384, PS512...
	KeyID     string // the header's kid; "" when the issuer has one key
	Claims    Claims

	signed    []byte // header.payload, what the signature covers
	signature []byte
}

// Claims are the registered claims AssumeRoleWithWebIdentity reads, and
// every claim as decoded JSON.
type Claims struct {
	Issuer          string
	Subject         string
	Audience        []string
	AuthorizedParty string // azp
	// Expiry, NotBefore and IssuedAt are zero when the claim is absent.
	Expiry, NotBefore, IssuedAt time.Time
	// AMR is the authentication methods (amr), which Cognito and others
	// put in tokens and trust policies test.
	AMR []string
	All map[string]any
}

// Parse splits and decodes a compact JWS. It checks the form only: Verify
// checks the signature.
func Parse(raw string) (*Token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, ErrMalformed
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg == "" {
		return nil, ErrMalformed
	}
	var all map[string]any
	if err := decodePart(parts[1], &all); err != nil {
		return nil, ErrMalformed
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, ErrMalformed
	}
	claims, err := claimsOf(all)
	if err != nil {
		return nil, err
	}
	return &Token{Algorithm: header.Alg, KeyID: header.Kid, Claims: claims,
		signed: []byte(parts[0] + "." + parts[1]), signature: sig}, nil
}

func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func claimsOf(all map[string]any) (Claims, error) {
	c := Claims{All: all}
	var ok bool
	for name, dst := range map[string]*string{"iss": &c.Issuer, "sub": &c.Subject, "azp": &c.AuthorizedParty} {
		if v, present := all[name]; present {
			if *dst, ok = v.(string); !ok {
				return Claims{}, fmt.Errorf("%w: claim %s is not a string", ErrMalformed, name)
			}
		}
	}
	for name, dst := range map[string]*time.Time{"exp": &c.Expiry, "nbf": &c.NotBefore, "iat": &c.IssuedAt} {
		if v, present := all[name]; present {
			n, isNumber := v.(json.Number)
			f, err := n.Float64()
			if !isNumber || err != nil {
				return Claims{}, fmt.Errorf("%w: claim %s is not a number", ErrMalformed, name)
			}
			*dst = time.Unix(int64(f), 0).UTC()
		}
	}
	var err error
	if c.Audience, err = stringOrList(all["aud"]); err != nil {
		return Claims{}, fmt.Errorf("%w: claim aud: %v", ErrMalformed, err)
	}
	if c.AMR, err = stringOrList(all["amr"]); err != nil {
		return Claims{}, fmt.Errorf("%w: claim amr: %v", ErrMalformed, err)
	}
	return c, nil
}

// stringOrList reads a claim that is one string or a list of them.
func stringOrList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("not a list of strings")
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errors.New("not a string or a list of strings")
}

// Verify checks the token's signature with key, which must be of the kind
// the token's algorithm names.
func (t *Token) Verify(key crypto.PublicKey) error {
	hash, ok := hashes[t.Algorithm[min(2, len(t.Algorithm)):]]
	if !ok {
		return fmt.Errorf("%w: unsupported algorithm %q", ErrSignature, t.Algorithm)
	}
	h := hash.New()
	h.Write(t.signed)
	digest := h.Sum(nil)
	family := t.Algorithm[:min(2, len(t.Algorithm))]
	switch key := key.(type) {
	case *rsa.PublicKey:
		switch family {
		case "RS":
			return sigErr(rsa.VerifyPKCS1v15(key, hash, digest, t.signature))
		case "PS":
			return sigErr(rsa.VerifyPSS(key, hash, digest, t.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}))
		}
	case *ecdsa.PublicKey:
		// A JWS carries an ECDSA signature as r and s side by side, each
		// as long as the curve's order.
		size := (key.Curve.Params().BitSize + 7) / 8
		if family == "ES" && len(t.signature) == 2*size {
			r := new(big.Int).SetBytes(t.signature[:size])
			s := new(big.Int).SetBytes(t.signature[size:])
			if ecdsa.Verify(key, digest, r, s) {
				return nil
			}
		}
		return ErrSignature
	}
	return fmt.Errorf("%w: algorithm %s does not fit the key", ErrSignature, t.Algorithm)
}

var hashes = map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}

func sigErr(err error) error {
	if err != nil {
		return ErrSignature
	}
	return nil
}
