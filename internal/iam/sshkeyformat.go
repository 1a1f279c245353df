package iam

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
)

// SSH public keys as IAM takes them: the OpenSSH one-line form
// ("ssh-ed25519 AAAA... comment") or PEM ("BEGIN PUBLIC KEY", or PKCS #1's
// "BEGIN RSA PUBLIC KEY"), of type ssh-rsa (at least 2048 bits),
// ecdsa-sha2-nistp256/384/521 or ssh-ed25519. Keys are kept in SSH wire
// form, which is what an SSH server compares with the key a client offers.

const minRSABits = 2048

var (
	errUnrecognizedKeyEncoding = errors.New("unrecognized public key encoding")
	errInvalidKey              = errors.New("invalid public key")
)

// ecdsaCurves maps the SSH curve names to Go's curves.
var ecdsaCurves = map[string]elliptic.Curve{"nistp256": elliptic.P256(), "nistp384": elliptic.P384(), "nistp521": elliptic.P521()}

// parseSSHPublicKey returns the SSH wire form of body, or
// errUnrecognizedKeyEncoding when body is neither form, or errInvalidKey.
func parseSSHPublicKey(body string) ([]byte, error) {
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, "-----BEGIN") {
		block, _ := pem.Decode([]byte(body))
		if block == nil {
			return nil, errUnrecognizedKeyEncoding
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, errUnrecognizedKeyEncoding
		}
		if err != nil {
			return nil, errInvalidKey
		}
		return wireFromKey(key)
	}
	fields := strings.Fields(body)
	if len(fields) < 2 {
		return nil, errUnrecognizedKeyEncoding
	}
	wire, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return nil, errUnrecognizedKeyEncoding
	}
	key, err := keyFromWire(wire)
	if err != nil {
		return nil, err
	}
	if typ, _, _ := readString(wire); string(typ) != fields[0] {
		return nil, errInvalidKey
	}
	// Re-encoding drops anything the wire form carried after the key.
	return wireFromKey(key)
}

// keyFromWire decodes an SSH wire-form public key.
func keyFromWire(wire []byte) (crypto.PublicKey, error) {
	typ, rest, ok := readString(wire)
	if !ok {
		return nil, errInvalidKey
	}
	switch t := string(typ); {
	case t == "ssh-rsa":
		e, rest, ok1 := readString(rest)
		n, _, ok2 := readString(rest)
		if !ok1 || !ok2 {
			return nil, errInvalidKey
		}
		ev := new(big.Int).SetBytes(e)
		if !ev.IsInt64() || ev.Int64() < 3 || ev.Int64() > 1<<31-1 {
			return nil, errInvalidKey
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}, nil
	case t == "ssh-ed25519":
		k, _, ok := readString(rest)
		if !ok || len(k) != ed25519.PublicKeySize {
			return nil, errInvalidKey
		}
		return ed25519.PublicKey(k), nil
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		name, rest, ok1 := readString(rest)
		point, _, ok2 := readString(rest)
		curve := ecdsaCurves[string(name)]
		if !ok1 || !ok2 || curve == nil || t != "ecdsa-sha2-"+string(name) {
			return nil, errInvalidKey
		}
		return ecdsaFromPoint(curve, point)
	}
	return nil, errInvalidKey
}

// ecdsaFromPoint checks an uncompressed point is on curve.
func ecdsaFromPoint(curve elliptic.Curve, point []byte) (*ecdsa.PublicKey, error) {
	var c ecdh.Curve
	switch curve {
	case elliptic.P256():
		c = ecdh.P256()
	case elliptic.P384():
		c = ecdh.P384()
	default:
		c = ecdh.P521()
	}
	k, err := c.NewPublicKey(point)
	if err != nil {
		return nil, errInvalidKey
	}
	pub, err := x509.ParsePKIXPublicKey(mustPKIX(k))
	if err != nil {
		return nil, errInvalidKey
	}
	return pub.(*ecdsa.PublicKey), nil
}

func mustPKIX(k *ecdh.PublicKey) []byte {
	b, _ := x509.MarshalPKIXPublicKey(k)
	return b
}

// wireFromKey encodes a key IAM accepts in SSH wire form.
func wireFromKey(key any) ([]byte, error) {
	var b bytes.Buffer
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, errInvalidKey
		}
		writeString(&b, []byte("ssh-rsa"))
		writeString(&b, mpint(big.NewInt(int64(k.E))))
		writeString(&b, mpint(k.N))
	case ed25519.PublicKey:
		writeString(&b, []byte("ssh-ed25519"))
		writeString(&b, k)
	case *ecdsa.PublicKey:
		name := map[elliptic.Curve]string{elliptic.P256(): "nistp256", elliptic.P384(): "nistp384", elliptic.P521(): "nistp521"}[k.Curve]
		if name == "" {
			return nil, errInvalidKey
		}
		ek, err := k.ECDH()
		if err != nil {
			return nil, errInvalidKey
		}
		writeString(&b, []byte("ecdsa-sha2-"+name))
		writeString(&b, []byte(name))
		writeString(&b, ek.Bytes())
	default:
		return nil, errInvalidKey
	}
	return b.Bytes(), nil
}

// openSSHForm is the one-line form of a wire-form key.
func openSSHForm(wire []byte) string {
	typ, _, _ := readString(wire)
	return string(typ) + " " + base64.StdEncoding.EncodeToString(wire)
}

// pemForm is the PEM ("BEGIN PUBLIC KEY") form of a wire-form key.
func pemForm(wire []byte) (string, error) {
	key, err := keyFromWire(wire)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// sshFingerprint is IAM's fingerprint of a key: the MD5 of its wire form,
// in hex pairs separated by colons.
func sshFingerprint(wire []byte) string {
	sum := md5.Sum(wire)
	h := hex.EncodeToString(sum[:])
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

func readString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func writeString(b *bytes.Buffer, s []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(s)))
	b.Write(s)
}

// mpint is SSH's encoding of a non-negative integer: big-endian, with a
// leading zero byte when the top bit is set.
func mpint(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}
