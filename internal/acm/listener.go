package acm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/store"
)

// Errors of the methods the load balancer calls, for it to answer with its
// own codes (CertificateNotFound, UnsupportedCertificate).
var (
	// ErrCertificateNotFound: no certificate has that ARN in the account
	// and region.
	ErrCertificateNotFound = errors.New("acm: certificate not found")
	// ErrCertificateNotIssued: the certificate exists but is not ISSUED
	// (failed, or expired).
	ErrCertificateNotIssued = errors.New("acm: certificate is not issued")
)

// TLSCertificate is the certificate an ARN names, with its private key and
// chain, ready for a TLS server (an HTTPS listener's tls.Config). A
// listener may call it for every handshake: the parsed certificate is kept
// until the record changes (a re-import).
func (s *Service) TLSCertificate(ctx context.Context, account, region, arn string) (*tls.Certificate, error) {
	sc := overcast.Scope{Account: account, Region: region}
	var c certificate
	var ver int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		c, ver, err = s.lookup(tx, sc, arn)
		return err
	})
	if err != nil {
		return nil, asListenerError(err, arn)
	}
	key := sc.Key(c.ID)
	if hit, ok := s.tlsCache.Load(key); ok && hit.(cachedTLS).version == ver {
		cert := hit.(cachedTLS).cert
		if s.Now().After(cert.Leaf.NotAfter) {
			return nil, fmt.Errorf("%w: %s is %s", ErrCertificateNotIssued, arn, api.CertificateStatusEXPIRED)
		}
		return cert, nil
	}
	if st := c.status(s.Now()); st != api.CertificateStatusISSUED || c.CertPEM == "" {
		return nil, fmt.Errorf("%w: %s is %s", ErrCertificateNotIssued, arn, st)
	}
	cert, err := s.tlsCertificate(&c)
	if err != nil {
		return nil, err
	}
	s.tlsCache.Store(key, cachedTLS{version: ver, cert: cert})
	return cert, nil
}

// cachedTLS is a certificate TLSCertificate parsed, for the record version
// it was parsed from.
type cachedTLS struct {
	version int64
	cert    *tls.Certificate
}

func (s *Service) tlsCertificate(c *certificate) (*tls.Certificate, error) {
	if len(c.SealedKey) == 0 {
		return nil, errNoKey
	}
	keyDER, err := s.sealer.Open(c.SealedKey, sealContext(c.ARN))
	if err != nil {
		return nil, fmt.Errorf("acm: opening the key of %s: %w", c.ARN, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("acm: the stored key of %s: %w", c.ARN, err)
	}
	certs, err := parseCertificates([]byte(c.CertPEM + c.ChainPEM))
	if err != nil {
		return nil, fmt.Errorf("acm: the stored certificate of %s: %w", c.ARN, err)
	}
	out := &tls.Certificate{PrivateKey: key, Leaf: certs[0]}
	for _, x := range certs {
		out.Certificate = append(out.Certificate, x.Raw)
	}
	return out, nil
}

// SetUsers records which certificates the users of one kind (their ARNs
// start with prefix: load balancers) use: certificate ARN → user ARNs.
// They show in InUseBy, and DeleteCertificate refuses a certificate in
// use. The caller hands its whole view each time, so a user that went
// away while overcast was down drops out too; users of other kinds stay.
func (s *Service) SetUsers(ctx context.Context, prefix string, users map[string][]string) error {
	var changed []string
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, certificatesTable, store.ScanOptions{}, func(_ string, c certificate, _ int64) error {
			if !slices.Equal(withUsers(c.InUseBy, prefix, users[c.ARN]), c.InUseBy) {
				changed = append(changed, c.ARN)
			}
			return nil
		})
	})
	for _, arn := range changed {
		if err != nil {
			break
		}
		a, _ := overcast.ParseARN(arn)
		err = s.update(ctx, overcast.Scope{Account: a.AccountID, Region: a.Region}, arn, func(c *certificate) error {
			c.InUseBy = withUsers(c.InUseBy, prefix, users[arn])
			return nil
		})
		if errors.Is(asListenerError(err, arn), ErrCertificateNotFound) {
			err = nil // deleted meanwhile
		}
	}
	return err
}

// withUsers is current with the users starting with prefix replaced by
// these, sorted.
func withUsers(current []string, prefix string, these []string) []string {
	out := slices.DeleteFunc(slices.Clone(current), func(u string) bool { return strings.HasPrefix(u, prefix) })
	out = append(out, these...)
	slices.Sort(out)
	return slices.Compact(out)
}

func asListenerError(err error, arn string) error {
	var nf *api.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("%w: %s", ErrCertificateNotFound, arn)
	}
	return err
}

// ServerCertificate is a certificate from the local CA for names (the
// first is the subject), for a server overcast runs under a domain of its
// own: CloudFront's default *.cloudfront.localhost, as AWS serves
// *.cloudfront.net with a certificate of its own. It is no ACM
// certificate (nothing lists it); one is kept per set of names and made
// again when less than a day of it is left.
func (s *Service) ServerCertificate(ctx context.Context, names ...string) (*tls.Certificate, error) {
	key := strings.Join(names, ",")
	if hit, ok := s.serverCerts.Load(key); ok {
		if cert := hit.(*tls.Certificate); s.Now().Add(24 * time.Hour).Before(cert.Leaf.NotAfter) {
			return cert, nil
		}
	}
	certPEM, priv, err := s.ca.issue(ctx, names, keyECP256, s.Now())
	if err != nil {
		return nil, err
	}
	certs, err := parseCertificates([]byte(certPEM))
	if err != nil {
		return nil, err
	}
	cert := &tls.Certificate{Certificate: [][]byte{certs[0].Raw}, PrivateKey: priv, Leaf: certs[0]}
	s.serverCerts.Store(key, cert)
	return cert, nil
}
