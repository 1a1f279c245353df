package codebuild

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	api "overcast/internal/api/codebuild"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

// fakeRunner plays a build the way the runner reports one: PROVISIONING,
// a BUILD that ends as status says, the log, and an exported variable.
// With block set it waits in BUILD until the build is stopped.
type fakeRunner struct {
	status string
	block  bool

	mu     sync.Mutex
	builds []runner.Build
	params []string
}

func (f *fakeRunner) Run(ctx context.Context, b runner.Build, h runner.Hooks, o runner.Observer) (runner.Result, error) {
	f.mu.Lock()
	f.builds = append(f.builds, b)
	f.mu.Unlock()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Phase(runner.Phase{Type: runner.PhaseProvisioning, Start: at})
	o.Phase(runner.Phase{Type: runner.PhaseProvisioning, Status: runner.StatusSucceeded, Start: at, End: at.Add(2 * time.Second)})
	o.Phase(runner.Phase{Type: runner.PhaseBuild, Start: at.Add(2 * time.Second)})
	for _, v := range b.Env {
		if v.Type == runner.EnvParameterStore {
			value, err := h.Parameter(ctx, v.Value)
			if err != nil {
				return runner.Result{}, err
			}
			f.mu.Lock()
			f.params = append(f.params, value)
			f.mu.Unlock()
		}
	}
	o.Log([]byte("[Container] Running command echo hi\nhi\n"))
	o.Log([]byte("no newline"))
	status := f.status
	if f.block {
		<-ctx.Done()
		status = runner.StatusStopped
	}
	ended := runner.Phase{Type: runner.PhaseBuild, Status: status, Start: at.Add(2 * time.Second), End: at.Add(5 * time.Second)}
	if status == runner.StatusFailed {
		ended.Contexts = []runner.PhaseContext{{StatusCode: "COMMAND_EXECUTION_ERROR", Message: "Error while executing command: false. Reason: exit status 1"}}
	}
	o.Phase(ended)
	return runner.Result{Status: status, ExportedVariables: []runner.EnvVar{{Name: "OUT", Value: "42"}}, ResolvedSourceVersion: "abc123"}, nil
}

type fakeParameters map[string]string

func (p fakeParameters) Parameter(ctx context.Context, account, region, name string) (string, error) {
	return p[name], nil
}

type fakeLogs struct {
	mu    sync.Mutex
	lines map[string][]string // by group/stream
}

func (l *fakeLogs) Append(ctx context.Context, account, region, group, stream string, at time.Time, lines []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines[group+"/"+stream] = append(l.lines[group+"/"+stream], lines...)
	return nil
}

type fakeMetrics struct {
	mu   sync.Mutex
	data []Metric
}

func (m *fakeMetrics) Put(ctx context.Context, account, region string, data []Metric) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data = append(m.data, data...)
	return nil
}

type harness struct {
	s       *Service
	env     *service.Env
	ctx     context.Context
	logs    *fakeLogs
	metrics *fakeMetrics
}

func newHarness(t *testing.T, r Runner, capacity int) *harness {
	t.Helper()
	return newHarnessWith(t, Options{Runner: r, Capacity: capacity})
}

// newHarnessWith is a harness whose service has opts, with fake logs,
// metrics and parameters.
func newHarnessWith(t *testing.T, opts Options) *harness {
	t.Helper()
	env := servicetest.Env(t)
	h := &harness{env: env, ctx: overcast.WithCaller(context.Background(), overcast.RootCaller("111122223333", "eu-west-1")),
		logs: &fakeLogs{lines: map[string][]string{}}, metrics: &fakeMetrics{}}
	opts.Logs, opts.Metrics, opts.Parameters = h.logs, h.metrics, fakeParameters{"/app/greeting": "hello"}
	h.s = New(env, opts)
	t.Cleanup(func() { h.s.Close() })
	env.Controllers.Start()
	return h
}

func (h *harness) project(t *testing.T, name string, change func(*api.CreateProjectInput)) {
	t.Helper()
	in := &api.CreateProjectInput{Name: &name,
		Source:    &api.ProjectSource{Type: new("NO_SOURCE"), Buildspec: new("version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n")},
		Artifacts: &api.ProjectArtifacts{Type: new("NO_ARTIFACTS")},
		Environment: &api.ProjectEnvironment{Type: new("LINUX_CONTAINER"), ComputeType: new("BUILD_GENERAL1_SMALL"), Image: new("local/builder"),
			EnvironmentVariables: api.EnvironmentVariables{{Name: new("GREETING"), Value: new("/app/greeting"), Type: new("PARAMETER_STORE")}}},
		ServiceRole: new("codebuild-role"),
	}
	if change != nil {
		change(in)
	}
	if _, err := h.s.CreateProject(h.ctx, in); err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
}

