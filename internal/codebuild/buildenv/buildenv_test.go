package buildenv

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/codebuild/runner"
	"overcast/internal/codebuild/vpc"
)

func TestBuildProxy(t *testing.T) {
	tests := []struct {
		name    string
		host    map[string]string
		noProxy []string
		want    map[string]string
	}{
		{name: "no proxy", host: map[string]string{}, noProxy: []string{"169.254.170.2"}, want: map[string]string{}},
		{name: "a proxy", host: map[string]string{"http_proxy": "http://proxy:3128"}, noProxy: []string{"169.254.170.2"},
			want: map[string]string{"http_proxy": "http://proxy:3128", "no_proxy": "169.254.170.2", "NO_PROXY": "169.254.170.2"}},
		{name: "a proxy and exceptions", host: map[string]string{"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "corp.example"},
			noProxy: []string{"169.254.170.2"},
			want:    map[string]string{"HTTPS_PROXY": "http://proxy:3128", "no_proxy": "corp.example,169.254.170.2", "NO_PROXY": "169.254.170.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, buildProxy(tt.host, tt.noProxy)); diff != "" {
				t.Errorf("proxy settings (-want +got):\n%s", diff)
			}
		})
	}
}

// engine is an Engine on a unix socket that is never called here.
type engine struct{ Engine }

func (engine) Host() string { return "unix:///var/run/docker.sock" }

// network knows one VPC, holding subnet-1 and sg-1.
type network struct{}

func (network) VPCCIDR(_ context.Context, _, _, id string) (string, error) {
	if id == "vpc-1" {
		return "127.16.0.0/16", nil
	}
	return "", vpc.ErrNotFound
}
func (network) SubnetVPC(context.Context, string, string, string) (string, error) {
	return "vpc-1", nil
}
func (network) SecurityGroupVPC(context.Context, string, string, string) (string, error) {
	return "vpc-1", nil
}

func TestApply(t *testing.T) {
	env := New(Options{Engine: engine{}, Network: network{}, NoProxy: []string{"169.254.170.2"}})
	env.proxy = map[string]string{"http_proxy": "http://proxy:3128"}
	inVPC := vpc.Config{VPCID: "vpc-1", Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}}

	b := runner.Build{Privileged: true, System: map[string]string{"http_proxy": "http://the-projects-own:8080"}}
	if err := env.Apply(context.Background(), "000000000000", "us-east-1", &b, inVPC); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]runner.Mount{{Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}, b.Mounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if got := b.System["http_proxy"]; got != "http://the-projects-own:8080" {
		t.Errorf("http_proxy: got %q, want the service's own value kept", got)
	}
	if b.AttachNetwork == nil {
		t.Error("a build in a VPC has no AttachNetwork")
	}

	plain := runner.Build{}
	if err := env.Apply(context.Background(), "000000000000", "us-east-1", &plain, vpc.Config{}); err != nil {
		t.Fatal(err)
	}
	if plain.Mounts != nil || plain.AttachNetwork != nil || plain.System["http_proxy"] != "http://proxy:3128" {
		t.Errorf("a plain build: got mounts %v, attach %v, env %v; want the proxy alone", plain.Mounts, plain.AttachNetwork != nil, plain.System)
	}

	gone := runner.Build{}
	err := env.Apply(context.Background(), "000000000000", "us-east-1", &gone, vpc.Config{VPCID: "vpc-9", Subnets: []string{"subnet-1"}, SecurityGroupIDs: []string{"sg-1"}})
	if bad := (*vpc.InvalidInputError)(nil); !errors.As(err, &bad) {
		t.Errorf("a VPC that is gone: got %v, want an InvalidInputError", err)
	}
}
