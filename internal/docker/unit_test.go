package docker

// Unit tests of the pure parts: they need no engine.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// engineTypes compares the engine's types, whose ports and addresses have
// unexported fields.
var engineTypes = cmp.Options{
	cmp.Comparer(func(a, b network.Port) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func ptr[T any](v T) *T { return &v }

func TestCreateRequest(t *testing.T) {
	spec := ContainerSpec{
		Name:                   "web-1",
		Owner:                  "ecs",
		Labels:                 map[string]string{LabelTask: "arn:task", LabelManaged: "no"},
		Image:                  "127.0.0.1:4566/web:v1",
		Entrypoint:             []string{"/app"},
		Cmd:                    []string{"serve"},
		Env:                    map[string]string{"B": "2", "A": "1=one"},
		WorkingDir:             "/srv",
		User:                   "1000",
		Hostname:               "web",
		Ports:                  []PortBinding{{ContainerPort: 80, HostIP: "127.0.0.5"}, {ContainerPort: 53, Protocol: "udp", HostPort: 5353}, {ContainerPort: 80, HostPort: 8080}},
		Mounts:                 []Mount{{Type: MountBind, Source: "/host", Target: "/in", ReadOnly: true}, {Type: MountVolume, Source: "data", Target: "/data"}, {Type: MountTmpfs, Target: "/tmp", TmpfsSizeBytes: 1 << 20}},
		VolumesFrom:            []string{"sidecar:ro"},
		Links:                  []string{"db-1:db"},
		Networks:               []NetworkAttachment{{Network: "task-net", Aliases: []string{"web"}}, {Network: "overcast", IPv4Address: "10.1.0.7"}},
		ExtraHosts:             []string{"db:10.0.0.2"},
		DNSServers:             []string{"10.0.0.53"},
		CPUShares:              512,
		MemoryBytes:            256 << 20,
		MemoryReservationBytes: 128 << 20,
		PidsLimit:              100,
		Ulimits:                []Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}},
		HealthCheck:            &HealthCheck{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Second, Retries: 3},
		Init:                   true,
		StopSignal:             "SIGINT",
		StopTimeout:            1500 * time.Millisecond,
		Log:                    &LogConfig{Driver: "json-file", Options: map[string]string{"max-size": "10m"}},
	}
	got, later, err := spec.createRequest()
	if err != nil {
		t.Fatalf("createRequest: %v", err)
	}
	p80, p53 := network.MustParsePort("80/tcp"), network.MustParsePort("53/udp")
	want := client.ContainerCreateOptions{
		Name: "web-1",
		Config: &container.Config{
			Image:        "127.0.0.1:4566/web:v1",
			Entrypoint:   []string{"/app"},
			Cmd:          []string{"serve"},
			Env:          []string{"A=1=one", "B=2"},
			WorkingDir:   "/srv",
			User:         "1000",
			Hostname:     "web",
			Labels:       map[string]string{LabelTask: "arn:task", LabelManaged: "true", LabelOwner: "ecs"},
			ExposedPorts: network.PortSet{p80: {}, p53: {}},
			StopSignal:   "SIGINT",
			StopTimeout:  ptr(2),
			Healthcheck:  &container.HealthConfig{Test: []string{"CMD-SHELL", "curl -f localhost"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, StartPeriod: time.Second, Retries: 3},
		},
		HostConfig: &container.HostConfig{
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
			NetworkMode:   "task-net",
			PortBindings: network.PortMap{
				p80: {{HostIP: netip.MustParseAddr("127.0.0.5")}, {HostPort: "8080"}},
				p53: {{HostPort: "5353"}},
			},
			Mounts: []mount.Mount{
				{Type: mount.TypeBind, Source: "/host", Target: "/in", ReadOnly: true},
				{Type: mount.TypeVolume, Source: "data", Target: "/data"},
				{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}},
			},
			VolumesFrom: []string{"sidecar:ro"},
			Links:       []string{"db-1:db"},
			ExtraHosts:  []string{"db:10.0.0.2"},
			DNS:         []netip.Addr{netip.MustParseAddr("10.0.0.53")},
			Init:        ptr(true),
			LogConfig:   container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m"}},
			Resources: container.Resources{
				CPUShares:         512,
				Memory:            256 << 20,
				MemoryReservation: 128 << 20,
				PidsLimit:         ptr(int64(100)),
				Ulimits:           []*container.Ulimit{{Name: "nofile", Soft: 1024, Hard: 4096}},
			},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			"task-net": {Aliases: []string{"web"}},
		}},
	}
	if diff := cmp.Diff(want, got, engineTypes); diff != "" {
		t.Errorf("createRequest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]NetworkAttachment{{Network: "overcast", IPv4Address: "10.1.0.7"}}, later); diff != "" {
		t.Errorf("networks connected after create (-want +got):\n%s", diff)
	}

	// What goes on the wire for an ephemeral port is an empty host port,
	// which the engine reads as "pick one".
	b, _ := json.Marshal(got.HostConfig.PortBindings)
	if want := `{"53/udp":[{"HostIp":"","HostPort":"5353"}],"80/tcp":[{"HostIp":"127.0.0.5","HostPort":""},{"HostIp":"","HostPort":"8080"}]}`; string(b) != want {
		t.Errorf("port bindings on the wire: got %s, want %s", b, want)
	}
}

