package acm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"

	"overcast/internal/service"
	"overcast/internal/store"
)

// CAPath is where the local CA's root certificate is served on the
// gateway, for `curl --cacert` and trust stores to fetch.
const CAPath = "/_overcast/acm/ca.pem"

// CAFile is where the root certificate is written under the data dir once
// the CA exists (on first use, and at every start after): a file a user
// can point curl or a trust store at.
const CAFile = "acm/ca.pem"

const (
	caTable = "acm.ca"
	caKey   = "root"
	// caSealContext binds the sealed root key to its record.
	caSealContext = "acm\x00ca\x00root"

	caValidity = 20 * 365 * 24 * time.Hour
	// leafValidity is what ACM gives the public certificates it issues:
	// 395 days, from the start of the day of issue.
	leafValidity = 395 * 24 * time.Hour
)

// caRecord is the local CA as stored: one per data dir (never per account,
// so that one file is all a user trusts), its key sealed at rest.
type caRecord struct {
	CertPEM   string `json:"certPem"`
	SealedKey []byte `json:"sealedKey"`
}

// authority is the local CA that issues every certificate RequestCertificate
// asks for. Creating it costs an RSA key, so it is made on first use, not
// when overcast starts.
type authority struct {
	store   store.Store
	sealer  service.Sealer
	now     func() time.Time
	dataDir string

	mu   sync.Mutex
	cert *x509.Certificate // nil until loaded
	pem  []byte
	key  crypto.Signer
}

// load returns the CA, creating and storing it the first time. Two
// overcasts sharing a store race to create it; the loser adopts the
// winner's.
func (a *authority) load(ctx context.Context) (*x509.Certificate, crypto.Signer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cert != nil {
		return a.cert, a.key, nil
	}
	var rec caRecord
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, caTable, caKey, &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		rec, err = a.create(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	cert, key, err := a.open(rec)
	if err != nil {
		return nil, nil, err
	}
	a.cert, a.key, a.pem = cert, key, []byte(rec.CertPEM)
	if err := a.writeFile(); err != nil {
		return nil, nil, err
	}
	return a.cert, a.key, nil
}

// loadExisting loads the CA if one was made before, writing CAFile, and
// leaves a new data dir without one: making a root costs an RSA key that
// a run using no certificate need not pay for.
func (a *authority) loadExisting(ctx context.Context) error {
	err := a.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(caTable, caKey)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, _, err = a.load(ctx)
	return err
}

func (a *authority) create(ctx context.Context) (caRecord, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return caRecord{}, fmt.Errorf("acm: CA key: %w", err)
	}
	// From the day before: every certificate it issues starts at the
	// beginning of a day, and must not start before its issuer.
	day := a.now().UTC().Truncate(24 * time.Hour)
	name := pkix.Name{Organization: []string{"Overcast"}, CommonName: "Overcast Local Root CA"}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               name,
		Issuer:                name,
		NotBefore:             day.Add(-24 * time.Hour),
		NotAfter:              day.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return caRecord{}, fmt.Errorf("acm: CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return caRecord{}, err
	}
	rec := caRecord{CertPEM: string(pemBlock("CERTIFICATE", der)), SealedKey: a.sealer.Seal(keyDER, []byte(caSealContext))}
	err = a.store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, caTable, caKey, rec, 0)
		if errors.Is(err, store.ErrConflict) {
			_, err = store.GetJSON(tx, caTable, caKey, &rec)
		}
		return err
	})
	return rec, err
}

func (a *authority) open(rec caRecord) (*x509.Certificate, crypto.Signer, error) {
	certs, err := parseCertificates([]byte(rec.CertPEM))
	if err != nil || len(certs) != 1 {
		return nil, nil, fmt.Errorf("acm: stored CA certificate is unreadable: %v", err)
	}
	keyDER, err := a.sealer.Open(rec.SealedKey, []byte(caSealContext))
	if err != nil {
		return nil, nil, fmt.Errorf("acm: opening the CA key: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, nil, fmt.Errorf("acm: stored CA key: %w", err)
	}
	return certs[0], key.(crypto.Signer), nil
}

// writeFile keeps CAFile in the data dir equal to the CA, so that the path
// a user was told about is right after a restart or a store restored from
// elsewhere.
func (a *authority) writeFile() error {
	path := filepath.Join(a.dataDir, CAFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, a.pem) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("acm: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, a.pem, 0o644); err != nil {
		return fmt.Errorf("acm: %w", err)
	}
	return os.Rename(tmp, path)
}

// PEM is the CA's root certificate, PEM-encoded, creating the CA if it
// does not exist yet.
func (a *authority) PEM(ctx context.Context) ([]byte, error) {
	if _, _, err := a.load(ctx); err != nil {
		return nil, err
	}
	return a.pem, nil
}

// issue signs a certificate for names (the first is the subject's common
// name) with a new key of the ACM key algorithm alg.
func (a *authority) issue(ctx context.Context, names []string, alg string, now time.Time) (certPEM string, key crypto.Signer, err error) {
	caCert, caKey, err := a.load(ctx)
	if err != nil {
		return "", nil, err
	}
	key, err = newKey(alg)
	if err != nil {
		return "", nil, err
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	day := now.UTC().Truncate(24 * time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             day,
		NotAfter:              day.Add(leafValidity - time.Second),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return "", nil, fmt.Errorf("acm: signing a certificate: %w", err)
	}
	return string(pemBlock("CERTIFICATE", der)), key, nil
}

// newKey makes a key of one of the algorithms RequestCertificate offers.
// Keys come from crypto/rand, never from the ID source: a test's seeded IDs
// would make every key guessable.
func newKey(alg string) (crypto.Signer, error) {
	switch alg {
	case keyRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case keyECP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case keyECP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, fmt.Errorf("acm: no key algorithm %s", alg)
}

// randomSerial is a positive 128-bit serial: CAs must put at least 64
// unpredictable bits in it.
func randomSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x40 // always 16 bytes, so every serial prints the same width
	return new(big.Int).SetBytes(b)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
