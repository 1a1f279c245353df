package elbv2_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

// service is a load balancer with one listener forwarding to one healthy
// backend by default.
type service struct {
	lb       types.LoadBalancer
	listener string
	port     int32
	tg       string
	backend  *backend
}

func (f *fixture) service(t *testing.T, name string) service {
	t.Helper()
	s := service{lb: f.loadBalancer(t, name), tg: f.targetGroup(t, name), backend: newBackend(t, name), port: freePort(t)}
	f.register(t, s.tg, s.backend)
	s.listener = f.listener(t, aws.ToString(s.lb.LoadBalancerArn), s.port, forwardTo(s.tg))
	f.waitHealth(t, s.tg, types.TargetHealthStateEnumHealthy)
	return s
}

func (s service) get(t *testing.T, path string, header http.Header) (int, string, http.Header) {
	t.Helper()
	return get(t, addr(s.port), aws.ToString(s.lb.DNSName), path, header)
}

func (f *fixture) rule(t *testing.T, listener string, priority int32, actions []types.Action, conditions ...types.RuleCondition) string {
	t.Helper()
	out := awstest.Call(t, f.elb.CreateRule, &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(priority),
		Actions: actions, Conditions: conditions})
	return aws.ToString(out.Rules[0].RuleArn)
}

// healthyGroup is a target group of one healthy backend, in use by a rule
// of the service's listener once the caller adds one.
func (f *fixture) healthyGroup(t *testing.T, name string) (string, *backend) {
	t.Helper()
	tg := f.targetGroup(t, name)
	b := newBackend(t, name)
	f.register(t, tg, b)
	return tg, b
}

