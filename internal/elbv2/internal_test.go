package elbv2

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/elbv2"
	"overcast/internal/awsproto"
	"overcast/internal/service/servicetest"
)

// loopbackNetwork is EC2 as a default VPC on 127.16.0.0/16 with one
// running instance.
type loopbackNetwork struct{}

func (loopbackNetwork) Subnet(_ context.Context, _, _, id string) (Subnet, error) {
	return Subnet{ID: id, VPCID: "vpc-1", AvailabilityZone: "us-east-1" + id[len(id)-1:], CIDR: "127.16.0.0/20"}, nil
}

func (loopbackNetwork) VPC(_ context.Context, _, _, id string) (VPC, error) {
	if id != "vpc-1" {
		return VPC{}, ErrVPCNotFound
	}
	return VPC{ID: id, CIDR: "127.16.0.0/16", Default: true}, nil
}

func (loopbackNetwork) Instance(_ context.Context, _, _, id string) (Instance, error) {
	if id != "i-1" {
		return Instance{}, ErrInstanceNotFound
	}
	return Instance{ID: id, State: "running", VPCID: "vpc-1", PrivateIP: "127.16.0.9", AvailabilityZone: "us-east-1a"}, nil
}

func (loopbackNetwork) AttachInterface(context.Context, string, string, string, []string, string) (Interface, error) {
	return Interface{ID: "eni-1", PrivateIP: "127.16.0.5"}, nil
}

func (loopbackNetwork) ReleaseInterface(context.Context, string, string, string) error { return nil }

// TestGoMethodsForECS drives the methods ECS services use: register by
// target group ARN alone, read health, deregister into draining.
func TestGoMethodsForECS(t *testing.T) {
	env := servicetest.Env(t)
	s := New(env, Options{Network: loopbackNetwork{}})
	t.Cleanup(func() { s.Close() })
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("000000000000", "us-east-1"))
	out, err := s.CreateTargetGroup(ctx, &api.CreateTargetGroupInput{Name: new("svc"), Protocol: new("HTTP"), Port: new(int32(8080)),
		VpcId: new("vpc-1")})
	if err != nil {
		t.Fatal(err)
	}
	arn := *out.TargetGroups[0].TargetGroupArn
	// ECS calls without a caller in its context: the ARN says where.
	bg := context.Background()
	if err := s.Register(bg, arn, Target{ID: "i-1", Port: 32768}, Target{ID: "i-1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deregister(bg, arn, Target{ID: "i-1"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.TargetHealth(bg, arn)
	if err != nil {
		t.Fatal(err)
	}
	want := []TargetHealth{
		{Target{"i-1", 32768}, "unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"},
		{Target{"i-1", 8080}, "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target health (-want +got):\n%s", diff)
	}
	if lb, err := s.LoadBalancerOf(bg, arn); err != nil || lb != "" {
		t.Errorf("LoadBalancerOf a group no listener uses: got %q, %v, want \"\"", lb, err)
	}
	if err := s.Register(bg, arn, Target{ID: "i-2"}); err == nil || !isCode(err, "InvalidTarget") {
		t.Errorf("registering an unknown instance: got %v, want InvalidTarget", err)
	}
}

// selfSigned is a certificate for every load balancer of us-east-1, and a
// pool that trusts it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "*.us-east-1.elb.localhost"},
		DNSNames: []string{"*.us-east-1.elb.localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// oneCertificate is ACM holding one certificate.
type oneCertificate struct {
	arn   string
	cert  *tls.Certificate
	users map[string][]string // as last told by InUse
}

func (c *oneCertificate) InUse(_ context.Context, users map[string][]string) error {
	c.users = users
	return nil
}

func (c *oneCertificate) Certificate(_ context.Context, arn string) (*tls.Certificate, error) {
	if arn != c.arn {
		return nil, &awsproto.Error{Code: "CertificateNotFound", Status: 400, Message: "Certificate '" + arn + "' not found"}
	}
	return c.cert, nil
}

func TestHTTPSListener(t *testing.T) {
	cert, roots := selfSigned(t)
	const certARN = "arn:aws:acm:us-east-1:000000000000:certificate/8d9c6f64-2f4e-4ea5-9b0e-7d4f3b2b1c1a"
	acm := &oneCertificate{arn: certARN, cert: cert}
	s := New(servicetest.Env(t), Options{Network: loopbackNetwork{}, Certificates: acm})
	t.Cleanup(func() { s.Close() })
	ctx := overcast.WithCaller(context.Background(), overcast.RootCaller("000000000000", "us-east-1"))
	var proto string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto = r.Header.Get("X-Forwarded-Proto")
		io.WriteString(w, "secure")
	}))
	t.Cleanup(backend.Close)
	lb, err := s.CreateLoadBalancer(ctx, &api.CreateLoadBalancerInput{Name: new("https"), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.CreateTargetGroup(ctx, &api.CreateTargetGroupInput{Name: new("https"), Protocol: new("HTTP"), Port: new(int32(80)),
		VpcId: new("vpc-1"), TargetType: new("ip")})
	if err != nil {
		t.Fatal(err)
	}
	tgARN := *tg.TargetGroups[0].TargetGroupArn
	backendPort, _ := strconv.Atoi(backend.URL[strings.LastIndexByte(backend.URL, ':')+1:])
	if err := s.Register(ctx, tgARN, Target{ID: "127.0.0.1", Port: int32(backendPort)}); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	listen := func(certARN string) error {
		_, err := s.CreateListener(ctx, &api.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: new("HTTPS"),
			Port: new(port), Certificates: api.CertificateList{{CertificateArn: new(certARN)}},
			DefaultActions: api.Actions{{Type: new("forward"), TargetGroupArn: new(tgARN)}}})
		return err
	}
	if err := listen(certARN + "0"); !isCode(err, "CertificateNotFound") {
		t.Errorf("a listener with an unknown certificate: got %v, want CertificateNotFound", err)
	}
	if err := listen(certARN); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string][]string{certARN: {*lb.LoadBalancers[0].LoadBalancerArn}}, acm.users); diff != "" {
		t.Errorf("certificates in use (-want +got):\n%s", diff)
	}
	if got, err := s.LoadBalancerOf(ctx, tgARN); err != nil || got != *lb.LoadBalancers[0].LoadBalancerArn {
		t.Errorf("LoadBalancerOf the listener's group: got %q, %v, want the load balancer", got, err)
	}
	dns := *lb.LoadBalancers[0].DNSName
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: dns}}}
	req, _ := http.NewRequest(http.MethodGet, "https://127.0.0.1:"+strconv.Itoa(int(port))+"/", nil)
	req.Host = dns
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET over TLS verified with the certificate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "secure" || proto != "https" {
		t.Errorf("got %d %q with X-Forwarded-Proto %q, want 200 \"secure\" and https", resp.StatusCode, body, proto)
	}
	// The request is counted for CloudWatch, against the target group.
	for _, st := range s.TrafficStats() {
		if st.TargetGroup != tgARN {
			continue
		}
		st.TargetResponseTime = 0
		want := TrafficStats{LoadBalancer: *lb.LoadBalancers[0].LoadBalancerArn, TargetGroup: tgARN, Requests: 1,
			TargetResponses: [6]int64{2: 1}, UnhealthyHosts: 1}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("traffic stats (-want +got):\n%s", diff)
		}
		return
	}
	t.Errorf("no traffic stats for the target group")
}
