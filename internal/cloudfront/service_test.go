package cloudfront

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
)

// recordingEdge is an Edge that records what it is asked and, while held,
// keeps deployments waiting: the test sees a distribution InProgress for
// as long as it likes, without timing.
type recordingEdge struct {
	mu          sync.Mutex
	deployed    map[string]*edge.Distribution
	invalidated [][]string
	hold        chan struct{} // while open, Deploy waits
}

func newRecordingEdge() *recordingEdge {
	return &recordingEdge{deployed: map[string]*edge.Distribution{}}
}

func (e *recordingEdge) Deploy(ctx context.Context, d *edge.Distribution) error {
	e.mu.Lock()
	hold := e.hold
	e.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deployed[d.ID] = d
	return nil
}

func (e *recordingEdge) Remove(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.deployed, id)
	return nil
}

func (e *recordingEdge) Invalidate(_ context.Context, id string, paths []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.invalidated = append(e.invalidated, append([]string{id}, paths...))
	return nil
}

func (e *recordingEdge) Serves(string) bool                           { return false }
func (e *recordingEdge) ServeHTTP(http.ResponseWriter, *http.Request) {}

func (e *recordingEdge) get(id string) *edge.Distribution {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.deployed[id]
}

var ctx = context.Background()

func minimalConfig(ref string) *api.DistributionConfig {
	return &api.DistributionConfig{
		CallerReference: new(ref), Comment: new(""), Enabled: new(true),
		Origins: &api.Origins{Quantity: new(int32(1)), Items: []api.Origin{{Id: new("o"), DomainName: new("127.0.0.1"),
			CustomOriginConfig: &api.CustomOriginConfig{HTTPPort: new(int32(80)), HTTPSPort: new(int32(443)), OriginProtocolPolicy: new("http-only")}}}},
		DefaultCacheBehavior: &api.DefaultCacheBehavior{TargetOriginId: new("o"), ViewerProtocolPolicy: new("allow-all"),
			CachePolicyId: new("658327ea-f89d-4fab-a63d-7e88639e58f6")},
	}
}

func status(t *testing.T, s *Service, id string) string {
	t.Helper()
	out, err := s.GetDistribution(ctx, &api.GetDistributionRequest{Id: &id})
	if err != nil {
		t.Fatal(err)
	}
	return *out.Distribution.Status
}

func TestInProgressUntilTheEdgeServesIt(t *testing.T) {
	env := servicetest.Env(t)
	e := newRecordingEdge()
	e.hold = make(chan struct{})
	s := New(env, Options{Edge: e})
	env.Controllers.Start()

	out, err := s.CreateDistribution(ctx, &api.CreateDistributionRequest{DistributionConfig: minimalConfig("r")})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.Distribution.Id
	if got := status(t, s, id); got != "InProgress" {
		t.Errorf("got Status %s while the edge deploys, want InProgress", got)
	}
	close(e.hold)
	servicetest.WaitFor(t, "Deployed", func() bool { return status(t, s, id) == "Deployed" })

	d := e.get(id)
	if d == nil {
		t.Fatal("the edge was never handed the distribution")
	}
	got := []string{d.ARN, d.DomainName, d.Account}
	want := []string{"arn:aws:cloudfront::000000000000:distribution/" + id, *out.Distribution.DomainName, "000000000000"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("deployed distribution diff (-got +want):\n%s", diff)
	}
	if d.CachePolicies["658327ea-f89d-4fab-a63d-7e88639e58f6"] == nil {
		t.Errorf("got cache policies %v, want the managed CachingOptimized resolved", d.CachePolicies)
	}
}

func TestRestartDeploysAgain(t *testing.T) {
	dir := t.TempDir()
	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, Options{Edge: newRecordingEdge()})
	env.Controllers.Start()
	out, err := s.CreateDistribution(ctx, &api.CreateDistributionRequest{DistributionConfig: minimalConfig("r")})
	if err != nil {
		t.Fatal(err)
	}
	id := *out.Distribution.Id
	servicetest.WaitFor(t, "Deployed", func() bool { return status(t, s, id) == "Deployed" })
	env.Controllers.Stop()
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}

	restarted := servicetest.Env(t, servicetest.InDir(dir))
	e := newRecordingEdge()
	New(restarted, Options{Edge: e})
	restarted.Controllers.Start()
	servicetest.WaitFor(t, "deployed again after a restart", func() bool { return e.get(id) != nil })
}

// fakeTester answers TestFunction as the functions runtime would.
type fakeTester struct{ got []byte }

func (f *fakeTester) Test(_ context.Context, runtime string, code []byte, event []byte) (TestOutput, error) {
	f.got = code
	if string(event) == "fail" {
		return TestOutput{}, errors.New("runtime broke")
	}
	return TestOutput{Output: event, Logs: []string{runtime}, ComputeUtilization: "12"}, nil
}

func newFunctionService(t *testing.T, tester FunctionTester) (*Service, *service.Env, *recordingEdge) {
	t.Helper()
	env := servicetest.Env(t)
	e := newRecordingEdge()
	s := New(env, Options{Edge: e, Functions: tester})
	env.Controllers.Start()
	return s, env, e
}

