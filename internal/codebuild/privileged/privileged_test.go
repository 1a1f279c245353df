package privileged

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/codebuild/runner"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name       string
		privileged bool
		host       string
		wantMounts []runner.Mount
		wantEnv    map[string]string
		wantErr    bool
	}{
		{name: "not privileged", host: "unix:///var/run/docker.sock"},
		{name: "unix socket", privileged: true, host: "unix:///run/user/1000/docker.sock",
			wantMounts: []runner.Mount{{Source: "/run/user/1000/docker.sock", Target: SocketTarget}}},
		{name: "tcp", privileged: true, host: "tcp://10.0.0.5:2375", wantEnv: map[string]string{"DOCKER_HOST": "tcp://10.0.0.5:2375"}},
		{name: "tcp on loopback", privileged: true, host: "tcp://127.0.0.1:2375", wantErr: true},
		{name: "tcp on localhost", privileged: true, host: "tcp://localhost:2375", wantErr: true},
		{name: "ssh", privileged: true, host: "ssh://me@builder", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := runner.Build{Privileged: tt.privileged}
			err := Apply(&b, tt.host)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantMounts, b.Mounts); diff != "" {
				t.Errorf("mounts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEnv, b.System); diff != "" {
				t.Errorf("environment (-want +got):\n%s", diff)
			}
		})
	}
}
