package taskendpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	"overcast/internal/clock"
	"overcast/internal/docker"
	"overcast/internal/ecs/taskendpoint"
)

var start = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// fakeRoles issues numbered credentials lasting an hour.
type fakeRoles struct {
	clock *clock.Fake
	mu    sync.Mutex
	calls []string // account roleARN sessionName
	fail  bool
}

func (f *fakeRoles) TaskRoleCredentials(ctx context.Context, account, principal, roleARN, session string) (overcast.Credentials, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return overcast.Credentials{}, errors.New("sts is down")
	}
	f.calls = append(f.calls, account+" "+roleARN+" "+session)
	n := len(f.calls)
	return overcast.Credentials{SecretAccessKey: fmt.Sprintf("secret%d", n), SessionToken: fmt.Sprintf("token%d", n),
		Expires: f.clock.Now().Add(time.Hour), Caller: overcast.Caller{AccessKeyID: fmt.Sprintf("ASIA%d", n)}}, nil
}

// fakeEngine has stats for the containers it knows, and a network named
// "other" that is not the tasks'.
type fakeEngine map[string]string

func (fakeEngine) InspectNetwork(ctx context.Context, name string) (docker.Network, error) {
	if name == "other" {
		return docker.Network{Name: name, Subnet: "172.30.0.0/16", Gateway: "172.30.0.1"}, nil
	}
	return docker.Network{}, docker.ErrNotFound
}

func (fakeEngine) CreateNetwork(ctx context.Context, spec docker.NetworkSpec) (string, error) {
	return "", errors.New("no networks here")
}

func (f fakeEngine) ContainerStats(ctx context.Context, id string) (docker.Stats, error) {
	raw, ok := f[id]
	if !ok {
		return docker.Stats{}, docker.ErrNotFound
	}
	return docker.Stats{Raw: json.RawMessage(raw)}, nil
}

const (
	taskARN = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef"
	roleARN = "arn:aws:iam::123456789012:role/app"
)

func testTask() taskendpoint.TaskInfo {
	pulled := start.Add(-time.Minute)
	return taskendpoint.TaskInfo{
		ARN: taskARN, Cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/default", Family: "web", Revision: "3",
		TaskRoleArn: roleARN, Account: "123456789012", Region: "us-east-1", AvailabilityZone: "us-east-1a",
		LaunchType: "EC2", DesiredStatus: "RUNNING", KnownStatus: "RUNNING", CPU: 0.25, Memory: 512,
		PullStartedAt: &pulled, PullStoppedAt: &pulled,
		Containers: []taskendpoint.ContainerInfo{
			{Name: "app", DockerID: "c0ffee", DockerName: "ecs-web-3-app", Image: "nginx", ImageID: "sha256:1",
				DesiredStatus: "RUNNING", KnownStatus: "RUNNING", CPU: 256, Memory: 512,
				Ports:    []taskendpoint.Port{{ContainerPort: 80, Protocol: "tcp", HostPort: 32768, HostIP: "127.0.0.1"}},
				Networks: []taskendpoint.Network{{NetworkMode: "bridge", IPv4Addresses: []string{"172.17.0.2"}}}},
			{Name: "sidecar", DesiredStatus: "RUNNING", KnownStatus: "PENDING"},
		},
	}
}

type fixture struct {
	srv   *taskendpoint.Server
	url   string
	roles *fakeRoles
	clock *clock.Fake
}

// newFixture starts an endpoint on loopback, forwarding to api.
func newFixture(t *testing.T, api http.Handler) fixture {
	t.Helper()
	clk := clock.NewFake(start)
	roles := &fakeRoles{clock: clk}
	srv := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Credentials: roles, API: api, Clock: clk,
		Engine: fakeEngine{"c0ffee": `{"read":"2026-12-06T12:00:00Z","pids_stats":{"current":3}}`}, Listen: "127.0.0.1:0"})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return fixture{srv: srv, url: srv.BaseURL(), roles: roles, clock: clk}
}

// get returns a response's status and body; header is name, value pairs.
func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	return send(t, http.MethodGet, url, "", header...)
}