func TestRoutesByRulePriority(t *testing.T) {
	f := start(t)
	s := f.service(t, "site")
	api, _ := f.healthyGroup(t, "api")
	admin, _ := f.healthyGroup(t, "admin")
	f.rule(t, s.listener, 20, forwardTo(api), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/api/*"}})
	f.rule(t, s.listener, 10, forwardTo(admin), types.RuleCondition{Field: aws.String("host-header"),
		HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"admin.*"}}})
	f.rule(t, s.listener, 5, forwardTo(admin), types.RuleCondition{Field: aws.String("http-header"),
		HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Canary"), Values: []string{"y?s"}}})
	f.rule(t, s.listener, 30, forwardTo(api),
		types.RuleCondition{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"GET"}}},
		types.RuleCondition{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{
			Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String("2")}}}})
	f.rule(t, s.listener, 40, []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{
		StatusCode: aws.String("418"), ContentType: aws.String("application/json"), MessageBody: aws.String(`{"teapot":true}`)}}},
		types.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"127.0.0.0/8"}}},
		types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/tea"}})
	f.rule(t, s.listener, 50, []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{
		Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}}},
		types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/secure/*"}})

	tests := []struct {
		name, host, path string
		header           http.Header
		wantCode         int
		wantBody         string
		wantLocation     string
	}{
		{name: "default rule", path: "/", wantCode: 200, wantBody: "site"},
		{name: "path pattern", path: "/api/users", wantCode: 200, wantBody: "api"},
		{name: "path pattern is case-sensitive", path: "/API/users", wantCode: 200, wantBody: "site"},
		{name: "host header wins by priority", host: "ADMIN.example.com", path: "/api/users", wantCode: 200, wantBody: "admin"},
		{name: "http header with ?", path: "/", header: http.Header{"X-Canary": {"YES"}}, wantCode: 200, wantBody: "admin"},
		{name: "method and query string", path: "/x?v=2", wantCode: 200, wantBody: "api"},
		{name: "query string must match", path: "/x?v=3", wantCode: 200, wantBody: "site"},
		{name: "fixed response", path: "/tea", wantCode: 418, wantBody: `{"teapot":true}`},
		{name: "redirect", path: "/secure/a?b=c", wantCode: 301, wantLocation: "https://redirect.example.com/secure/a?b=c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.host
			if tt.wantLocation != "" {
				host = "redirect.example.com"
			}
			if host == "" {
				host = aws.ToString(s.lb.DNSName)
			}
			code, body, h := get(t, addr(s.port), host, tt.path, tt.header)
			if code != tt.wantCode || (tt.wantBody != "" && body != tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
			if got := h.Get("Location"); got != tt.wantLocation {
				t.Errorf("got Location %q, want %q", got, tt.wantLocation)
			}
		})
	}
}

func TestWeightedForward(t *testing.T) {
	f := start(t)
	s := f.service(t, "split")
	blue, blueB := f.healthyGroup(t, "blue")
	green, greenB := f.healthyGroup(t, "green")
	weighted := func(wBlue, wGreen int32) []types.Action {
		return []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{
			{TargetGroupArn: aws.String(blue), Weight: aws.Int32(wBlue)}, {TargetGroupArn: aws.String(green), Weight: aws.Int32(wGreen)}}}}}
	}
	awstest.Call(t, f.elb.ModifyListener, &elb.ModifyListenerInput{ListenerArn: aws.String(s.listener), DefaultActions: weighted(0, 1)})
	f.waitHealth(t, green, types.TargetHealthStateEnumHealthy)
	for range 20 {
		if _, body, _ := s.get(t, "/", nil); body != "green" {
			t.Fatalf("weights 0/1: got %q, want green only", body)
		}
	}
	awstest.Call(t, f.elb.ModifyListener, &elb.ModifyListenerInput{ListenerArn: aws.String(s.listener), DefaultActions: weighted(1, 1)})
	f.waitHealth(t, blue, types.TargetHealthStateEnumHealthy)
	before := greenB.served()
	for range 200 {
		s.get(t, "/", nil)
	}
	if blueB.served() == 0 || greenB.served() == before {
		t.Errorf("weights 1/1: got blue %d and green %d requests, want both some", blueB.served(), greenB.served()-before)
	}
	// The old default group is no longer used: its target says so.
	out := awstest.Call(t, f.elb.DescribeTargetHealth, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg)})
	if got := out.TargetHealthDescriptions[0].TargetHealth.Reason; got != types.TargetHealthReasonEnumNotInUse {
		t.Errorf("got reason %q for a group no rule uses, want Target.NotInUse", got)
	}
}

func TestHealthChecksFlipTargets(t *testing.T) {
	f := start(t)
	s := f.service(t, "flip")
	other := newBackend(t, "other")
	f.register(t, s.tg, other)
	f.waitHealth(t, s.tg, types.TargetHealthStateEnumHealthy)

	// One round of checks: every target is checked once more. A check's
	// result is recorded just after the target answers, so states that
	// must change are waited for; states that must not are read at once.
	round := func() {
		t.Helper()
		n1, n2 := s.backend.checks.Load(), other.checks.Load()
		f.clock.Advance(30 * time.Second)
		awstest.WaitFor(t, "a round of health checks", func() bool { return s.backend.checks.Load() > n1 && other.checks.Load() > n2 })
	}
	health := func(b *backend) types.TargetHealth {
		t.Helper()
		out := awstest.Call(t, f.elb.DescribeTargetHealth, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg),
			Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(b.port())}}})
		return *out.TargetHealthDescriptions[0].TargetHealth
	}
	waitState := func(b *backend, state types.TargetHealthStateEnum) {
		t.Helper()
		awstest.WaitFor(t, b.name+" "+string(state), func() bool { return health(b).State == state })
	}
	s.backend.healthy.Store(false)
	round()
	if got := health(s.backend).State; got != types.TargetHealthStateEnumHealthy {
		t.Errorf("after one failed check: got %s, want healthy (the unhealthy threshold is 2)", got)
	}
	round()
	waitState(s.backend, types.TargetHealthStateEnumUnhealthy)
	want := types.TargetHealth{State: types.TargetHealthStateEnumUnhealthy, Reason: types.TargetHealthReasonEnumResponseCodeMismatch,
		Description: aws.String("Health checks failed with these codes: [500]")}
	if diff := cmp.Diff(want, health(s.backend), cmpTargetHealth); diff != "" {
		t.Errorf("after two failed checks (-want +got):\n%s", diff)
	}
	for range 10 {
		if _, body, _ := s.get(t, "/", nil); body != "other" {
			t.Fatalf("got %q from an unhealthy target, want only the healthy one", body)
		}
	}
	other.healthy.Store(false)
	round()
	round()
	waitState(other, types.TargetHealthStateEnumUnhealthy)
	// No target healthy: the load balancer fails open to all of them.
	seen := map[string]bool{}
	for range 10 {
		_, body, _ := s.get(t, "/", nil)
		seen[body] = true
	}
	if !seen["flip"] || !seen["other"] {
		t.Errorf("with every target unhealthy: got answers from %v, want both (fail open)", seen)
	}
	s.backend.healthy.Store(true)
	for range 4 {
		round()
	}
	if got := health(s.backend).State; got != types.TargetHealthStateEnumUnhealthy {
		t.Errorf("after 4 good checks: got %s, want unhealthy (the healthy threshold is 5)", got)
	}
	round()
	waitState(s.backend, types.TargetHealthStateEnumHealthy)
	if got := health(s.backend); got.Reason != "" {
		t.Errorf("after 5 good checks: got reason %s, want none", got.Reason)
	}
}

var cmpTargetHealth = cmp.Comparer(func(a, b types.TargetHealth) bool {
	return a.State == b.State && a.Reason == b.Reason && aws.ToString(a.Description) == aws.ToString(b.Description)
})

func TestDrainingForTheDeregistrationDelay(t *testing.T) {
	f := start(t)
	s := f.service(t, "drain")
	target := types.TargetDescription{Id: aws.String("127.0.0.1"), Port: aws.Int32(s.backend.port())}
	awstest.Call(t, f.elb.DeregisterTargets, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(s.tg), Targets: []types.TargetDescription{target}})
	out := awstest.Call(t, f.elb.DescribeTargetHealth, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg)})
	if got := out.TargetHealthDescriptions[0].TargetHealth; got.State != types.TargetHealthStateEnumDraining ||
		got.Reason != types.TargetHealthReasonEnumDeregistrationInProgress {
		t.Errorf("got %s %s, want draining Target.DeregistrationInProgress", got.State, got.Reason)
	}
	if code, _, _ := s.get(t, "/", nil); code != http.StatusServiceUnavailable {
		t.Errorf("with the only target draining: got %d, want 503", code)
	}
	f.clock.Advance(300 * time.Second)
	awstest.WaitFor(t, "the drain to end", func() bool {
		out, err := f.elb.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg),
			Targets: []types.TargetDescription{target}})
		return err == nil && out.TargetHealthDescriptions[0].TargetHealth.Reason == types.TargetHealthReasonEnumNotRegistered
	})
	out = awstest.Call(t, f.elb.DescribeTargetHealth, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(s.tg)})
	if len(out.TargetHealthDescriptions) != 0 {
		t.Errorf("got %d targets after the drain, want none", len(out.TargetHealthDescriptions))
	}
}

func TestGeneratedErrorResponses(t *testing.T) {
	f := start(t)
	s := f.service(t, "errs")
	page := func(title string) string {
		return "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n</body>\r\n</html>\r\n"
	}

	empty := f.targetGroup(t, "empty")
	f.rule(t, s.listener, 1, forwardTo(empty), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/empty"}})

	refused := f.targetGroup(t, "refused")
	closedPort := freePort(t)
	awstest.Call(t, f.elb.RegisterTargets, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(refused),
		Targets: []types.TargetDescription{{Id: aws.String("127.0.0.1"), Port: aws.Int32(closedPort)}}})
	f.rule(t, s.listener, 2, forwardTo(refused), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/refused"}})

	slowTG := f.targetGroup(t, "slow")
	release := make(chan struct{})
	slow := newBackend(t, "slow")
	slow.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	})
	t.Cleanup(func() { close(release) })
	f.register(t, slowTG, slow)
	f.rule(t, s.listener, 3, forwardTo(slowTG), types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/slow"}})
	f.waitHealth(t, slowTG, types.TargetHealthStateEnumHealthy)
	awstest.Call(t, f.elb.ModifyLoadBalancerAttributes, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: s.lb.LoadBalancerArn,
		Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("1")}}})

	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/empty", 503, page("503 Service Temporarily Unavailable")},
		{"/refused", 502, page("502 Bad Gateway")},
		{"/slow", 504, page("504 Gateway Time-out")},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body, h := s.get(t, tt.path, nil)
			if code != tt.wantCode || body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
			}
			if h.Get("Server") != "awselb/2.0" || h.Get("Content-Type") != "text/html" {
				t.Errorf("got Server %q and Content-Type %q, want awselb/2.0 and text/html", h.Get("Server"), h.Get("Content-Type"))
			}
		})
	}
}

func TestHeadersSeenByTargets(t *testing.T) {
	f := start(t)
	s := f.service(t, "hdrs")
	s.get(t, "/", http.Header{"X-Forwarded-For": {"10.1.2.3"}, "X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}})
	r := s.backend.last()
	got := map[string]string{"X-Forwarded-For": r.Header.Get("X-Forwarded-For"), "X-Forwarded-Proto": r.Header.Get("X-Forwarded-Proto"),
		"X-Forwarded-Port": r.Header.Get("X-Forwarded-Port"), "Host": r.Host}
	want := map[string]string{"X-Forwarded-For": "10.1.2.3, 127.0.0.1", "X-Forwarded-Proto": "http",
		"X-Forwarded-Port": strconv.Itoa(int(s.port)), "Host": aws.ToString(s.lb.DNSName) + ":" + strconv.Itoa(int(s.port))}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	self := regexp.MustCompile(`^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1$`)
	if got := r.Header.Get("X-Amzn-Trace-Id"); !self.MatchString(got) {
		t.Errorf("got X-Amzn-Trace-Id %q, want a Self in front of the client's Root", got)
	}
	s.get(t, "/", nil)
	root := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	if got := s.backend.last().Header.Get("X-Amzn-Trace-Id"); !root.MatchString(got) {
		t.Errorf("got X-Amzn-Trace-Id %q, want Root=1-<8 hex>-<24 hex>", got)
	}
}

func TestListenersComeBackAfterRestart(t *testing.T) {
	f := start(t)
	s := f.service(t, "again")
	f.srv.Restart(t)
	f.elb = elb.NewFromConfig(f.srv.Config())
	f.waitHealth(t, s.tg, types.TargetHealthStateEnumHealthy)
	if code, body, _ := s.get(t, "/", nil); code != 200 || body != "again" {
		t.Errorf("after a restart: got %d %q, want 200 \"again\"", code, body)
	}
}

func TestListenerOnATakenPort(t *testing.T) {
	f := start(t)
	lb := f.loadBalancer(t, "taken")
	tg, _ := f.healthyGroup(t, "taken")
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(holder.Addr().(*net.TCPAddr).Port)
	// The listener is made all the same; its own addresses serve it.
	f.listener(t, aws.ToString(lb.LoadBalancerArn), port, forwardTo(tg))
	f.waitHealth(t, tg, types.TargetHealthStateEnumHealthy)
	ip := f.ownAddresses(t, aws.ToString(lb.LoadBalancerArn))[0]
	if code, body, _ := get(t, net.JoinHostPort(ip, strconv.Itoa(int(port))), "", "/", nil); code != 200 || body != "taken" {
		t.Errorf("through %s: got %d %q, want 200 \"taken\"", ip, code, body)
	}
	holder.Close()
	f.clock.Advance(30 * time.Second)
	awstest.WaitFor(t, "the freed port to be served", func() bool {
		resp, err := http.Get("http://" + addr(port) + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func TestLeastOutstandingRequests(t *testing.T) {
	f := start(t)
	release := make(chan struct{})
	held := make(chan string, 1)
	hold := func(b *backend) {
		b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("User-Agent") == "ELB-HealthChecker/2.0" {
				return
			}
			if r.URL.Path == "/hold" {
				held <- b.name
				<-release
			}
			io.WriteString(w, b.name)
		})
	}
	// The handlers change before the backends see any request.
	s := service{lb: f.loadBalancer(t, "lor"), tg: f.targetGroup(t, "lor"), backend: newBackend(t, "lor"), port: freePort(t)}
	other := newBackend(t, "other")
	hold(s.backend)
	hold(other)
	f.register(t, s.tg, s.backend, other)
	f.listener(t, aws.ToString(s.lb.LoadBalancerArn), s.port, forwardTo(s.tg))
	f.waitHealth(t, s.tg, types.TargetHealthStateEnumHealthy)
	awstest.Call(t, f.elb.ModifyTargetGroupAttributes, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(s.tg),
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("load_balancing.algorithm.type"), Value: aws.String("least_outstanding_requests")}}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		http.Get("http://" + addr(s.port) + "/hold")
	}()
	busy := <-held
	for range 5 {
		if _, body, _ := s.get(t, "/", nil); body == busy {
			t.Errorf("got a request on %s, which has one in flight, want the idle target", busy)
		}
	}
	close(release)
	<-done
}

func TestBodiesAndProtocols(t *testing.T) {
	f := start(t)
	lb := f.loadBalancer(t, "bodies")
	tg := f.targetGroup(t, "bodies")
	echo := newBackend(t, "echo")
	eventRead := make(chan struct{})
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sized": // a HEAD answer tells the length of the body it does not carry
			w.Header().Set("Content-Length", "42")
			return
		case "/events": // a stream: the second event only once the client has the first
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Content-Length", "22")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			<-eventRead
			io.WriteString(w, "data: two\n\n")
			return
		}
		if r.URL.Path == "/framing" { // what the target was told of the request's body and hop-by-hop headers
			fmt.Fprintf(w, "length=%d chunked=%v secret=%q", r.ContentLength, slices.Contains(r.TransferEncoding, "chunked"), r.Header.Get("X-Secret"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush() // no Content-Length: the answer is chunked
		w.Write(body[len(body)/2:])
	})
	f.register(t, tg, echo)
	port := freePort(t)
	f.listener(t, aws.ToString(lb.LoadBalancerArn), port, forwardTo(tg))
	f.waitHealth(t, tg, types.TargetHealthStateEnumHealthy)

	payload := strings.Repeat("0123456789", 10_000)
	for range 2 { // the second on a kept-alive connection
		resp, err := http.Post("http://"+addr(port)+"/echo", "text/plain", strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != payload {
			t.Errorf("POST of %d bytes: got %d with %d bytes back, want 200 and the same bytes", len(payload), resp.StatusCode, len(got))
		}
	}
	// A body of unknown length goes out chunked and comes back whole.
	resp, err := http.Post("http://"+addr(port)+"/echo", "text/plain", io.MultiReader(strings.NewReader(payload)))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != payload {
		t.Errorf("chunked POST of %d bytes: got %d bytes back, want the same bytes", len(payload), len(got))
	}
	for _, tc := range []struct {
		name, request, want string
	}{
		{"empty POST", "POST /framing HTTP/1.1\r\nHost: x\r\n\r\n", `length=0 chunked=false secret=""`},
		{"chunked", "POST /framing HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", `length=-1 chunked=true secret=""`},
		{"header named by Connection", "GET /framing HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n\r\n", `length=0 chunked=false secret=""`},
	} {
		c, err := net.Dial("tcp", addr(port))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, strings.ReplaceAll(tc.request, "Host: x", "Host: "+aws.ToString(lb.DNSName)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if string(body) != tc.want {
			t.Errorf("%s: the target saw %s, want %s", tc.name, body, tc.want)
		}
	}

	// HEAD, then GET on the same connection: the first answer's length
	// does not make the second one wait for a body.
	c2, err := net.Dial("tcp", addr(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	host := aws.ToString(lb.DNSName)
	io.WriteString(c2, "HEAD /sized HTTP/1.1\r\nHost: "+host+"\r\n\r\nGET /framing HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	br := bufio.NewReader(c2)
	head, err := http.ReadResponse(br, &http.Request{Method: http.MethodHead})
	if err != nil || head.ContentLength != 42 {
		t.Fatalf("HEAD: got %v, length %d, want a length of 42", err, head.ContentLength)
	}
	next, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET after HEAD: %v", err)
	}
	if body, _ := io.ReadAll(next.Body); !strings.HasPrefix(string(body), "length=0") {
		t.Errorf("GET after HEAD: got %q", body)
	}

	// An event stream comes through piece by piece.
	resp, err = http.Get("http://" + addr(port) + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, len("data: one\n\n"))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != "data: one\n\n" {
		t.Fatalf("event stream: got %q, %v before the target sent the rest, want the first event", first, err)
	}
	close(eventRead)
	if rest, _ := io.ReadAll(resp.Body); string(rest) != "data: two\n\n" {
		t.Errorf("event stream: got %q after the first event, want the second", rest)
	}
	c, err := net.Dial("tcp", addr(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.0\r\nHost: "+aws.ToString(lb.DNSName)+"\r\n\r\n")
	raw, _ := io.ReadAll(c) // an HTTP/1.0 answer ends with the connection
	if !strings.HasPrefix(string(raw), "HTTP/1.1 200 OK\r\n") {
		t.Errorf("HTTP/1.0 request: got %q, want a 200 that ends with the connection", raw)
	}
}

func TestOversizedHeader(t *testing.T) {
	f := start(t)
	s := f.service(t, "big")
	code, body, _ := s.get(t, "/", http.Header{"X-Big": {strings.Repeat("a", 70<<10)}})
	if code != http.StatusBadRequest || !strings.Contains(body, "400 Bad Request") {
		t.Errorf("a 70 KB header: got %d %q, want ALB's 400 page", code, body)
	}
}

// A target that joins a group in slow start takes a share of requests
// that grows with the time since it became healthy: none at first, about
// half its round-robin share halfway, all of it after the duration.
func TestSlowStart(t *testing.T) {
	f := start(t)
	s := f.service(t, "ramp")
	awstest.Call(t, f.elb.ModifyTargetGroupAttributes, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(s.tg),
		Attributes: []types.TargetGroupAttribute{{Key: aws.String("slow_start.duration_seconds"), Value: aws.String("30")}}})
	f.clock.Advance(time.Minute) // the first target is past its own slow start
	joiner := newBackend(t, "joiner")
	f.register(t, s.tg, joiner)
	f.waitHealth(t, s.tg, types.TargetHealthStateEnumHealthy)
	share := func() float64 {
		n := 0
		for range 400 {
			if _, body, _ := s.get(t, "/", nil); body == "joiner" {
				n++
			}
		}
		return float64(n) / 400
	}
	// Round robin offers the joiner every other request; it takes the
	// offer with a probability of the time since it became healthy over
	// the duration.
	for _, tc := range []struct {
		after    time.Duration
		min, max float64
	}{{0, 0, 0.05}, {15 * time.Second, 0.15, 0.35}, {16 * time.Second, 0.45, 0.55}} {
		f.clock.Advance(tc.after)
		if got := share(); got < tc.min || got > tc.max {
			t.Errorf("%v later: the joiner got %.0f%% of requests, want %.0f%% to %.0f%%", tc.after, got*100, tc.min*100, tc.max*100)
		}
	}
}