func (h *harness) start(t *testing.T, in *api.StartBuildInput) api.Build {
	t.Helper()
	out, err := h.s.StartBuild(h.ctx, in)
	if err != nil {
		t.Fatalf("StartBuild: %v", err)
	}
	return *out.Build
}

func (h *harness) get(t *testing.T, id string) api.Build {
	t.Helper()
	out, err := h.s.BatchGetBuilds(h.ctx, &api.BatchGetBuildsInput{Ids: []string{id}})
	if err != nil || len(out.Builds) != 1 {
		t.Fatalf("BatchGetBuilds %s: %v, %d builds", id, err, len(out.Builds))
	}
	return out.Builds[0]
}

func (h *harness) waitStatus(t *testing.T, id, status string) api.Build {
	t.Helper()
	servicetest.WaitFor(t, id+" "+status, func() bool { return service.Deref(h.get(t, id).BuildStatus) == status })
	return h.get(t, id)
}

func phaseSequence(b api.Build) []string {
	return service.Map(b.Phases, func(p api.BuildPhase) string { return *p.PhaseType + ":" + service.Deref(p.PhaseStatus) })
}

func TestBuildRunsToCompletion(t *testing.T) {
	r := &fakeRunner{status: runner.StatusSucceeded}
	h := newHarness(t, r, 0)
	h.project(t, "app", nil)
	states := subscribe(t, h.env.Bus, buildStateChange)

	started := h.start(t, &api.StartBuildInput{ProjectName: new("app"), SourceVersion: new("main"),
		EnvironmentVariablesOverride: api.EnvironmentVariables{{Name: new("STAGE"), Value: new("prod")}}})
	if got, want := *started.Id, "app:"; got[:len(want)] != want {
		t.Errorf("build id %q does not start with %q", got, want)
	}
	if got := *started.BuildNumber; got != 1 {
		t.Errorf("buildNumber: got %d, want 1", got)
	}
	b := h.waitStatus(t, *started.Id, statusSucceeded)

	want := []string{"SUBMITTED:SUCCEEDED", "QUEUED:SUCCEEDED", "PROVISIONING:SUCCEEDED", "BUILD:SUCCEEDED", "COMPLETED:"}
	if diff := cmp.Diff(want, phaseSequence(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if got := *b.Phases[2].DurationInSeconds; got != 2 {
		t.Errorf("PROVISIONING duration: got %d, want 2", got)
	}
	if !*b.BuildComplete || *b.CurrentPhase != "COMPLETED" || *b.ResolvedSourceVersion != "abc123" {
		t.Errorf("complete, current phase, resolved version: got %v %q %q", *b.BuildComplete, *b.CurrentPhase, *b.ResolvedSourceVersion)
	}
	if diff := cmp.Diff(api.ExportedEnvironmentVariables{{Name: new("OUT"), Value: new("42")}}, b.ExportedEnvironmentVariables,
		cmp.Comparer(func(a, b api.ExportedEnvironmentVariable) bool { return *a.Name == *b.Name && *a.Value == *b.Value })); diff != "" {
		t.Errorf("exported variables (-want +got):\n%s", diff)
	}

	rb := r.builds[0]
	for k, v := range map[string]string{"CODEBUILD_BUILD_ID": *b.Id, "CODEBUILD_BUILD_NUMBER": "1", "CODEBUILD_SOURCE_VERSION": "main",
		"CODEBUILD_INITIATOR": "root", "AWS_REGION": "eu-west-1", "CODEBUILD_BUILD_ARN": *b.Arn} {
		if rb.System[k] != v {
			t.Errorf("%s: got %q, want %q", k, rb.System[k], v)
		}
	}
	if diff := cmp.Diff([]runner.EnvVar{{Name: "GREETING", Value: "/app/greeting", Type: "PARAMETER_STORE"}, {Name: "STAGE", Value: "prod", Type: "PLAINTEXT"}}, rb.Env); diff != "" {
		t.Errorf("build variables (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hello"}, r.params); diff != "" {
		t.Errorf("parameters read (-want +got):\n%s", diff)
	}

	stream := "/aws/codebuild/app/" + *b.Logs.StreamName
	if diff := cmp.Diff([]string{"[Container] Running command echo hi", "hi", "no newline"}, h.logs.lines[stream]); diff != "" {
		t.Errorf("log lines in %s (-want +got):\n%s", stream, diff)
	}

	var statuses []string
	for len(statuses) < 2 {
		ev := <-states
		var d struct {
			Status  string `json:"build-status"`
			Project string `json:"project-name"`
			BuildID string `json:"build-id"`
		}
		json.Unmarshal(ev.Detail, &d)
		if d.Project != "app" || d.BuildID != *b.Arn {
			t.Errorf("event names %q %q, want app and %s", d.Project, d.BuildID, *b.Arn)
		}
		statuses = append(statuses, d.Status)
	}
	if diff := cmp.Diff([]string{"IN_PROGRESS", "SUCCEEDED"}, statuses); diff != "" {
		t.Errorf("build state changes (-want +got):\n%s", diff)
	}

	servicetest.WaitFor(t, "metrics", func() bool {
		h.metrics.mu.Lock()
		defer h.metrics.mu.Unlock()
		return len(h.metrics.data) > 0
	})
	got := map[string]float64{}
	for _, m := range h.metrics.data {
		got[m.Name+"/"+m.Dimensions["ProjectName"]] = m.Value
	}
	for _, name := range []string{"Builds/", "Builds/app", "SucceededBuilds/app", "BuildDuration/app"} {
		if _, ok := got[name]; !ok {
			t.Errorf("metric %s not published; got %v", name, got)
		}
	}
}

func subscribe(t *testing.T, b *bus.Bus, detailType string) <-chan bus.Event {
	t.Helper()
	events := make(chan bus.Event, 32)
	sub, err := b.Subscribe(context.Background(), "test-"+detailType, bus.Pattern{Source: eventSource, Types: []string{detailType}},
		func(_ context.Context, ev bus.Event) error { events <- ev; return nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	return events
}

func TestFailedBuildKeepsThePhaseContext(t *testing.T) {
	h := newHarness(t, &fakeRunner{status: runner.StatusFailed}, 0)
	h.project(t, "app", nil)
	b := h.waitStatus(t, *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id, statusFailed)
	build := b.Phases[3]
	if *build.PhaseType != "BUILD" || len(build.Contexts) != 1 || *build.Contexts[0].StatusCode != "COMMAND_EXECUTION_ERROR" {
		t.Errorf("BUILD phase: got %s with contexts %v", *build.PhaseType, build.Contexts)
	}
}

func TestStopBuild(t *testing.T) {
	h := newHarness(t, &fakeRunner{block: true}, 0)
	h.project(t, "app", nil)
	id := *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id
	servicetest.WaitFor(t, "the build to run", func() bool { return service.Deref(h.get(t, id).CurrentPhase) == "BUILD" })
	if _, err := h.s.StopBuild(h.ctx, &api.StopBuildInput{Id: &id}); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(t, id, statusStopped)
}

func TestBuildsQueueForCapacityAndProjectLimit(t *testing.T) {
	h := newHarness(t, &fakeRunner{block: true}, 1)
	h.project(t, "app", func(in *api.CreateProjectInput) { in.ConcurrentBuildLimit = new(int32(2)) })
	first := *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id
	second := *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id
	_, err := h.s.StartBuild(h.ctx, &api.StartBuildInput{ProjectName: new("app")})
	if apiErr, ok := awsproto.AsAPIError(err); !ok || apiErr.ErrorCode() != "AccountLimitExceededException" {
		t.Errorf("a third build: got %v, want AccountLimitExceededException", err)
	}
	servicetest.WaitFor(t, "the first build to run", func() bool { return service.Deref(h.get(t, first).CurrentPhase) == "BUILD" })
	if got := service.Deref(h.get(t, second).CurrentPhase); got != "QUEUED" {
		t.Errorf("second build with the machine's one slot taken: got phase %s, want QUEUED", got)
	}
	h.s.StopBuild(h.ctx, &api.StopBuildInput{Id: &first})
	servicetest.WaitFor(t, "the second build to run", func() bool { return service.Deref(h.get(t, second).CurrentPhase) == "BUILD" })
	h.s.StopBuild(h.ctx, &api.StopBuildInput{Id: &second})
	h.waitStatus(t, second, statusStopped)
}

// TestBuildRunningAtRestartIsLost: a build the runner had when overcast
// stopped ends FAULT, with the reason in its phase's context.
func TestBuildRunningAtRestartIsLost(t *testing.T) {
	h := newHarness(t, nil, 0) // no runner: builds stay queued
	h.project(t, "app", nil)
	id := *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id
	key := overcast.ScopeOf(h.ctx).Key(id)
	err := h.env.Store.Update(context.Background(), func(tx store.Tx) error {
		b, v, err := getBuild(tx, key)
		if err != nil {
			return err
		}
		b.Started = true
		startPhase(&b.Build, runner.Phase{Type: runner.PhaseBuild, Start: h.s.Now()})
		_, err = store.PutJSON(tx, buildsTable, key, b, v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	h.s.builds.Enqueue(key) // what a restart's first pass does
	b := h.waitStatus(t, id, statusFault)
	last := b.Phases[len(b.Phases)-2]
	if *last.PhaseType != "BUILD" || *last.PhaseStatus != statusFault || len(last.Contexts) != 1 {
		t.Errorf("the lost phase: got %s %s %v", *last.PhaseType, *last.PhaseStatus, last.Contexts)
	}
}

func TestListAndDeleteBuilds(t *testing.T) {
	h := newHarness(t, &fakeRunner{status: runner.StatusSucceeded}, 0)
	h.project(t, "app", nil)
	h.project(t, "other", nil)
	clk := servicetest.Fake(h.env)
	var ids []string
	for _, p := range []string{"app", "other", "app"} {
		clk.Advance(time.Second)
		ids = append(ids, *h.start(t, &api.StartBuildInput{ProjectName: &p}).Id)
	}
	for _, id := range ids {
		h.waitStatus(t, id, statusSucceeded)
	}
	all, err := h.s.ListBuilds(h.ctx, &api.ListBuildsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ids[2], ids[1], ids[0]}, []string(all.Ids)); diff != "" {
		t.Errorf("ListBuilds, newest first (-want +got):\n%s", diff)
	}
	app, err := h.s.ListBuildsForProject(h.ctx, &api.ListBuildsForProjectInput{ProjectName: new("app"), SortOrder: new("ASCENDING")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ids[0], ids[2]}, []string(app.Ids)); diff != "" {
		t.Errorf("ListBuildsForProject ascending (-want +got):\n%s", diff)
	}
	if got := *h.get(t, ids[2]).BuildNumber; got != 2 {
		t.Errorf("app's second build number: got %d, want 2", got)
	}
	del, err := h.s.BatchDeleteBuilds(h.ctx, &api.BatchDeleteBuildsInput{Ids: []string{ids[0], "app:nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.BuildsDeleted) != 1 || len(del.BuildsNotDeleted) != 1 {
		t.Errorf("BatchDeleteBuilds: got deleted %v, not deleted %d", del.BuildsDeleted, len(del.BuildsNotDeleted))
	}
}

// TestQueuedTimeout: a build that waits in QUEUED past its
// queuedTimeoutInMinutes ends TIMED_OUT there.
func TestQueuedTimeout(t *testing.T) {
	h := newHarness(t, &fakeRunner{block: true}, 1)
	h.project(t, "app", nil)
	first := *h.start(t, &api.StartBuildInput{ProjectName: new("app")}).Id
	servicetest.WaitFor(t, "the first build to run", func() bool { return service.Deref(h.get(t, first).CurrentPhase) == "BUILD" })
	second := *h.start(t, &api.StartBuildInput{ProjectName: new("app"), QueuedTimeoutInMinutesOverride: new(int32(5))}).Id
	servicetest.Fake(h.env).Advance(5 * time.Minute)
	b := h.waitStatus(t, second, statusTimedOut)
	if diff := cmp.Diff([]string{"SUBMITTED:SUCCEEDED", "QUEUED:TIMED_OUT", "COMPLETED:"}, phaseSequence(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	h.s.StopBuild(h.ctx, &api.StopBuildInput{Id: &first})
	h.waitStatus(t, first, statusStopped)
}

func TestCodeCommitRoute(t *testing.T) {
	const clone = "http://git-codecommit.eu-west-1.amazonaws.com.localhost:4566"
	tests := []struct {
		name, cloneBase, endpoint  string
		wantFrom, wantTo, wantHost string
		wantOK                     bool
	}{
		{"endpoint by address", clone, "http://169.254.170.2", clone + "/v1/repos/",
			"http://git-codecommit.eu-west-1.amazonaws.com/v1/repos/", "git-codecommit.eu-west-1.amazonaws.com:169.254.170.2", true},
		{"endpoint with a port", clone, "http://172.17.0.1:4566/", clone + "/v1/repos/",
			"http://git-codecommit.eu-west-1.amazonaws.com:4566/v1/repos/", "git-codecommit.eu-west-1.amazonaws.com:172.17.0.1", true},
		{"endpoint by name", clone, "http://overcast.internal:4566", clone + "/v1/repos/",
			"http://overcast.internal:4566/v1/repos/", "", true},
		{"clone URLs are the endpoint's", "http://10.0.0.5:4566", "http://10.0.0.5:4566/", "", "", "", false},
		{"no endpoint", clone, "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, host, ok := codeCommitRoute(tt.cloneBase, tt.endpoint, "eu-west-1")
			if from != tt.wantFrom || to != tt.wantTo || host != tt.wantHost || ok != tt.wantOK {
				t.Errorf("got (%q, %q, %q, %v), want (%q, %q, %q, %v)", from, to, host, ok, tt.wantFrom, tt.wantTo, tt.wantHost, tt.wantOK)
			}
		})
	}
}