// send is get for any method, with a body.
func send(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode, string(b)
}

func register(t *testing.T, srv *taskendpoint.Server, info taskendpoint.TaskInfo) map[string]map[string]string {
	t.Helper()
	envs, err := srv.Register(context.Background(), info)
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

func TestEnvironment(t *testing.T) {
	f := newFixture(t, nil)
	envs := register(t, f.srv, testTask())
	app := envs["app"]
	// Listening elsewhere than Address:80, containers get the full URI.
	for k, want := range map[string]string{"AWS_ENDPOINT_URL": f.url, "AWS_REGION": "us-east-1",
		"AWS_DEFAULT_REGION": "us-east-1", "AWS_EXECUTION_ENV": "AWS_ECS_EC2"} {
		if app[k] != want {
			t.Errorf("%s: got %q, want %q", k, app[k], want)
		}
	}
	for _, k := range []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ECS_CONTAINER_METADATA_URI_V4"} {
		if !strings.HasPrefix(app[k], f.url) && k != "AWS_CONTAINER_AUTHORIZATION_TOKEN" || app[k] == "" {
			t.Errorf("%s: got %q, want a value (under %s for URIs)", k, app[k], f.url)
		}
	}
	if envs["app"]["ECS_CONTAINER_METADATA_URI_V4"] == envs["sidecar"]["ECS_CONTAINER_METADATA_URI_V4"] {
		t.Error("two containers share a metadata URI")
	}
	// The same task gets the same variables from a new server with the
	// same key (a restart re-registers running tasks), but for the address.
	again := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Credentials: f.roles, Listen: "127.0.0.1:0"})
	if err := again.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if diff := cmp.Diff(withoutBase(envs, f.url), withoutBase(register(t, again, testTask()), again.BaseURL())); diff != "" {
		t.Errorf("re-registered task's variables differ (-first +again):\n%s", diff)
	}
	// A task without a role gets no credentials variables.
	noRole := testTask()
	noRole.ARN, noRole.TaskRoleArn = taskARN+"0", ""
	for k := range register(t, f.srv, noRole)["app"] {
		if strings.HasPrefix(k, "AWS_CONTAINER_") {
			t.Errorf("a task without a role got %s", k)
		}
	}
}

// withoutBase is envs with the endpoint's address cut out of the values.
func withoutBase(envs map[string]map[string]string, base string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, env := range envs {
		out[name] = map[string]string{}
		for k, v := range env {
			out[name][k] = strings.TrimPrefix(v, base)
		}
	}
	return out
}

func TestCredentials(t *testing.T) {
	f := newFixture(t, nil)
	env := register(t, f.srv, testTask())["app"]
	uri, token := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	status, body := get(t, uri, "Authorization", token)
	if status != http.StatusOK {
		t.Fatalf("GET credentials: %d %s", status, body)
	}
	want := `{"RoleArn":"arn:aws:iam::123456789012:role/app","AccessKeyId":"ASIA1","SecretAccessKey":"secret1","Token":"token1","Expiration":"2026-12-06T13:00:00Z"}`
	if body != want {
		t.Errorf("credentials: got %s, want %s", body, want)
	}
	if diff := cmp.Diff([]string{"123456789012 " + roleARN + " 0123456789abcdef0123456789abcdef"}, f.roles.calls); diff != "" {
		t.Errorf("credentials issued (-want +got):\n%s", diff)
	}
	// Until 15 minutes before expiry the same credentials are served, then
	// new ones.
	f.clock.Advance(44 * time.Minute)
	if _, body := get(t, uri, "Authorization", token); !strings.Contains(body, `"ASIA1"`) {
		t.Errorf("16 minutes before expiry: got %s, want the first credentials", body)
	}
	f.clock.Advance(time.Minute)
	if _, body := get(t, uri, "Authorization", token); !strings.Contains(body, `"AccessKeyId":"ASIA2"`) || !strings.Contains(body, `"Expiration":"2026-12-06T13:45:00Z"`) {
		t.Errorf("15 minutes before expiry: got %s, want new credentials", body)
	}

	base := f.url + "/v2/credentials/"
	tests := []struct {
		name, url, token string
		wantStatus       int
		wantBody         string
	}{
		{"no id", base, token, 400, `{"code":"NoIdInRequest","message":"CredentialsV2Request: No Credential ID in the request","HTTPErrorCode":400}`},
		{"unknown id", base + "nope", token, 400, `{"code":"InvalidIdInRequest","message":"CredentialsV2Request: Credentials not found","HTTPErrorCode":400}`},
		{"wrong token", uri, "nope", 400, `{"code":"InvalidIdInRequest","message":"CredentialsV2Request: Credentials not found","HTTPErrorCode":400}`},
	}
	for _, tt := range tests {
		status, body := get(t, tt.url, "Authorization", tt.token)
		if status != tt.wantStatus || body != tt.wantBody {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, status, body, tt.wantStatus, tt.wantBody)
		}
	}
	// A stopped task's credentials are gone.
	f.srv.Deregister(taskARN)
	if status, _ := get(t, uri, "Authorization", token); status != http.StatusBadRequest {
		t.Errorf("after Deregister: got %d, want 400", status)
	}
}