func TestFunctionStages(t *testing.T) {
	tester := &fakeTester{}
	s, _, e := newFunctionService(t, tester)
	cfg := &api.FunctionConfig{Comment: new(""), Runtime: new("cloudfront-js-2.0")}
	created, err := s.CreateFunction(ctx, &api.CreateFunctionRequest{Name: new("f"), FunctionConfig: cfg, FunctionCode: []byte("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DescribeFunction(ctx, &api.DescribeFunctionRequest{Name: new("f"), Stage: new("LIVE")}); !isCode(err, "NoSuchFunctionExists") {
		t.Errorf("DescribeFunction LIVE before publishing: got %v, want NoSuchFunctionExists", err)
	}
	updated, err := s.UpdateFunction(ctx, &api.UpdateFunctionRequest{Name: new("f"), IfMatch: created.ETag, FunctionConfig: cfg, FunctionCode: []byte("v2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishFunction(ctx, &api.PublishFunctionRequest{Name: new("f"), IfMatch: created.ETag}); !isCode(err, "PreconditionFailed") {
		t.Errorf("PublishFunction with a stale ETag: got %v, want PreconditionFailed", err)
	}
	published, err := s.PublishFunction(ctx, &api.PublishFunctionRequest{Name: new("f"), IfMatch: updated.ETag})
	if err != nil {
		t.Fatal(err)
	}
	live, err := s.GetFunction(ctx, &api.GetFunctionRequest{Name: new("f"), Stage: new("LIVE")})
	if err != nil || string(live.FunctionCode) != "v2" {
		t.Fatalf("GetFunction LIVE: got %q, %v; want v2", string(live.FunctionCode), err)
	}

	dist := minimalConfig("with-function")
	dist.DefaultCacheBehavior.FunctionAssociations = &api.FunctionAssociations{Quantity: new(int32(1)), Items: []api.FunctionAssociation{{
		FunctionARN: published.FunctionSummary.FunctionMetadata.FunctionARN, EventType: new("viewer-request")}}}
	d, err := s.CreateDistribution(ctx, &api.CreateDistributionRequest{DistributionConfig: dist})
	if err != nil {
		t.Fatal(err)
	}
	servicetest.WaitFor(t, "deployed with the function", func() bool {
		got := e.get(*d.Distribution.Id)
		return got != nil && string(got.Functions[*published.FunctionSummary.FunctionMetadata.FunctionARN].Code) == "v2"
	})
	desc, _ := s.DescribeFunction(ctx, &api.DescribeFunctionRequest{Name: new("f")})
	if err := s.DeleteFunction(ctx, &api.DeleteFunctionRequest{Name: new("f"), IfMatch: desc.ETag}); !isCode(err, "FunctionInUse") {
		t.Errorf("DeleteFunction in use: got %v, want FunctionInUse", err)
	}

	result, err := s.TestFunction(ctx, &api.TestFunctionRequest{Name: new("f"), IfMatch: desc.ETag, EventObject: []byte(`{"version":"1.0"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{*result.TestResult.FunctionOutput, *result.TestResult.ComputeUtilization, string(tester.got)}; !cmp.Equal(got, []string{`{"version":"1.0"}`, "12", "v2"}) {
		t.Errorf("TestResult: got output, utilization, code %q", got)
	}
	if _, err := s.TestFunction(ctx, &api.TestFunctionRequest{Name: new("f"), IfMatch: desc.ETag, EventObject: []byte("fail")}); !isCode(err, "TestFunctionFailed") {
		t.Errorf("TestFunction whose runtime fails: got %v, want TestFunctionFailed", err)
	}
}

func TestTestFunctionWithoutRuntime(t *testing.T) {
	s, _, _ := newFunctionService(t, nil)
	_, err := s.TestFunction(ctx, &api.TestFunctionRequest{Name: new("f"), IfMatch: new("E1"), EventObject: []byte("{}")})
	if !isCode(err, "NotImplemented") {
		t.Errorf("got %v, want NotImplemented", err)
	}
}

func isCode(err error, code string) bool {
	var e interface{ ErrorCode() string }
	return errors.As(err, &e) && e.ErrorCode() == code
}

func TestInvalidationResumesAfterRestart(t *testing.T) {
	dir := t.TempDir()
	env := servicetest.Env(t, servicetest.InDir(dir))
	s := New(env, Options{Edge: newRecordingEdge()}) // its controllers never start: the invalidation stays InProgress
	d, err := s.CreateDistribution(ctx, &api.CreateDistributionRequest{DistributionConfig: minimalConfig("r")})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.CreateInvalidation(ctx, &api.CreateInvalidationRequest{DistributionId: d.Distribution.Id,
		InvalidationBatch: &api.InvalidationBatch{CallerReference: new("i"), Paths: &api.Paths{Quantity: new(int32(1)), Items: []string{"/*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Close(); err != nil {
		t.Fatal(err)
	}

	restarted := servicetest.Env(t, servicetest.InDir(dir))
	e := newRecordingEdge()
	s = New(restarted, Options{Edge: e})
	restarted.Controllers.Start()
	servicetest.WaitFor(t, "invalidation completed after a restart", func() bool {
		got, err := s.GetInvalidation(ctx, &api.GetInvalidationRequest{DistributionId: d.Distribution.Id, Id: inv.Invalidation.Id})
		return err == nil && *got.Invalidation.Status == "Completed"
	})
	e.mu.Lock()
	defer e.mu.Unlock()
	if diff := cmp.Diff(e.invalidated, [][]string{{*d.Distribution.Id, "/*"}}); diff != "" {
		t.Errorf("invalidations the edge got, diff (-got +want):\n%s", diff)
	}
}
