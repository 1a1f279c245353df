// Package acm implements AWS Certificate Manager, enough for HTTPS
// listeners: RequestCertificate issues at once from a local CA, and
// ImportCertificate takes any certificate whose key matches; certificates
// are described, listed, fetched, tagged and deleted as ACM does, and the
// load balancer reads them (TLSCertificate) and marks them in use.
//
// The local CA is one RSA root per data dir, made on first use. Its
// certificate is written to <data dir>/acm/ca.pem (CAFile) then and at
// every start after, and served at
// GET /_overcast/acm/ca.pem (CAPath), so that `curl --cacert` verifies what
// overcast's listeners present. Private keys, the root's included, are
// sealed at rest with the data dir's local key.
package acm

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the ACM API, and the certificate source of the load balancer.
type Service struct {
	api.UnimplementedServer
	service.Base
	sealer service.Sealer
	ca     *authority
	// tlsCache holds the certificates TLSCertificate parsed, by store key.
	tlsCache sync.Map
	// serverCerts holds what ServerCertificate made, by names.
	serverCerts sync.Map
}

var _ api.Server = (*Service)(nil)

// New returns the service.
func New(env *service.Env) *Service {
	b := env.Base()
	return &Service{Base: b, sealer: env.Sealer,
		ca: &authority{store: env.Store, sealer: env.Sealer, now: b.Now, dataDir: env.DataDir}}
}

// API is ACM's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: authzTable} }

// Start writes CAFile again from the stored CA, so that the file is where
// the user was told before any certificate is asked for.
func (s *Service) Start(ctx context.Context) error { return s.ca.loadExisting(ctx) }

// Planes serve the local CA's root certificate to anyone: it is public.
func (s *Service) Planes() []service.Plane {
	return []service.Plane{{Name: "acm-ca", Match: service.PathPrefix("/_overcast/acm/"), Handler: http.HandlerFunc(s.serveCA)}}
}

func (s *Service) serveCA(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CAPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	pem, err := s.ca.PEM(r.Context())
	if err != nil {
		s.Logger.Error("acm: loading the local CA", "err", err)
		http.Error(w, "the local CA is unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Write(pem)
}

// certificatesTable holds one record per certificate, keyed by scope and
// the ARN's ID.
const certificatesTable = "acm.certificates"

const (
	keyRSA2048 = api.KeyAlgorithmRSA2048
	keyECP256  = api.KeyAlgorithmECPrime256v1
	keyECP384  = api.KeyAlgorithmECSecp384r1

	maxTags        = 50
	updateAttempts = 10
	// idempotencyWindow is how long ACM answers a repeated
	// RequestCertificate IdempotencyToken with the first certificate.
	idempotencyWindow = time.Hour
)

type scope = overcast.Scope

// certificate is the record of a certificate.
type certificate struct {
	ARN  string `json:"arn"`
	ID   string `json:"id"`
	Type string `json:"type"` // AMAZON_ISSUED, IMPORTED or PRIVATE
	// Status is ISSUED or FAILED (a private CA that does not exist);
	// EXPIRED is derived from NotAfter.
	Status        string `json:"status"`
	FailureReason string `json:"failureReason,omitempty"`
	DomainName    string `json:"domainName"`
	// Names are the subject alternative names, DomainName first.
	Names            []string           `json:"names"`
	ValidationMethod string             `json:"validationMethod,omitempty"`
	Validations      []domainValidation `json:"validations,omitempty"`
	KeyAlgorithm     string             `json:"keyAlgorithm"`
	CTLogging        string             `json:"ctLogging,omitempty"`
	Export           string             `json:"export,omitempty"`
	Exported         bool               `json:"exported,omitempty"`
	AuthorityARN     string             `json:"authorityArn,omitempty"`
	ManagedBy        string             `json:"managedBy,omitempty"`
	IdempotencyToken string             `json:"idempotencyToken,omitempty"`
	CertPEM          string             `json:"certPem,omitempty"`
	ChainPEM         string             `json:"chainPem,omitempty"`
	SealedKey        []byte             `json:"sealedKey,omitempty"`
	Created          time.Time          `json:"created"`
	Issued           *time.Time         `json:"issued,omitempty"`
	Imported         *time.Time         `json:"imported,omitempty"`
	InUseBy          []string           `json:"inUseBy,omitempty"`
	Tags             []tag              `json:"tags,omitempty"`
}

// domainValidation is how one name of a requested certificate was
// validated: the record a user would have put in DNS, made once.
type domainValidation struct {
	Domain           string `json:"domain"`
	ValidationDomain string `json:"validationDomain"`
	RecordName       string `json:"recordName,omitempty"`
	RecordValue      string `json:"recordValue,omitempty"`
}

type tag struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// status is the certificate's status now: an issued certificate past its
// NotAfter has EXPIRED.
func (c *certificate) status(now time.Time) string {
	if c.Status == api.CertificateStatusISSUED {
		if x, err := c.x509(); err == nil && now.After(x.NotAfter) {
			return api.CertificateStatusEXPIRED
		}
	}
	return c.Status
}

// sealContext binds a sealed private key to its certificate.
func sealContext(arn string) []byte { return []byte("acm\x00" + arn) }

// lookup reads the certificate an ARN names in the caller's scope.
func (s *Service) lookup(tx store.Tx, sc scope, arn string) (certificate, int64, error) {
	var c certificate
	id, ok := certificateID(sc, arn)
	if !ok {
		return c, 0, notFound(sc, arn)
	}
	ver, err := store.GetJSON(tx, certificatesTable, sc.Key(id), &c)
	if errors.Is(err, store.ErrNotFound) {
		return c, 0, notFound(sc, arn)
	}
	return c, ver, err
}

// view reads one certificate.
func (s *Service) view(ctx context.Context, sc scope, arn string) (certificate, error) {
	var c certificate
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		c, _, err = s.lookup(tx, sc, arn)
		return err
	})
	return c, err
}

// update changes one certificate in a read-modify-write transaction.
func (s *Service) update(ctx context.Context, sc scope, arn string, change func(*certificate) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		c, ver, err := s.lookup(tx, sc, arn)
		if err != nil {
			return err
		}
		if err := change(&c); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, certificatesTable, sc.Key(c.ID), c, ver)
		return err
	})
}

// certificateID is the ID in an ARN of a certificate of sc's account and
// region.
func certificateID(sc scope, arn string) (string, bool) {
	a, ok := overcast.ParseARN(arn)
	if !ok || a.Service != "acm" || a.AccountID != sc.Account || a.Region != sc.Region {
		return "", false
	}
	id, ok := strings.CutPrefix(a.Resource, "certificate/")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// errors shaped like ACM's.

func notFound(sc scope, arn string) error {
	return api.NewResourceNotFoundException("Could not find certificate %s in account %s.", arn, sc.Account)
}