func TestCredentialsFailure(t *testing.T) {
	f := newFixture(t, nil)
	env := register(t, f.srv, testTask())["app"]
	f.roles.fail = true
	status, body := get(t, env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], "Authorization", env["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
	if want := `{"code":"InternalServerError","message":"Internal server error","HTTPErrorCode":500}`; status != 500 || body != want {
		t.Errorf("got %d %s, want 500 %s", status, body, want)
	}
}

func TestMetadata(t *testing.T) {
	f := newFixture(t, nil)
	envs := register(t, f.srv, testTask())
	app, sidecar := envs["app"]["ECS_CONTAINER_METADATA_URI_V4"], envs["sidecar"]["ECS_CONTAINER_METADATA_URI_V4"]
	unknown := f.url + "/v4/nope"
	container := `{"DockerId":"c0ffee","Name":"app","DockerName":"ecs-web-3-app","Image":"nginx","ImageID":"sha256:1",` +
		`"Ports":[{"ContainerPort":80,"Protocol":"tcp","HostPort":32768,"HostIp":"127.0.0.1"}],` +
		`"DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Limits":{"CPU":256,"Memory":512},"Type":"NORMAL",` +
		`"Networks":[{"NetworkMode":"bridge","IPv4Addresses":["172.17.0.2"]}]}`
	task := `{"Cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/default","TaskARN":"` + taskARN + `","Family":"web","Revision":"3",` +
		`"DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Limits":{"CPU":0.25,"Memory":512},` +
		`"PullStartedAt":"2026-12-06T11:59:00Z","PullStoppedAt":"2026-12-06T11:59:00Z","AvailabilityZone":"us-east-1a","LaunchType":"EC2",` +
		`"Containers":[` + container + `,{"DockerId":"","Name":"sidecar","DockerName":"","Image":"","ImageID":"","DesiredStatus":"RUNNING","KnownStatus":"PENDING","Limits":{},"Type":"NORMAL"}],` +
		`"FaultInjectionEnabled":false}`
	tests := []struct {
		url        string
		wantStatus int
		wantBody   string
	}{
		{app, 200, container},
		{app + "/task", 200, task},
		{sidecar + "/task", 200, task},
		{app + "/taskWithTags", 200, task},
		{envs["app"]["ECS_CONTAINER_METADATA_URI"], 200, container}, // version 3
		{envs["app"]["ECS_CONTAINER_METADATA_URI"] + "/task", 200, task},
		{app + "/stats", 200, `{"read":"2026-12-06T12:00:00Z","pids_stats":{"current":3}}`},
		{app + "/task/stats", 200, `{"c0ffee":{"read":"2026-12-06T12:00:00Z","pids_stats":{"current":3}}}`},
		{unknown, 404, `"V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: nope"`},
		{unknown + "/task", 404, `"V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: nope"`},
		{unknown + "/stats", 404, `"V4 container stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: nope"`},
		{unknown + "/task/stats", 404, `"V4 task stats handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: nope"`},
		{app + "/other", 404, `"404 page not found"`},
	}
	for _, tt := range tests {
		status, body := get(t, tt.url)
		if status != tt.wantStatus || body != tt.wantBody {
			t.Errorf("GET %s:\ngot  %d %s\nwant %d %s", strings.TrimPrefix(tt.url, f.url), status, body, tt.wantStatus, tt.wantBody)
		}
	}
	// Re-registering updates what the endpoint says.
	stopped := testTask()
	stopped.KnownStatus = "STOPPED"
	register(t, f.srv, stopped)
	if _, body := get(t, app+"/task"); !strings.Contains(body, `"KnownStatus":"STOPPED","Limits"`) {
		t.Errorf("after re-registering: got %s, want KnownStatus STOPPED", body)
	}
}

func TestForwardsToAPI(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api %s %s", r.Method, r.URL.Path)
	})
	f := newFixture(t, api)
	for _, p := range []string{"/", "/v2/", "/bucket/key"} {
		if status, body := get(t, f.url+p); status != 200 || body != "api GET "+p {
			t.Errorf("GET %s: got %d %q, want the API's answer", p, status, body)
		}
	}
	resp, err := http.Post(f.url+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "api POST /" {
		t.Errorf("POST /: got %q, want the API's answer", b)
	}
}

