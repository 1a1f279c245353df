package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	api "overcast/internal/api/cloudfront"
)

// selfSigned issues each host its own self-signed certificate, and keeps
// them in a pool a client can trust.
type selfSigned struct {
	pool *x509.CertPool
}

func (s *selfSigned) Certificate(host, _ string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	s.pool.AddCert(cert)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, nil
}

// newHTTPSEdge is an edge with an HTTPS listener on a free port, whose
// certificates certs signs, serving one distribution over a test origin
// with the viewer protocol policy given.
func newHTTPSEdge(t *testing.T, viewerProtocol string) (*Edge, *selfSigned) {
	t.Helper()
	o := newTestOrigin(t, nil)
	certs := &selfSigned{pool: x509.NewCertPool()}
	e, _ := newTestEdge(t, Config{HTTPSAddr: "127.0.0.1:0", Certificates: certs},
		distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
			c.DefaultCacheBehavior.ViewerProtocolPolicy = ptr(viewerProtocol)
		}))
	return e, certs
}

func TestHTTPSViewers(t *testing.T) {
	e, certs := newHTTPSEdge(t, "https-only")
	// The listener asks for the certificate during the handshake, which
	// puts it in the pool before the client checks it.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: certs.pool, ServerName: "e1test.cloudfront.localhost"},
	}}
	req, _ := http.NewRequest("GET", "https://"+e.HTTPSAddr()+"/a.txt", nil)
	req.Host = "e1test.cloudfront.localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, resp); resp.StatusCode != 200 || got != "body of /a.txt" {
		t.Errorf("got %d %q, want 200 from the origin over HTTPS", resp.StatusCode, got)
	}

	unknown := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certs.pool, ServerName: "nobody.cloudfront.localhost"}}}
	if _, err := unknown.Get("https://" + e.HTTPSAddr() + "/"); err == nil {
		t.Errorf("got a TLS session for a host no distribution answers, want a handshake failure")
	}
}

// TestRedirectToHTTPSListener: redirect-to-https sends a viewer that came
// over HTTP on any port to the port of the HTTPS listener, where the
// redirect can be followed.
func TestRedirectToHTTPSListener(t *testing.T) {
	e, _ := newHTTPSEdge(t, "redirect-to-https")
	_, port, _ := net.SplitHostPort(e.HTTPSAddr())
	for _, host := range []string{"e1test.cloudfront.localhost:4566", "e1test.cloudfront.localhost"} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "http://"+host+"/a.txt?x=1", nil))
		want := "https://e1test.cloudfront.localhost:" + port + "/a.txt?x=1"
		if got := w.Header().Get("Location"); w.Code != http.StatusMovedPermanently || got != want {
			t.Errorf("Host %s: got %d %q, want 301 %q", host, w.Code, got, want)
		}
	}
}
