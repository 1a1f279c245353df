package acm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/service/servicetest"
)

func newTestService(t *testing.T) (*Service, context.Context) {
	t.Helper()
	env := servicetest.Env(t)
	return New(env), overcast.WithCaller(context.Background(), overcast.RootCaller("123456789012", "eu-west-1"))
}

// TestTLSCertificateVerifiesWithServedCA serves HTTPS with the certificate
// the load balancer gets, to a client that trusts nothing but the root
// fetched from CAPath.
func TestTLSCertificateVerifiesWithServedCA(t *testing.T) {
	s, ctx := newTestService(t)
	out, err := s.RequestCertificate(ctx, &api.RequestCertificateRequest{DomainName: new("shop.example.com"), SubjectAlternativeNames: []string{"*.shop.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := s.TLSCertificate(ctx, "123456789012", "eu-west-1", *out.CertificateArn)
	if err != nil {
		t.Fatal(err)
	}

	plane := httptest.NewServer(s.Planes()[0].Handler)
	defer plane.Close()
	resp, err := http.Get(plane.URL + CAPath)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("GET %s: got %q, want a PEM certificate", CAPath, caPEM)
	}

	site := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello over TLS") }))
	site.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	site.StartTLS()
	defer site.Close()
	now := s.Now // the certificate is valid at the service's (fake) time
	for _, name := range []string{"shop.example.com", "api.shop.example.com"} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: name, Time: now}}}
		resp, err := client.Get(site.URL)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello over TLS" {
			t.Errorf("%s: got %q", name, body)
		}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "other.example.com", Time: now}}}
	if _, err := client.Get(site.URL); err == nil {
		t.Errorf("a name the certificate is not for: got a verified connection")
	}

	if _, err := s.TLSCertificate(ctx, "123456789012", "us-east-1", *out.CertificateArn); !errors.Is(err, ErrCertificateNotFound) {
		t.Errorf("TLSCertificate in another region: got %v, want ErrCertificateNotFound", err)
	}
}

func TestInUseBlocksDelete(t *testing.T) {
	s, ctx := newTestService(t)
	out, err := s.RequestCertificate(ctx, &api.RequestCertificateRequest{DomainName: new("lb.example.com"), KeyAlgorithm: new(keyECP256)})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.CertificateArn
	const lb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	const elbPrefix = "arn:aws:elasticloadbalancing:"
	for range 2 { // idempotent
		if err := s.SetUsers(ctx, elbPrefix, map[string][]string{arn: {lb}}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.DescribeCertificate(ctx, &api.DescribeCertificateRequest{CertificateArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Certificate.InUseBy; len(got) != 1 || got[0] != lb || *d.Certificate.RenewalEligibility != api.RenewalEligibilityELIGIBLE {
		t.Errorf("InUseBy: got %v %s, want [%s] ELIGIBLE", got, *d.Certificate.RenewalEligibility, lb)
	}
	err = s.DeleteCertificate(ctx, &api.DeleteCertificateRequest{CertificateArn: &arn})
	var inUse *api.ResourceInUseException
	if !errors.As(err, &inUse) || *inUse.Message != "Certificate "+arn+" in account 123456789012 is in use." {
		t.Fatalf("DeleteCertificate in use: got %v, want ResourceInUseException", err)
	}
	if err := s.SetUsers(ctx, elbPrefix, nil); err != nil { // no load balancer uses it any more
		t.Fatal(err)
	}
	if err := s.DeleteCertificate(ctx, &api.DeleteCertificateRequest{CertificateArn: &arn}); err != nil {
		t.Fatalf("DeleteCertificate once unused: %v", err)
	}
	if err := s.SetUsers(ctx, elbPrefix, map[string][]string{arn: {lb}}); err != nil {
		t.Errorf("SetUsers naming a deleted certificate: got %v, want nil", err)
	}
}

func TestFailedPrivateRequest(t *testing.T) {
	s, ctx := newTestService(t)
	out, err := s.RequestCertificate(ctx, &api.RequestCertificateRequest{DomainName: new("internal.example.com"),
		CertificateAuthorityArn: new("arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/11111111-1111-1111-1111-111111111111")})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.DescribeCertificate(ctx, &api.DescribeCertificateRequest{CertificateArn: out.CertificateArn})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Certificate.Status != api.CertificateStatusFAILED || *d.Certificate.FailureReason != api.FailureReasonPCARESOURCENOTFOUND || *d.Certificate.Type != api.CertificateTypePRIVATE {
		t.Errorf("got %s %s %s, want FAILED PCA_RESOURCE_NOT_FOUND PRIVATE", *d.Certificate.Status, *d.Certificate.FailureReason, *d.Certificate.Type)
	}
	if _, err := s.TLSCertificate(ctx, "123456789012", "eu-west-1", *out.CertificateArn); !errors.Is(err, ErrCertificateNotIssued) {
		t.Errorf("TLSCertificate of a failed request: got %v, want ErrCertificateNotIssued", err)
	}
	var inProgress *api.RequestInProgressException
	if _, err := s.GetCertificate(ctx, &api.GetCertificateRequest{CertificateArn: out.CertificateArn}); !errors.As(err, &inProgress) {
		t.Errorf("GetCertificate of a failed request: got %v, want RequestInProgressException", err)
	}
}

// TestTLSCertificateFollowsReimport: a listener asking again after a
// re-import gets the new certificate; asking again before gets the one it
// has.
func TestTLSCertificateFollowsReimport(t *testing.T) {
	s, ctx := newTestService(t)
	mint := func(name string) *api.ImportCertificateRequest {
		certPEM, key, err := s.ca.issue(ctx, []string{name}, keyECP256, s.Now())
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		return &api.ImportCertificateRequest{Certificate: []byte(certPEM), PrivateKey: pemBlock("PRIVATE KEY", der)}
	}
	out, err := s.ImportCertificate(ctx, mint("first.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.CertificateArn
	first, err := s.TLSCertificate(ctx, "123456789012", "eu-west-1", arn)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.TLSCertificate(ctx, "123456789012", "eu-west-1", arn)
	if err != nil || again != first {
		t.Errorf("second TLSCertificate: got %p (%v), want the certificate parsed before, %p", again, err, first)
	}
	in := mint("second.example.com")
	in.CertificateArn = &arn
	if _, err := s.ImportCertificate(ctx, in); err != nil {
		t.Fatal(err)
	}
	after, err := s.TLSCertificate(ctx, "123456789012", "eu-west-1", arn)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Leaf.Subject.CommonName; got != "second.example.com" {
		t.Errorf("after re-import: got %s, want second.example.com", got)
	}
}

// TestServerCertificate: overcast's own domains get a certificate of the
// local CA for their names, made once and kept.
func TestServerCertificate(t *testing.T) {
	s, ctx := newTestService(t)
	cert, err := s.ServerCertificate(ctx, "*.cloudfront.localhost", "cloudfront.localhost")
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := s.ca.PEM(ctx)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	for _, name := range []string{"e1abcdef.cloudfront.localhost", "cloudfront.localhost"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: s.Now()}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	again, err := s.ServerCertificate(ctx, "*.cloudfront.localhost", "cloudfront.localhost")
	if err != nil || again != cert {
		t.Errorf("second call: got a new certificate (%v), want the kept one", err)
	}
}