func TestRefusesOtherSources(t *testing.T) {
	srv := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Credentials: &fakeRoles{clock: clock.NewFake(start)},
		API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})})
	tests := []struct {
		remote string
		want   int
	}{
		{"169.254.170.7:40000", 200}, // a task container
		{"169.254.170.2:40000", 200}, // the host, through the bridge
		{"127.0.0.1:40000", 200},
		{"172.17.0.5:40000", 403}, // a container on another network
		{"192.0.2.1:40000", 403},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tt.remote
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != tt.want {
			t.Errorf("from %s: got %d, want %d", tt.remote, w.Code, tt.want)
		}
	}
}

func TestStartNeedsTheNetwork(t *testing.T) {
	tests := []struct {
		network string
		engine  taskendpoint.Engine
		want    string
	}{
		{"", nil, "no Docker engine"},
		{"", fakeEngine{}, "no networks here"},
		{"other", fakeEngine{}, `network other has gateway "172.30.0.1", want 169.254.170.2`},
	}
	for _, tt := range tests {
		srv := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Engine: tt.engine, Network: tt.network})
		if err := srv.Start(context.Background()); err == nil || !strings.Contains(err.Error(), tt.want) {
			srv.Close()
			t.Errorf("Start on network %q: got %v, want an error saying %q", tt.network, err, tt.want)
		}
	}
}

// fakeProtection protects taskARN only, as ECS protects service tasks.
type fakeProtection struct{ until *time.Time }

func (f *fakeProtection) SetTaskProtection(_ context.Context, account, region, cluster, arn string, enabled bool, minutes *int32) (taskendpoint.Protection, error) {
	if arn != taskARN {
		return taskendpoint.Protection{}, &taskendpoint.ProtectionFailure{Arn: arn, Reason: "TASK_NOT_VALID", Detail: "The task is not part of a service."}
	}
	f.until = nil
	if enabled {
		until := start.Add(time.Duration(*minutes) * time.Minute)
		f.until = &until
	}
	return f.TaskProtection(context.Background(), account, region, cluster, arn)
}

func (f *fakeProtection) TaskProtection(_ context.Context, _, _, _, arn string) (taskendpoint.Protection, error) {
	return taskendpoint.Protection{ExpirationDate: f.until, ProtectionEnabled: f.until != nil, TaskArn: arn}, nil
}

