package agent

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/api/ecs"
	"overcast/internal/docker"
)

type fakeSecrets map[string]string

func (f fakeSecrets) Resolve(_ context.Context, valueFrom string) (string, error) {
	v, ok := f[valueFrom]
	if !ok {
		return "", errors.New("no such secret")
	}
	return v, nil
}

type fakeFiles map[string]map[string]string

func (f fakeFiles) Read(_ context.Context, arn string) (map[string]string, error) { return f[arn], nil }

func kv(name, value string) ecs.KeyValuePair {
	return ecs.KeyValuePair{Name: new(name), Value: new(value)}
}

func TestPlanContainer(t *testing.T) {
	a := New(nil, Config{Network: "overcast", Secrets: fakeSecrets{"arn:secret:db": "hunter2"},
		EnvironmentFiles: fakeFiles{"arn:aws:s3:::b/app.env": {"A": "file", "F": "file"}}})
	spec := Spec{
		TaskARN: "arn:aws:ecs:us-east-1:000000000000:task/c/0123abcd",
		Cluster: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
		HostIP:  "127.0.1.2",
		Definition: ecs.TaskDefinition{Family: new("web"), Revision: new(int32(3)), ContainerDefinitions: []ecs.ContainerDefinition{
			{
				Name: new("app"), Image: new("nginx"), Cpu: new(int32(0)), Memory: new(int32(512)),
				Environment:      []ecs.KeyValuePair{kv("A", "definition"), kv("B", "definition")},
				EnvironmentFiles: []ecs.EnvironmentFile{{Value: new("arn:aws:s3:::b/app.env"), Type: new("s3")}},
				Secrets:          []ecs.Secret{{Name: new("DB_PASSWORD"), ValueFrom: new("arn:secret:db")}},
				Command:          []string{"serve"},
				PortMappings:     []ecs.PortMapping{{ContainerPort: new(int32(80)), HostPort: new(int32(8080))}},
				Links:            []string{"db:database"},
				VolumesFrom:      []ecs.VolumeFrom{{SourceContainer: new("db"), ReadOnly: new(true)}},
				HealthCheck:      &ecs.HealthCheck{Command: []string{"CMD-SHELL", "true"}},
				Ulimits:          []ecs.Ulimit{{Name: new("nofile"), SoftLimit: new(int32(1024)), HardLimit: new(int32(2048))}},
				DependsOn:        []ecs.ContainerDependency{{ContainerName: new("db"), Condition: new("HEALTHY")}},
				LogConfiguration: &ecs.LogConfiguration{LogDriver: new("awslogs"), Options: map[string]string{"awslogs-group": "g", "awslogs-stream-prefix": "p"}},
			},
			{Name: new("db"), Image: new("postgres"), Essential: new(false), MemoryReservation: new(int32(128)), StopTimeout: new(int32(5))},
		}},
		Overrides: &ecs.TaskOverride{ContainerOverrides: []ecs.ContainerOverride{{Name: new("app"), Environment: []ecs.KeyValuePair{kv("B", "override")}, Command: []string{"serve", "--debug"}}}},
	}
	spec.Environment = map[string]string{"AWS_REGION": "us-east-1", "A": "agent"}
	p, err := a.plan(spec)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	app, db := p.byName("app"), p.byName("db")
	if err := a.resolveEnv(context.Background(), app); err != nil {
		t.Fatalf("resolveEnv: %v", err)
	}
	got := app.spec
	got.Labels = nil
	want := docker.ContainerSpec{
		Name:        "ecs-web-3-app-0123abcd",
		Owner:       Owner,
		Cmd:         []string{"serve", "--debug"},
		Env:         map[string]string{"A": "definition", "B": "override", "F": "file", "DB_PASSWORD": "hunter2", "AWS_REGION": "us-east-1"},
		Ports:       []docker.PortBinding{{ContainerPort: 80, Protocol: "tcp", HostIP: "127.0.1.2", HostPort: 8080}},
		Links:       []string{"ecs-web-3-db-0123abcd:database"},
		VolumesFrom: []string{"ecs-web-3-db-0123abcd:ro"},
		NetworkMode: "overcast",
		CPUShares:   2,
		MemoryBytes: 512 << 20,
		Ulimits:     []docker.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}},
		HealthCheck: &docker.HealthCheck{Test: []string{"CMD-SHELL", "true"}, Interval: 30 * time.Second, Timeout: 5 * time.Second, Retries: 3},
		StopTimeout: 30 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("app's container (-want +got):\n%s", diff)
	}
	wantMeta := containerMeta{Order: 0, Image: "nginx", Essential: true, HostIP: "127.0.1.2",
		DependsOn: []dependency{{Container: "db", Condition: "HEALTHY"}},
		Log:       &LogDestination{Group: "g", Stream: "p/app/0123abcd", Region: "us-east-1", Account: "000000000000"},
		Ports:     []portMapping{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}}}
	if diff := cmp.Diff(wantMeta, app.meta); diff != "" {
		t.Errorf("app's meta (-want +got):\n%s", diff)
	}
	if db.meta.Essential || db.spec.StopTimeout != 5*time.Second || db.spec.MemoryReservationBytes != 128<<20 {
		t.Errorf("db: got essential %v, stop timeout %v, reservation %d; want false, 5s, 128 MiB", db.meta.Essential, db.spec.StopTimeout, db.spec.MemoryReservationBytes)
	}
	for k, v := range map[string]string{docker.LabelTask: spec.TaskARN, docker.LabelCluster: spec.Cluster, docker.LabelContainer: "app"} {
		if app.spec.Labels[k] != v {
			t.Errorf("label %s: got %q, want %q", k, app.spec.Labels[k], v)
		}
	}
}

