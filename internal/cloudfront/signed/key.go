package signed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key is a public key that signed URLs and cookies name by its ID in
// Key-Pair-Id: a CloudFront public key of a trusted key group, or a
// trusted signer's key pair.
type Key struct {
	ID     string
	Public crypto.PublicKey // *rsa.PublicKey (2048 bits) or *ecdsa.PublicKey (P-256)
}

// ParsePublicKey reads a public key as CloudFront's CreatePublicKey takes
// it: PEM, either a PKIX "PUBLIC KEY" or a PKCS #1 "RSA PUBLIC KEY".
func ParsePublicKey(id, encoded string) (Key, error) {
	block, _ := pem.Decode([]byte(encoded))
	if block == nil {
		return Key{}, errors.New("signed: public key is not PEM-encoded")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return Key{}, fmt.Errorf("signed: PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return Key{}, fmt.Errorf("signed: public key: %w", err)
	}
	if err := Supported(pub); err != nil {
		return Key{}, err
	}
	return Key{ID: id, Public: pub}, nil
}

// Supported says why CloudFront cannot verify with pub, nil when it can:
// RSA 2048 or ECDSA P-256, the keys CreatePublicKey accepts.
func Supported(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() != 2048 {
			return fmt.Errorf("signed: RSA key of %d bits, want 2048", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("signed: ECDSA key on %s, want P-256", k.Curve.Params().Name)
		}
	default:
		return fmt.Errorf("signed: %T keys are not supported, want RSA 2048 or ECDSA P-256", pub)
	}
	return nil
}

// verify reports whether sig is pub's signature of digest, made with hash:
// RSASSA-PKCS1-v1_5 for RSA, ASN.1 DER (r, s) for ECDSA.
func verify(pub crypto.PublicKey, hash crypto.Hash, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, digest, sig)
	}
	return false
}