func TestCreateRequestDefaults(t *testing.T) {
	got, later, err := ContainerSpec{Owner: "codebuild", Image: "img"}.createRequest()
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.Entrypoint != nil || got.Config.Cmd != nil || got.Config.StopTimeout != nil || got.HostConfig.Init != nil || got.HostConfig.PidsLimit != nil || got.NetworkingConfig != nil || later != nil {
		t.Errorf("defaults: got %+v %+v, want the image's and the engine's defaults left alone", got.Config, got.HostConfig)
	}
	if got.HostConfig.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("restart policy: got %q, want no", got.HostConfig.RestartPolicy.Name)
	}
	// An explicit network mode other than the first network connects every
	// network after create.
	got, later, err = ContainerSpec{Owner: "ecs", Image: "img", NetworkMode: "bridge", Networks: []NetworkAttachment{{Network: "a"}}}.createRequest()
	if err != nil || got.NetworkingConfig != nil || got.HostConfig.NetworkMode != "bridge" || len(later) != 1 {
		t.Errorf("bridge plus a network: got %+v, %+v, %v", got.HostConfig.NetworkMode, later, err)
	}
}

func TestCreateRequestInvalid(t *testing.T) {
	base := func(f func(*ContainerSpec)) ContainerSpec {
		s := ContainerSpec{Owner: "ecs", Image: "img"}
		f(&s)
		return s
	}
	tests := []struct {
		name string
		spec ContainerSpec
		want string
	}{
		{"no owner", ContainerSpec{Image: "img"}, "owner"},
		{"no image", ContainerSpec{Owner: "ecs"}, "image"},
		{"env name", base(func(s *ContainerSpec) { s.Env = map[string]string{"A=B": "x"} }), "environment"},
		{"port protocol", base(func(s *ContainerSpec) { s.Ports = []PortBinding{{ContainerPort: 80, Protocol: "icmp"}} }), "protocol"},
		{"port zero", base(func(s *ContainerSpec) { s.Ports = []PortBinding{{}} }), "port 0"},
		{"host IP", base(func(s *ContainerSpec) { s.Ports = []PortBinding{{ContainerPort: 80, HostIP: "localhost"}} }), "host IP"},
		{"relative target", base(func(s *ContainerSpec) { s.Mounts = []Mount{{Type: MountVolume, Source: "v", Target: "data"}} }), "absolute"},
		{"relative bind", base(func(s *ContainerSpec) { s.Mounts = []Mount{{Type: MountBind, Source: "host", Target: "/data"}} }), "absolute"},
		{"tmpfs source", base(func(s *ContainerSpec) { s.Mounts = []Mount{{Type: MountTmpfs, Source: "x", Target: "/tmp"}} }), "tmpfs"},
		{"mount type", base(func(s *ContainerSpec) { s.Mounts = []Mount{{Type: "npipe", Target: "/x"}} }), "mount type"},
		{"DNS server", base(func(s *ContainerSpec) { s.DNSServers = []string{"dns.example"} }), "DNS"},
		{"health test", base(func(s *ContainerSpec) { s.HealthCheck = &HealthCheck{Interval: time.Second} }), "health"},
		{"pinned address", base(func(s *ContainerSpec) { s.Networks = []NetworkAttachment{{Network: "n", IPv4Address: "::1"}} }), "IPv4"},
		{"pinned address later", base(func(s *ContainerSpec) {
			s.Networks = []NetworkAttachment{{Network: "n"}, {Network: "m", IPv4Address: "x"}}
		}), "IPv4"},
		{"unnamed network", base(func(s *ContainerSpec) { s.Networks = []NetworkAttachment{{}} }), "network"},
		{"host mode with networks", base(func(s *ContainerSpec) { s.NetworkMode = "host"; s.Networks = []NetworkAttachment{{Network: "n"}} }), "network mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.spec.createRequest()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNetworkCreateRequest(t *testing.T) {
	got, err := NetworkSpec{Name: "n", Owner: "ecs", Labels: map[string]string{"k": "v"}, Internal: true, Subnet: "10.9.8.7/24", Gateway: "10.9.8.1"}.createRequest()
	if err != nil {
		t.Fatal(err)
	}
	want := client.NetworkCreateOptions{
		Driver:   "bridge",
		Internal: true,
		Labels:   map[string]string{"k": "v", LabelManaged: "true", LabelOwner: "ecs"},
		IPAM:     &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix("10.9.8.0/24"), Gateway: netip.MustParseAddr("10.9.8.1")}}},
	}
	if diff := cmp.Diff(want, got, engineTypes); diff != "" {
		t.Errorf("createRequest (-want +got):\n%s", diff)
	}
	for _, bad := range []NetworkSpec{
		{Name: "n"},
		{Owner: "ecs"},
		{Name: "n", Owner: "ecs", Subnet: "10.0.0.0"},
		{Name: "n", Owner: "ecs", Gateway: "10.0.0.1"},
		{Name: "n", Owner: "ecs", Subnet: "10.0.0.0/24", Gateway: "10.0.1.1"},
	} {
		if _, err := bad.createRequest(); !errors.Is(err, ErrInvalid) {
			t.Errorf("createRequest(%+v): got %v, want ErrInvalid", bad, err)
		}
	}
}

