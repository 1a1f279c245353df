package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"overcast/internal/docker"
)

// TestUpHelp: asking for the usage is not an error (exit status 0), a
// flag overcast does not know is.
func TestUpHelp(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"-h"}, false},
		{[]string{"--help"}, false},
		{[]string{"--no-such-flag"}, true},
	} {
		if err := up(tt.args); (err != nil) != tt.wantErr {
			t.Errorf("up(%q): got %v, want error %v", tt.args, err, tt.wantErr)
		}
	}
}

// TestDockerHosts: --docker-host takes unix and tcp engines, replaces
// OVERCAST_DOCKER_HOSTS's list, gives TLS files to tcp hosts only, and
// refuses other forms; an engine that does not answer stops up at start.
func TestDockerHosts(t *testing.T) {
	t.Setenv("DOCKER_CERT_PATH", "")
	for _, tt := range []struct {
		name       string
		env, given []string
		ca         string
		want       []docker.Options
		wantErr    string
	}{
		{name: "none"},
		{name: "env", env: []string{"unix:///a.sock", " tcp://h:2376"},
			want: []docker.Options{{Host: "unix:///a.sock"}, {Host: "tcp://h:2376"}}},
		{name: "flags replace env", env: []string{"unix:///a.sock"}, given: []string{"unix:///b.sock"},
			want: []docker.Options{{Host: "unix:///b.sock"}}},
		{name: "tls", given: []string{"unix:///a.sock", "tcp://h:2376"}, ca: "ca.pem",
			want: []docker.Options{{Host: "unix:///a.sock"}, {Host: "tcp://h:2376", TLSCA: "ca.pem"}}},
		{name: "bad form", given: []string{"h:2376"}, wantErr: `--docker-host "h:2376": want unix:///path or tcp://host:port`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := dockerHostsFlag{fromEnv: tt.env, given: tt.given}
			got, err := f.options(tt.ca, "", "")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(docker.Options{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}

	dir := t.TempDir()
	err := up([]string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--docker-host", "unix://" + dir + "/no-engine.sock"})
	if err == nil || !strings.Contains(err.Error(), "docker host unix://"+dir+"/no-engine.sock does not answer") {
		t.Errorf("up with an engine that does not answer: got %v", err)
	}
}
