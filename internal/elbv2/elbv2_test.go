package elbv2_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"overcast/internal/awstest"
	"overcast/internal/clock"
)

// fixture is a running overcast with its default network, and a fake
// clock driving the health checks.
type fixture struct {
	srv     *awstest.Server
	clock   *clock.Fake
	elb     *elb.Client
	vpc     string
	subnets []string
}

func start(t *testing.T) *fixture {
	t.Helper()
	srv, clk := awstest.StartAt(t, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))
	f := &fixture{srv: srv, clock: clk, elb: elb.NewFromConfig(srv.Config())}
	out := awstest.Call(t, ec2.NewFromConfig(srv.Config()).DescribeSubnets, &ec2.DescribeSubnetsInput{})
	for _, sn := range out.Subnets {
		f.subnets = append(f.subnets, aws.ToString(sn.SubnetId))
		f.vpc = aws.ToString(sn.VpcId)
	}
	return f
}

// freePort is a loopback port nothing listens on now: listeners of the
// tests' load balancers are served there.
func freePort(t *testing.T) int32 { return int32(awstest.FreePort(t)) }

func (f *fixture) loadBalancer(t *testing.T, name string) types.LoadBalancer {
	t.Helper()
	out := awstest.Call(t, f.elb.CreateLoadBalancer, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: f.subnets})
	return out.LoadBalancers[0]
}

func (f *fixture) targetGroup(t *testing.T, name string, mutate ...func(*elb.CreateTargetGroupInput)) string {
	t.Helper()
	in := &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		VpcId: aws.String(f.vpc), TargetType: types.TargetTypeEnumIp}
	for _, m := range mutate {
		m(in)
	}
	out := awstest.Call(t, f.elb.CreateTargetGroup, in)
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func forwardTo(tg string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
}

func (f *fixture) listener(t *testing.T, lbARN string, port int32, actions []types.Action) string {
	t.Helper()
	out := awstest.Call(t, f.elb.CreateListener, &elb.CreateListenerInput{LoadBalancerArn: aws.String(lbARN),
		Protocol: types.ProtocolEnumHttp, Port: aws.Int32(port), DefaultActions: actions})
	return aws.ToString(out.Listeners[0].ListenerArn)
}

// backend is a target: an HTTP server on loopback that answers with its
// name and records what it was sent.
type backend struct {
	*httptest.Server
	name    string
	healthy atomic.Bool
	checks  atomic.Int32 // health checks received
	mu      sync.Mutex
	seen    []*http.Request
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name}
	b.healthy.Store(true)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == "ELB-HealthChecker/2.0" {
			b.checks.Add(1)
			if !b.healthy.Load() {
				w.WriteHeader(http.StatusInternalServerError)
			}
			return
		}
		b.mu.Lock()
		b.seen = append(b.seen, r)
		b.mu.Unlock()
		fmt.Fprint(w, b.name)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) port() int32 {
	u, _ := url.Parse(b.URL)
	p, _ := strconv.Atoi(u.Port())
	return int32(p)
}

func (b *backend) served() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.seen)
}

func (b *backend) last() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[len(b.seen)-1]
}

func (f *fixture) register(t *testing.T, tg string, bs ...*backend) {
	t.Helper()
	var targets []types.TargetDescription
	for _, b := range bs {
		targets = append(targets, types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(b.port())})
	}
	awstest.Call(t, f.elb.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tg), Targets: targets})
}

// waitHealth waits until every target of the group is in state.
func (f *fixture) waitHealth(t *testing.T, tg string, state types.TargetHealthStateEnum) {
	t.Helper()
	awstest.WaitFor(t, "targets "+string(state), func() bool {
		out, err := f.elb.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil || len(out.TargetHealthDescriptions) == 0 {
			return false
		}
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth.State != state {
				return false
			}
		}
		return true
	})
}

// get sends a request to a listener address with a Host header.
func get(t *testing.T, addr, host, path string, header http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", addr+path, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func addr(port int32) string { return "127.0.0.1:" + strconv.Itoa(int(port)) }

func TestServesThroughDNSNameAndOwnAddress(t *testing.T) {
	f := start(t)
	lb := f.loadBalancer(t, "web")
	if got := aws.ToString(lb.DNSName); !strings.HasPrefix(got, "web-") || !strings.HasSuffix(got, ".us-east-1.elb.localhost") {
		t.Errorf("got DNSName %q, want web-<digits>.us-east-1.elb.localhost", got)
	}
	if lb.State.Code != types.LoadBalancerStateEnumProvisioning {
		t.Errorf("got state %s on create, want provisioning", lb.State.Code)
	}
	tg := f.targetGroup(t, "web")
	b := newBackend(t, "a")
	f.register(t, tg, b)
	port := freePort(t)
	f.listener(t, aws.ToString(lb.LoadBalancerArn), port, forwardTo(tg))
	f.waitHealth(t, tg, types.TargetHealthStateEnumHealthy)

	if code, body, _ := get(t, addr(port), aws.ToString(lb.DNSName), "/", nil); code != 200 || body != "a" {
		t.Errorf("through the DNS name: got %d %q, want 200 \"a\"", code, body)
	}
	// The load balancer's own addresses, one per subnet, need no Host.
	ips := f.ownAddresses(t, aws.ToString(lb.LoadBalancerArn))
	if len(ips) != 3 {
		t.Fatalf("got %d interfaces for the load balancer, want 3", len(ips))
	}
	for _, ip := range ips {
		if code, body, _ := get(t, net.JoinHostPort(ip, strconv.Itoa(int(port))), "", "/", nil); code != 200 || body != "a" {
			t.Errorf("through %s: got %d %q, want 200 \"a\"", ip, code, body)
		}
	}
	// overcast's own port serves the DNS name too, with the first listener.
	if code, body, _ := get(t, strings.TrimPrefix(f.srv.URL, "http://"), aws.ToString(lb.DNSName), "/", nil); code != 200 || body != "a" {
		t.Errorf("through overcast's port: got %d %q, want 200 \"a\"", code, body)
	}
	out := awstest.Call(t, f.elb.DescribeLoadBalancers, &elb.DescribeLoadBalancersInput{Names: []string{"web"}})
	if got := out.LoadBalancers[0].State.Code; got != types.LoadBalancerStateEnumActive {
		t.Errorf("got state %s on describe, want active", got)
	}
}

// ownAddresses are the private addresses of the requester-managed
// interfaces EC2 reports for a load balancer.
func (f *fixture) ownAddresses(t *testing.T, lbARN string) []string {
	t.Helper()
	parts := strings.Split(lbARN, ":loadbalancer/")
	out := awstest.Call(t, ec2.NewFromConfig(f.srv.Config()).DescribeNetworkInterfaces, &ec2.DescribeNetworkInterfacesInput{})
	var ips []string
	for _, n := range out.NetworkInterfaces {
		if aws.ToString(n.Description) == "ELB "+parts[1] {
			ips = append(ips, aws.ToString(n.PrivateIpAddress))
		}
	}
	return ips
}