func TestBuildOptions(t *testing.T) {
	got, err := BuildSpec{Owner: "codebuild", Context: strings.NewReader(""), Tags: []string{"a:1"}, Args: map[string]string{"V": "1"}, Target: "base", Pull: true}.buildOptions()
	if err != nil {
		t.Fatal(err)
	}
	want := client.ImageBuildOptions{
		Tags:        []string{"a:1"},
		BuildArgs:   map[string]*string{"V": ptr("1")},
		Labels:      map[string]string{LabelManaged: "true", LabelOwner: "codebuild"},
		Target:      "base",
		PullParent:  true,
		Remove:      true,
		ForceRemove: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buildOptions (-want +got):\n%s", diff)
	}
	for _, bad := range []BuildSpec{{Owner: "x"}, {Owner: "x", Context: strings.NewReader(""), ContextDir: "."}, {Context: strings.NewReader("")}} {
		if _, err := bad.buildOptions(); !errors.Is(err, ErrInvalid) {
			t.Errorf("buildOptions(%+v): got %v, want ErrInvalid", bad, err)
		}
	}
}

func TestImportChanges(t *testing.T) {
	got, err := importChanges(ImageConfig{
		Entrypoint:   []string{"/app", "a b"},
		Cmd:          []string{},
		Env:          map[string]string{"B": `"$HOME" \ x`, "A": ""},
		WorkingDir:   "/w",
		User:         "app",
		Labels:       map[string]string{"k v": "1"},
		ExposedPorts: []string{"80", "53/udp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`ENTRYPOINT ["/app","a b"]`,
		`CMD []`,
		`ENV A=""`,
		`ENV B="\"\$HOME\" \\ x"`,
		`WORKDIR /w`,
		`USER app`,
		`LABEL "k v"="1"`,
		`EXPOSE 80`,
		`EXPOSE 53/udp`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("importChanges (-want +got):\n%s", diff)
	}
	for _, bad := range []ImageConfig{
		{Env: map[string]string{"A B": "x"}},
		{Env: map[string]string{"A": "two\nlines"}},
		{Labels: map[string]string{"k": "a\rb"}},
		{ExposedPorts: []string{"http"}},
	} {
		if _, err := importChanges(bad); err == nil {
			t.Errorf("importChanges(%+v): got nil, want an error", bad)
		}
	}
}

func TestLabels(t *testing.T) {
	got := ManagedLabels("ecs", map[string]string{LabelOwner: "someone else", "k": "v"})
	if diff := cmp.Diff(map[string]string{LabelManaged: "true", LabelOwner: "ecs", "k": "v"}, got); diff != "" {
		t.Errorf("ManagedLabels (-want +got):\n%s", diff)
	}
	if !IsManaged(got) || IsManaged(map[string]string{"k": "v"}) {
		t.Errorf("IsManaged: wrong answer")
	}
	for k := range got {
		if !strings.HasPrefix(k, LabelPrefix) && k != "k" {
			t.Errorf("label %q lacks the %s prefix", k, LabelPrefix)
		}
	}
	f := labelFilters(map[string]string{LabelOwner: "ecs", LabelTask: ""})
	b, _ := json.Marshal(f)
	if want := `{"label":{"overcast.ecs.task":true,"overcast.owner=ecs":true}}`; string(b) != want {
		t.Errorf("labelFilters: got %s, want %s", b, want)
	}
	if diff := cmp.Diff(map[string]string{LabelManaged: "true", LabelOwner: "ecs"}, OwnerSelector("ecs")); diff != "" {
		t.Errorf("OwnerSelector (-want +got):\n%s", diff)
	}
}

func TestErrorKinds(t *testing.T) {
	// Each engine error, by name, and the kind wrap gives it.
	tests := map[string]struct{ err, want error }{
		"not found":      {cerrdefs.ErrNotFound.WithMessage("No such container: x"), ErrNotFound},
		"conflict":       {cerrdefs.ErrConflict.WithMessage(`name "/x" is already in use`), ErrConflict},
		"already exists": {cerrdefs.ErrAlreadyExists.WithMessage("exists"), ErrConflict},
		"invalid":        {cerrdefs.ErrInvalidArgument.WithMessage("bad"), ErrInvalid},
		"unavailable":    {cerrdefs.ErrUnavailable.WithMessage("down"), ErrUnavailable},
		"unauthorized":   {cerrdefs.ErrUnauthenticated.WithMessage("login"), ErrUnauthorized},
		"forbidden":      {cerrdefs.ErrPermissionDenied.WithMessage("network n has active endpoints"), ErrConflict},
		"wrapped":        {fmt.Errorf("Error response from daemon: %w", cerrdefs.ErrNotFound.WithMessage("gone")), ErrNotFound},
		"unknown":        {errors.New("boom"), nil},
		"canceled":       {fmt.Errorf("get: %w", context.Canceled), nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := wrap("op", tt.err)
			var de *Error
			if !errors.As(err, &de) || de.Kind != tt.want || de.Op != "op" {
				t.Fatalf("wrap: got %#v, want kind %v", err, tt.want)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("errors.Is(%v, %v): got false", err, tt.want)
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.err.Error()) {
				t.Errorf("wrap lost the engine's error: got %q", err)
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Errorf("wrap(nil): got non-nil")
	}
	if err := wrap("outer", wrap("inner", cerrdefs.ErrNotFound)); !strings.HasPrefix(err.Error(), "docker: inner:") {
		t.Errorf("wrapping twice: got %q, want the first op kept", err)
	}
	if !errors.Is(wrap("op", context.Canceled), context.Canceled) {
		t.Errorf("a cancelled call does not match context.Canceled")
	}
}

func TestPullKind(t *testing.T) {
	for msg, want := range map[string]error{
		"manifest unknown": ErrNotFound,
		"manifest for x:v2 not found: manifest unknown: manifest unknown":                   ErrNotFound,
		"pull access denied for x, repository does not exist or may require 'docker login'": ErrNotFound,
		"Head \"http://127.0.0.1:1/v2/x/manifests/v1\": unauthorized: log in":               ErrUnauthorized,
		"Get \"https://r/v2/\": no basic auth credentials":                                  ErrUnauthorized,
		"connection reset by peer": nil,
	} {
		if got := pullKind(errors.New(msg)); got != want {
			t.Errorf("pullKind(%q): got %v, want %v", msg, got, want)
		}
	}
	if got := pullKind(cerrdefs.ErrNotFound.WithMessage("unauthorized")); got != ErrNotFound {
		t.Errorf("pullKind of a classified error: got %v, want the class (ErrNotFound)", got)
	}
}

func TestEventOf(t *testing.T) {
	tests := []struct {
		name string
		msg  events.Message
		want Event
		ok   bool
	}{
		{"die", events.Message{Type: events.ContainerEventType, Action: events.ActionDie, TimeNano: 1700000000123456789,
			Actor: events.Actor{ID: "c1", Attributes: map[string]string{"name": "web", "image": "img", "exitCode": "137", LabelOwner: "ecs", "execDuration": "3"}}},
			Event{Action: ActionDie, ContainerID: "c1", Name: "web", Image: "img", ExitCode: 137, Labels: map[string]string{LabelOwner: "ecs"}, Time: time.Unix(0, 1700000000123456789).UTC()}, true},
		{"health", events.Message{Type: events.ContainerEventType, Action: events.ActionHealthStatusUnhealthy, Time: 1700000000, Actor: events.Actor{ID: "c1"}},
			Event{Action: ActionHealthStatus, Health: "unhealthy", ContainerID: "c1", Labels: map[string]string{}, Time: time.Unix(1700000000, 0).UTC()}, true},
		{"not a container", events.Message{Type: events.NetworkEventType, Action: events.ActionConnect}, Event{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := eventOf(tt.msg)
			if ok != tt.ok {
				t.Fatalf("ok: got %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("eventOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStats(t *testing.T) {
	// A cgroup v1 sample, trimmed, as engine 20.10 writes it.
	raw := []byte(`{"read":"2026-01-02T03:04:05.000000006Z","pids_stats":{"current":4},
		"networks":{"eth0":{"rx_bytes":100,"tx_bytes":50},"eth1":{"rx_bytes":1,"tx_bytes":2}},
		"cpu_stats":{"cpu_usage":{"total_usage":2000000,"percpu_usage":[1000000,1000000]},"system_cpu_usage":90000000},
		"memory_stats":{"usage":10485760,"limit":67108864,"stats":{"total_inactive_file":1048576}}}`)
	var s container.StatsResponse
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	got := statsOf(s, raw)
	want := Stats{
		Read:             time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		CPUNanos:         2000000,
		SystemCPUNanos:   90000000,
		OnlineCPUs:       2,
		MemoryBytes:      9 << 20,
		MemoryUsageBytes: 10 << 20,
		MemoryLimitBytes: 64 << 20,
		PIDs:             4,
		NetworkRxBytes:   101,
		NetworkTxBytes:   52,
		Raw:              raw,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statsOf (-want +got):\n%s", diff)
	}
	next := got
	next.CPUNanos += 10_000_000
	next.SystemCPUNanos += 20_000_000 // two CPUs' worth of 10ms
	if p := CPUPercent(got, next); p != 100 {
		t.Errorf("CPUPercent: got %v, want 100 (one CPU busy of two)", p)
	}
	if p := CPUPercent(next, got); p != 0 {
		t.Errorf("CPUPercent backwards: got %v, want 0", p)
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := Lines(func(l string) { got = append(got, l) })
	w.max = 8
	for _, chunk := range []string{"one\ntw", "o\r\n", "\n", "0123456789abc", "\nlast"} {
		if n, err := io.WriteString(w, chunk); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q): got %d, %v", chunk, n, err)
		}
	}
	w.Close()
	want := []string{"one", "two", "", "01234567", "89abc", "last"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("Write after Close: got nil, want an error")
	}
}

func TestTarDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("/etc/passwd", filepath.Join(dir, "escape"))
	var buf bytes.Buffer
	if err := TarDir(&buf, dir); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Name, Link, Body string
		Mode             int64
	}
	var got []entry
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got = append(got, entry{h.Name, h.Linkname, string(body), h.Mode & 0o777})
		if h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: got owner %d/%q, want none", h.Name, h.Uid, h.Uname)
		}
	}
	want := []entry{
		{"Dockerfile", "", "FROM scratch\n", 0o644},
		{"escape", "/etc/passwd", "", 0o777},
		{"sub/", "", "", 0o755},
		{"sub/run.sh", "", "#!/bin/sh\n", 0o755},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tarDir (-want +got):\n%s", diff)
	}
}

func TestContainerOf(t *testing.T) {
	var r container.InspectResponse
	raw := `{"Id":"abc","Name":"/web","Image":"sha256:1","Created":"2026-01-01T00:00:00Z",
		"State":{"Status":"exited","ExitCode":137,"OOMKilled":true,"StartedAt":"2026-01-01T00:00:01Z","FinishedAt":"0001-01-01T00:00:00Z",
			"Health":{"Status":"unhealthy","Log":[{"Output":"first"},{"Output":"last"}]}},
		"Config":{"Image":"img:1","Labels":{"overcast.owner":"ecs"},"Tty":true},
		"NetworkSettings":{"Networks":{"n":{"NetworkID":"nid","IPAddress":"10.0.0.2","IPPrefixLen":24,"Gateway":"10.0.0.1","MacAddress":"02:42:0a:00:00:02","Aliases":["web"]}},
			"Ports":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"49153"},{"HostIp":"::","HostPort":"49153"}],"53/udp":null,"8080/tcp":[{"HostIp":"","HostPort":"8080"}]}},
		"Mounts":[{"Type":"volume","Name":"data","Source":"/var/lib/docker/volumes/data/_data","Destination":"/data","RW":false}]}`
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		t.Fatal(err)
	}
	want := Container{
		ID: "abc", Name: "web", Image: "img:1", ImageID: "sha256:1", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Labels: map[string]string{LabelOwner: "ecs"}, TTY: true,
		State:    State{Status: "exited", ExitCode: 137, OOMKilled: true, StartedAt: time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC), Health: "unhealthy", HealthOutput: "last"},
		Networks: map[string]Endpoint{"n": {NetworkID: "nid", IPAddress: "10.0.0.2", IPPrefixLen: 24, Gateway: "10.0.0.1", MacAddress: "02:42:0a:00:00:02", Aliases: []string{"web"}}},
		Ports: []PublishedPort{
			{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 49153},
			{ContainerPort: 80, Protocol: "tcp", HostIP: "::", HostPort: 49153},
			{ContainerPort: 8080, Protocol: "tcp", HostPort: 8080},
		},
		Mounts: []MountPoint{{Type: MountVolume, Name: "data", Source: "/var/lib/docker/volumes/data/_data", Destination: "/data", ReadOnly: true}},
	}
	got := containerOf(r)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containerOf (-want +got):\n%s", diff)
	}
	if got.Owner() != "ecs" {
		t.Errorf("Owner: got %q, want ecs", got.Owner())
	}
}
