package acm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/store"
)

// imported is what ImportCertificate has checked: the certificate, its
// key and chain, normalized to PEM.
type imported struct {
	cert     *x509.Certificate
	certPEM  string
	chainPEM string
	keyDER   []byte
}

// checkImport holds an import to ACM's rules: one PEM certificate valid
// now, an unencrypted key of a supported algorithm that matches it, and a
// chain in which each certificate signs the one before.
func checkImport(in *api.ImportCertificateRequest, now time.Time) (imported, error) {
	certs, err := parseCertificates(in.Certificate)
	if err != nil {
		return imported{}, api.NewValidationException("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if len(certs) > 1 {
		return imported{}, api.NewValidationException("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	cert := certs[0]
	switch {
	case now.Before(cert.NotBefore):
		return imported{}, api.NewValidationException("The certificate is not valid yet: its NotBefore is %s.", cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return imported{}, api.NewValidationException("The certificate has expired: its NotAfter is %s.", cert.NotAfter.UTC().Format(time.RFC3339))
	case len(cert.Issuer.Names) == 0:
		return imported{}, api.NewValidationException("The certificate must have a non-empty Issuer.")
	}
	key, err := parsePrivateKey(in.PrivateKey)
	if err != nil {
		return imported{}, api.NewValidationException("The private key is not supported.")
	}
	if keyAlgorithm(cert.PublicKey) == "" {
		return imported{}, api.NewValidationException("The private key length %s isn't supported for key algorithm.", keyLength(cert.PublicKey))
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return imported{}, api.NewValidationException("The private key does not match the public key in the certificate.")
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return imported{}, api.NewValidationException("The private key is not supported.")
	}
	out := imported{cert: cert, certPEM: string(pemBlock("CERTIFICATE", cert.Raw)), keyDER: keyDER}
	if len(in.CertificateChain) == 0 {
		return out, nil
	}
	chain, err := parseCertificates(in.CertificateChain)
	if err != nil {
		return imported{}, api.NewValidationException("Unable to parse certificate chain. Please ensure the certificate chain is in PEM format.")
	}
	var b bytes.Buffer
	child := cert
	for i, parent := range chain {
		if child.CheckSignatureFrom(parent) != nil {
			return imported{}, api.NewValidationException("Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: %d", i)
		}
		b.Write(pemBlock("CERTIFICATE", parent.Raw))
		child = parent
	}
	out.chainPEM = b.String()
	return out, nil
}

// parsePrivateKey reads an unencrypted PEM private key: PKCS#8, PKCS#1 or
// SEC 1. ACM takes no encrypted key.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil || strings.TrimSpace(string(rest)) != "" || strings.Contains(block.Type, "ENCRYPTED") || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("acm: not an unencrypted PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, errors.New("acm: not a private key")
	}
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("acm: unsupported private key")
	}
	return signer, nil
}

// ImportCertificate stores a certificate made elsewhere, or replaces the
// one an imported certificate's ARN names, keeping its ARN, tags and
// users.
func (s *Service) ImportCertificate(ctx context.Context, in *api.ImportCertificateRequest) (*api.ImportCertificateResponse, error) {
	sc := overcast.ScopeOf(ctx)
	now := s.Now()
	im, err := checkImport(in, now)
	if err != nil {
		return nil, err
	}
	domain, names := certificateNames(im.cert)
	fill := func(c *certificate) {
		c.DomainName, c.Names, c.KeyAlgorithm = domain, names, keyAlgorithm(im.cert.PublicKey)
		c.CertPEM, c.ChainPEM, c.SealedKey = im.certPEM, im.chainPEM, s.sealer.Seal(im.keyDER, sealContext(c.ARN))
		c.Imported = new(now)
	}
	if in.CertificateArn != nil {
		if len(in.Tags) > 0 {
			return nil, api.NewInvalidParameterException("You can't specify tags when you reimport a certificate.")
		}
		err := s.update(ctx, sc, *in.CertificateArn, func(c *certificate) error {
			if c.Type != api.CertificateTypeIMPORTED {
				return api.NewValidationException("Certificate ARN: %s is not an imported certificate. Only imported certificates can be reimported.", c.ARN)
			}
			fill(c)
			return nil
		})
		var nf *api.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, api.NewResourceNotFoundException("Could not find certificate %s.", *in.CertificateArn)
		}
		if err != nil {
			return nil, err
		}
		return &api.ImportCertificateResponse{CertificateArn: in.CertificateArn}, nil
	}
	tags, err := addTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	id := s.IDs.UUID()
	c := certificate{ARN: overcast.NewARN("acm", sc.Region, sc.Account, "certificate/"+id).String(), ID: id,
		Type: api.CertificateTypeIMPORTED, Status: api.CertificateStatusISSUED, Created: now, Tags: tags,
		CTLogging: api.CertificateTransparencyLoggingPreferenceENABLED}
	fill(&c)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.PutJSON(tx, certificatesTable, sc.Key(id), c, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.ImportCertificateResponse{CertificateArn: new(c.ARN)}, nil
}

// ExportCertificate hands out a certificate with its private key,
// encrypted under the passphrase, for the certificates ACM lets go: private
// ones, and public ones requested with export enabled.
func (s *Service) ExportCertificate(ctx context.Context, in *api.ExportCertificateRequest) (*api.ExportCertificateResponse, error) {
	sc := overcast.ScopeOf(ctx)
	var out *api.ExportCertificateResponse
	err := s.update(ctx, sc, *in.CertificateArn, func(c *certificate) error {
		exportable := c.Type == api.CertificateTypePRIVATE ||
			(c.Type == api.CertificateTypeAMAZONISSUED && c.Export == api.CertificateExportENABLED)
		if !exportable {
			return api.NewValidationException("Certificate ARN: %s is not a private certificate", c.ARN)
		}
		if c.CertPEM == "" {
			return notIssued(*c)
		}
		keyDER, err := s.sealer.Open(c.SealedKey, sealContext(c.ARN))
		if err != nil {
			return err
		}
		encrypted, err := encryptPKCS8(keyDER, in.Passphrase)
		if err != nil {
			return err
		}
		out = &api.ExportCertificateResponse{Certificate: new(c.CertPEM), PrivateKey: new(string(encrypted))}
		if c.ChainPEM != "" {
			out.CertificateChain = new(c.ChainPEM)
		}
		c.Exported = true
		return nil
	})
	return out, err
}
