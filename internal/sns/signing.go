package sns

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"overcast/internal/service"
	"overcast/internal/store"
)

const (
	signerTable = "sns.signer"
	signerKey   = "key"
	// signerSealContext binds the sealed key to its record.
	signerSealContext = "sns\x00signer"
	signerValidity    = 10 * 365 * 24 * time.Hour
)

// signerRecord is the signing key as stored: one per data dir, so that a
// subscriber pins one certificate, its private key sealed at rest.
type signerRecord struct {
	CertPEM   string `json:"certPem"`
	SealedKey []byte `json:"sealedKey"`
}

// signer signs messages with the data dir's SNS key, made on first use.
type signer struct {
	store  store.Store
	sealer service.Sealer
	now    func() time.Time

	mu   sync.Mutex
	key  *rsa.PrivateKey // nil until loaded
	pem  []byte
	name string // SimpleNotificationService-<hash>.pem
}

// sign signs text for signature version "1" (SHA1withRSA) or "2"
// (SHA256withRSA), returning the certificate's URL under base and the
// signature in base64.
func (g *signer) sign(ctx context.Context, base, version, text string) (certURL, signature string, err error) {
	if err := g.load(ctx); err != nil {
		return "", "", err
	}
	hash, digest := crypto.SHA1, sha1Sum(text)
	if version == "2" {
		hash, digest = crypto.SHA256, sha256Sum(text)
	}
	sig, err := rsa.SignPKCS1v15(nil, g.key, hash, digest)
	if err != nil {
		return "", "", fmt.Errorf("sns: signing: %w", err)
	}
	return base + PlanePrefix + g.name, base64.StdEncoding.EncodeToString(sig), nil
}

func sha1Sum(s string) []byte   { h := sha1.Sum([]byte(s)); return h[:] }
func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

// certificate returns the PEM certificate if name is its file name.
func (g *signer) certificate(ctx context.Context, name string) ([]byte, bool, error) {
	if err := g.load(ctx); err != nil {
		return nil, false, err
	}
	return g.pem, name == g.name, nil
}

func (g *signer) load(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.key != nil {
		return nil
	}
	var rec signerRecord
	err := g.store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, signerTable, signerKey, &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		// Made outside the transaction: an RSA key takes a while. Two
		// overcasts sharing a store race to store theirs; the loser adopts
		// the winner's.
		if rec, err = g.create(); err != nil {
			return err
		}
		err = g.store.Update(ctx, func(tx store.Tx) error {
			_, err := store.PutJSON(tx, signerTable, signerKey, rec, 0)
			if errors.Is(err, store.ErrConflict) {
				_, err = store.GetJSON(tx, signerTable, signerKey, &rec)
			}
			return err
		})
	}
	if err != nil {
		return err
	}
	der, err := g.sealer.Open(rec.SealedKey, []byte(signerSealContext))
	if err != nil {
		return fmt.Errorf("sns: opening the signing key: %w", err)
	}
	key, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return fmt.Errorf("sns: stored signing key: %w", err)
	}
	block, _ := pem.Decode([]byte(rec.CertPEM))
	if block == nil {
		return errors.New("sns: stored signing certificate is unreadable")
	}
	sum := sha256.Sum256(block.Bytes)
	g.key, g.pem = key, []byte(rec.CertPEM)
	g.name = "SimpleNotificationService-" + hex.EncodeToString(sum[:16]) + ".pem"
	return nil
}

// create makes the signing key and its self-signed certificate, named as
// AWS's is.
func (g *signer) create() (signerRecord, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return signerRecord{}, fmt.Errorf("sns: signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return signerRecord{}, err
	}
	start := g.now().UTC().Add(-24 * time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com", Organization: []string{"Overcast"}},
		NotBefore:    start,
		NotAfter:     start.Add(signerValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{"sns.amazonaws.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return signerRecord{}, fmt.Errorf("sns: signing certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	sealed := g.sealer.Seal(x509.MarshalPKCS1PrivateKey(key), []byte(signerSealContext))
	return signerRecord{CertPEM: string(certPEM), SealedKey: sealed}, nil
}