// A container protects its task through ECS_AGENT_URI, as ECS's agent
// lets it.
func TestTaskProtectionEndpoint(t *testing.T) {
	srv := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Credentials: &fakeRoles{clock: clock.NewFake(start)}, Listen: "127.0.0.1:0",
		Engine: fakeEngine{}, Protection: &fakeProtection{}})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	state := register(t, srv, testTask())["app"]["ECS_AGENT_URI"] + "/task-protection/v1/state"
	other := testTask()
	other.ARN = strings.Replace(taskARN, "0123", "4567", 1)
	otherState := register(t, srv, other)["app"]["ECS_AGENT_URI"] + "/task-protection/v1/state"
	for _, tc := range []struct {
		name, method, url, body string
		wantStatus              int
		wantBody                string
	}{
		{"unprotected", http.MethodGet, state, "", 200, `{"protection":{"ProtectionEnabled":false,"TaskArn":"` + taskARN + `"}}`},
		{"protect for an hour", http.MethodPut, state, `{"ProtectionEnabled":true,"ExpiresInMinutes":60}`, 200,
			`{"protection":{"ExpirationDate":"2026-12-06T13:00:00Z","ProtectionEnabled":true,"TaskArn":"` + taskARN + `"}}`},
		{"protected", http.MethodGet, state, "", 200,
			`{"protection":{"ExpirationDate":"2026-12-06T13:00:00Z","ProtectionEnabled":true,"TaskArn":"` + taskARN + `"}}`},
		{"no ProtectionEnabled", http.MethodPut, state, `{}`, 400,
			`{"error":{"Arn":"` + taskARN + `","Code":"InvalidParameterException","Message":"Invalid request: ProtectionEnabled is required"}}`},
		{"a standalone task", http.MethodPut, otherState, `{"ProtectionEnabled":true,"ExpiresInMinutes":5}`, 400,
			`{"failure":{"Arn":"` + other.ARN + `","Detail":"The task is not part of a service.","Reason":"TASK_NOT_VALID"}}`},
	} {
		status, body := send(t, tc.method, tc.url, tc.body)
		if status != tc.wantStatus || body != tc.wantBody {
			t.Errorf("%s:\ngot  %d %s\nwant %d %s", tc.name, status, body, tc.wantStatus, tc.wantBody)
		}
	}
}

// A task on another Docker engine (--docker-host) reads its containers'
// stats on that engine; one whose engine the endpoint does not know gets
// none, as for a container without stats.
func TestStatsOnTheTasksEngine(t *testing.T) {
	clk := clock.NewFake(start)
	const onFirst, onSecond = `{"read":"2026-12-06T12:00:00Z","pids_stats":{"current":3}}`, `{"read":"2026-12-06T12:00:00Z","pids_stats":{"current":7}}`
	srv := taskendpoint.New(taskendpoint.Config{Key: []byte("key"), Credentials: &fakeRoles{clock: clk}, Clock: clk, Listen: "127.0.0.1:0",
		Engine:      fakeEngine{"c0ffee": onFirst},
		EngineStats: map[string]taskendpoint.StatsReader{"unix:///second.sock": fakeEngine{"c0ffee": onSecond}}})
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	onEngine := func(arn, engine string) string {
		info := testTask()
		info.ARN, info.Engine = arn, engine
		return register(t, srv, info)["app"]["ECS_CONTAINER_METADATA_URI_V4"]
	}
	first := onEngine(taskARN, "")
	second := onEngine(strings.Replace(taskARN, "0123", "4567", 1), "unix:///second.sock")
	gone := onEngine(strings.Replace(taskARN, "0123", "89ab", 1), "unix:///gone.sock")
	tests := []struct {
		url        string
		wantStatus int
		wantBody   string
	}{
		{first + "/stats", 200, onFirst},
		{second + "/stats", 200, onSecond},
		{second + "/task/stats", 200, `{"c0ffee":` + onSecond + `}`},
		{gone + "/stats", 500, `"Unable to get container stats for: c0ffee"`},
		{gone + "/task/stats", 200, `{"c0ffee":null}`},
	}
	for _, tt := range tests {
		status, body := get(t, tt.url)
		if status != tt.wantStatus || body != tt.wantBody {
			t.Errorf("GET %s:\ngot  %d %s\nwant %d %s", strings.TrimPrefix(tt.url, srv.BaseURL()), status, body, tt.wantStatus, tt.wantBody)
		}
	}
}