func TestPlanRefuses(t *testing.T) {
	a := New(nil, Config{AllowedHostRoots: []string{"/srv/tasks"}})
	web := func() ecs.ContainerDefinition { return ecs.ContainerDefinition{Name: new("web"), Image: new("nginx")} }
	tests := []struct {
		name string
		mode string
		edit func(*ecs.TaskDefinition)
		want string
	}{
		{"unknown network mode", "nat", nil, `network mode "nat"`},
		{"no essential container", "", func(d *ecs.TaskDefinition) { d.ContainerDefinitions[0].Essential = new(false) }, "no essential container"},
		{"SUCCESS on an essential container", "", func(d *ecs.TaskDefinition) {
			side := web()
			side.Name, side.DependsOn = new("side"), []ecs.ContainerDependency{{ContainerName: new("web"), Condition: new("SUCCESS")}}
			d.ContainerDefinitions = append(d.ContainerDefinitions, side)
		}, "cannot be set on the essential container web"},
		{"dependency on a missing container", "", func(d *ecs.TaskDefinition) {
			d.ContainerDefinitions[0].DependsOn = []ecs.ContainerDependency{{ContainerName: new("db"), Condition: new("START")}}
		}, "dependsOn names db"},
		{"links outside bridge mode", ModeAWSVPC, func(d *ecs.TaskDefinition) {
			d.ContainerDefinitions[0].Links = []string{"web"}
		}, "links need the bridge network mode"},
		{"awsvpc host port other than the container port", ModeAWSVPC, func(d *ecs.TaskDefinition) {
			d.ContainerDefinitions[0].PortMappings = []ecs.PortMapping{{ContainerPort: new(int32(80)), HostPort: new(int32(8080))}}
		}, "must be the container port"},
		{"extraHosts in awsvpc mode", ModeAWSVPC, func(d *ecs.TaskDefinition) {
			d.ContainerDefinitions[0].ExtraHosts = []ecs.HostEntry{{Hostname: new("db"), IpAddress: new("10.0.0.2")}}
		}, "not supported in the awsvpc network mode"},
		{"missing volume", "", func(d *ecs.TaskDefinition) {
			d.ContainerDefinitions[0].MountPoints = []ecs.MountPoint{{SourceVolume: new("data"), ContainerPath: new("/data")}}
		}, `volume "data"`},
		{"EFS volume", "", func(d *ecs.TaskDefinition) {
			d.Volumes = []ecs.Volume{{Name: new("efs"), EfsVolumeConfiguration: &ecs.EFSVolumeConfiguration{FileSystemId: new("fs-1")}}}
		}, "only host and Docker volumes"},
		{"host path outside the roots", "", func(d *ecs.TaskDefinition) {
			d.Volumes = []ecs.Volume{{Name: new("h"), Host: &ecs.HostVolumeProperties{SourcePath: new("/srv/tasks/../secrets")}}}
		}, "outside the allowed roots"},
		{"host path next to a root", "", func(d *ecs.TaskDefinition) {
			d.Volumes = []ecs.Volume{{Name: new("h"), Host: &ecs.HostVolumeProperties{SourcePath: new("/srv/tasks-other")}}}
		}, "outside the allowed roots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := ecs.TaskDefinition{Family: new("f"), ContainerDefinitions: []ecs.ContainerDefinition{web()}}
			if tt.edit != nil {
				tt.edit(&def)
			}
			err := a.Validate(Spec{TaskARN: "arn:task/1", Definition: def, NetworkMode: tt.mode})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate: got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	ok := ecs.TaskDefinition{Family: new("f"), ContainerDefinitions: []ecs.ContainerDefinition{web()},
		Volumes: []ecs.Volume{{Name: new("h"), Host: &ecs.HostVolumeProperties{SourcePath: new("/srv/tasks/one")}}}}
	if err := a.Validate(Spec{TaskARN: "arn:task/1", Definition: ok}); err != nil {
		t.Errorf("Validate with a host path under a root: %v", err)
	}
}

// fixture is an engine container of a task, as inspect returns it.
func fixture(name string, meta containerMeta, s docker.State) docker.Container {
	return docker.Container{ID: name + "-id", State: s, Labels: map[string]string{docker.LabelContainer: name, labelAgent: meta.label()}}
}

func withCreated(c docker.Container, t time.Time) docker.Container {
	c.Created = t
	return c
}

func TestObserve(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	running := docker.State{Running: true, StartedAt: t0}
	exited := func(code int) docker.State {
		return docker.State{StartedAt: t0, FinishedAt: t0.Add(time.Minute), ExitCode: code}
	}
	created := docker.State{Status: "created"}
	essential := containerMeta{Essential: true}
	after := func(order int, dep, cond string, isEssential bool) containerMeta {
		return containerMeta{Order: order, Essential: isEssential, DependsOn: []dependency{{Container: dep, Condition: cond}}}
	}
	type summary struct {
		Status, Health, StopCode, Reason string
		Containers                       []string
	}
	tests := []struct {
		name string
		cs   []docker.Container
		stop *stopRequest
		want summary
	}{
		{"waiting on a dependency", []docker.Container{
			fixture("db", containerMeta{}, running),
			fixture("app", after(1, "db", "HEALTHY", true), created),
		}, nil, summary{StatusPending, HealthUnknown, "", "", []string{"db RUNNING", "app PENDING"}}},
		{"running and healthy", []docker.Container{
			fixture("app", essential, docker.State{Running: true, StartedAt: t0, Health: "healthy"}),
			fixture("side", containerMeta{Order: 1}, docker.State{Running: true, StartedAt: t0, Health: "unhealthy"}),
		}, nil, summary{StatusRunning, HealthHealthy, "", "", []string{"app RUNNING", "side RUNNING"}}},
		{"essential exited, another stopping", []docker.Container{
			fixture("app", essential, exited(1)),
			fixture("side", containerMeta{Order: 1}, running),
		}, nil, summary{StatusRunning, HealthUnknown, StopCodeEssentialContainerExited, ReasonEssentialContainerExited, []string{"app STOPPED", "side RUNNING"}}},
		{"SUCCESS never met", []docker.Container{
			fixture("init", containerMeta{}, exited(2)),
			fixture("app", after(1, "init", "SUCCESS", true), created),
			fixture("late", after(2, "app", "START", false), created),
		}, nil, summary{StatusStopped, HealthUnknown, StopCodeTaskFailedToStart,
			"DependencyConditionError: the SUCCESS condition of container app on init can never be met",
			[]string{"init STOPPED", "app STOPPED", "late STOPPED"}}},
		{"startTimeout passed", []docker.Container{
			fixture("db", containerMeta{}, running),
			withCreated(fixture("app", containerMeta{Order: 1, Essential: true, StartTimeout: 60, DependsOn: []dependency{{"db", "HEALTHY"}}}, created), t0),
		}, nil, summary{StatusRunning, HealthUnknown, StopCodeTaskFailedToStart,
			"DependencyConditionError: the dependencies of container app were not met within its startTimeout of 60s",
			[]string{"db RUNNING", "app STOPPED"}}},
		{"cannot start", []docker.Container{
			fixture("app", essential, docker.State{Status: "created", Error: "exec: /app: not found"}),
		}, nil, summary{StatusStopped, HealthUnknown, StopCodeTaskFailedToStart, "CannotStartContainerError: exec: /app: not found", []string{"app STOPPED"}}},
		{"stopped by the user", []docker.Container{
			fixture("app", essential, exited(143)),
		}, &stopRequest{StopCodeUserInitiated, "Task stopped by user"}, summary{StatusStopped, HealthUnknown, StopCodeUserInitiated, "Task stopped by user", []string{"app STOPPED"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := observe("arn:task/1", tt.cs, tt.stop)
			got := summary{o.LastStatus, o.HealthStatus, o.StopCode, o.StoppedReason, nil}
			for _, c := range o.Containers {
				got.Containers = append(got.Containers, c.Name+" "+c.LastStatus)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("observe (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPauseProgram(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		b, err := pauseProgram(arch)
		if err != nil {
			t.Fatalf("pauseProgram(%s): %v", arch, err)
		}
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: not an ELF file: %v", arch, err)
		}
		if f.Machine != machine || f.Type != elf.ET_EXEC || len(f.Progs) != 1 || f.Progs[0].Type != elf.PT_LOAD {
			t.Errorf("%s: got %v %v with %d program headers, want a static %v executable", arch, f.Machine, f.Type, len(f.Progs), machine)
		}
		p := f.Progs[0]
		if f.Entry < p.Vaddr || f.Entry >= p.Vaddr+p.Memsz || p.Filesz != uint64(len(b)) || p.Flags != elf.PF_R|elf.PF_X {
			t.Errorf("%s: entry %#x outside the loaded %#x+%d, or file size %d != %d", arch, f.Entry, p.Vaddr, p.Memsz, p.Filesz, len(b))
		}
	}
	if _, err := pauseProgram("mips"); err == nil {
		t.Errorf("pauseProgram(mips): got no error")
	}
}

func TestFreePort(t *testing.T) {
	low, high := portRange()
	if low < 1 || high > 65535 || low > high {
		t.Fatalf("portRange: got %d-%d", low, high)
	}
	taken := map[string]bool{}
	a, err := freePort("127.0.0.1", "tcp", low, high, taken)
	if err != nil {
		t.Fatalf("freePort: %v", err)
	}
	b, err := freePort("127.0.0.1", "tcp", low, high, taken)
	if err != nil || a == b || int(a) < low || int(b) > high {
		t.Errorf("freePort twice: got %d and %d (%v), want two ports in %d-%d", a, b, err, low, high)
	}
	if _, err := freePort("127.0.0.1", "tcp", int(a), int(a), taken); err == nil {
		t.Errorf("freePort in a range of one taken port: got no error")
	}
}

func TestAPIContainers(t *testing.T) {
	o := Observed{TaskARN: "arn:task/1", Containers: []ContainerState{
		{Name: "app", Image: "nginx", RuntimeID: "abc", LastStatus: StatusStopped, ExitCode: new(int32(1)), Reason: "why", HealthStatus: HealthUnknown},
		{Name: "side", Image: "busybox", LastStatus: StatusPending, HealthStatus: HealthUnknown},
	}}
	want := []ecs.Container{
		{TaskArn: new("arn:task/1"), Name: new("app"), Image: new("nginx"), RuntimeId: new("abc"), LastStatus: new(StatusStopped),
			ExitCode: new(int32(1)), Reason: new("why"), HealthStatus: new(HealthUnknown)},
		{TaskArn: new("arn:task/1"), Name: new("side"), Image: new("busybox"), LastStatus: new(StatusPending), HealthStatus: new(HealthUnknown)},
	}
	if diff := cmp.Diff(want, o.APIContainers(), cmpopts.IgnoreUnexported(ecs.Container{})); diff != "" {
		t.Errorf("APIContainers (-want +got):\n%s", diff)
	}
}

// fakeFileSystems mounts each file system at /efs/<account>/<region>/<id>,
// and fails for fs-gone.
type fakeFileSystems struct{}

func (fakeFileSystems) MountSource(_ context.Context, account, region, fileSystemID, accessPointID, rootDirectory string) (string, error) {
	if fileSystemID == "fs-gone" {
		return "", errors.New("efs: cannot mount: file system fs-gone not found")
	}
	return "/efs/" + account + "/" + region + "/" + fileSystemID + "/" + accessPointID + rootDirectory, nil
}

func TestMountEFS(t *testing.T) {
	a := New(nil, Config{FileSystems: fakeFileSystems{}})
	efsDef := func(fsID string) ecs.TaskDefinition {
		return ecs.TaskDefinition{Family: new("f"),
			Volumes: []ecs.Volume{{Name: new("shared"), EfsVolumeConfiguration: &ecs.EFSVolumeConfiguration{
				FileSystemId: new(fsID), TransitEncryption: new("ENABLED"),
				AuthorizationConfig: &ecs.EFSAuthorizationConfig{AccessPointId: new("fsap-1"), Iam: new("ENABLED")}}}},
			ContainerDefinitions: []ecs.ContainerDefinition{{Name: new("web"), Image: new("nginx"), MountPoints: []ecs.MountPoint{
				{SourceVolume: new("shared"), ContainerPath: new("/data")},
				{SourceVolume: new("shared"), ContainerPath: new("/ro"), ReadOnly: new(true)}}}}}
	}
	spec := Spec{TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/c/0123abcd", Definition: efsDef("fs-1")}
	p, err := a.plan(spec)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if f, err := a.mountEFS(context.Background(), p, spec.TaskARN); f != nil || err != nil {
		t.Fatalf("mountEFS: got %+v, %v", f, err)
	}
	source := "/efs/123456789012/eu-west-1/fs-1/fsap-1"
	want := []docker.Mount{{Type: docker.MountBind, Source: source, Target: "/data"}, {Type: docker.MountBind, Source: source, Target: "/ro", ReadOnly: true}}
	if diff := cmp.Diff(want, p.containers[0].spec.Mounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}

	spec.Definition = efsDef("fs-gone")
	if p, err = a.plan(spec); err != nil {
		t.Fatalf("plan: %v", err)
	}
	f, err := a.mountEFS(context.Background(), p, spec.TaskARN)
	wantReason := "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: efs: cannot mount: file system fs-gone not found"
	if err != nil || f == nil || f.code != StopCodeTaskFailedToStart || f.reason != wantReason {
		t.Errorf("mountEFS of a missing file system: got %+v, %v; want TaskFailedToStart %q", f, err, wantReason)
	}
}

func TestPullMessage(t *testing.T) {
	denied := "Error response from daemon: pull access denied for 127.0.0.1:5000/000000000000.dkr.ecr.us-east-1.amazonaws.com/web, " +
		"repository does not exist or may require 'docker login': denied: User: arn:aws:sts::000000000000:assumed-role/exec/1 is not authorized to perform: ecr:BatchGetImage"
	tests := []struct {
		image, engine, want string
	}{
		{"000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v1", denied,
			"pull image manifest has been retried 1 time(s): failed to resolve ref 000000000000.dkr.ecr.us-east-1.amazonaws.com/web:v1: " +
				"pulling from host 000000000000.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests v1]: 403 Forbidden: " +
				"User: arn:aws:sts::000000000000:assumed-role/exec/1 is not authorized to perform: ecr:BatchGetImage"},
		{"000000000000.dkr.ecr.us-east-1.amazonaws.com/web", denied,
			"pull image manifest has been retried 1 time(s): failed to resolve ref 000000000000.dkr.ecr.us-east-1.amazonaws.com/web: " +
				"pulling from host 000000000000.dkr.ecr.us-east-1.amazonaws.com failed with status code [manifests latest]: 403 Forbidden: " +
				"User: arn:aws:sts::000000000000:assumed-role/exec/1 is not authorized to perform: ecr:BatchGetImage"},
		{"nginx", "manifest unknown", "manifest unknown"},
	}
	for _, tc := range tests {
		if got := pullMessage(tc.image, tc.engine); got != tc.want {
			t.Errorf("pullMessage(%q):\n got %q\nwant %q", tc.image, got, tc.want)
		}
	}
}
