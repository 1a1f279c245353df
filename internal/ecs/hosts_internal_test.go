package ecs

import "testing"

// TestEngineForZone: engines take the zones' letters in turn, and records
// name no engine while there is one.
func TestEngineForZone(t *testing.T) {
	two := &Service{dockerHosts: []*dockerHost{{name: "unix:///a.sock"}, {name: "unix:///b.sock"}}}
	one := &Service{dockerHosts: []*dockerHost{{name: "unix:///a.sock"}}}
	for _, tt := range []struct {
		s    *Service
		az   string
		want string
	}{
		{two, "us-east-1a", "unix:///a.sock"},
		{two, "us-east-1b", "unix:///b.sock"},
		{two, "us-east-1c", "unix:///a.sock"},
		{two, "us-east-1f", "unix:///b.sock"},
		{two, "", ""},
		{two, "us-east-1", ""},
		{one, "us-east-1b", ""},
	} {
		if got := tt.s.engineForZone(tt.az); got != tt.want {
			t.Errorf("%d engines, zone %q: got %q, want %q", len(tt.s.dockerHosts), tt.az, got, tt.want)
		}
	}
}

func TestHostLostReason(t *testing.T) {
	for _, tt := range []struct {
		t    task
		want string
	}{
		{task{EC2InstanceID: "i-0123456789abcdef0", taskStatus: taskStatus{Engine: "tcp://h:2376"}}, "Host EC2 (instance i-0123456789abcdef0) stopped/terminated."},
		{task{taskStatus: taskStatus{Engine: "tcp://h:2376"}}, "Host EC2 (instance tcp://h:2376) stopped/terminated."},
	} {
		if got := hostLostReason(tt.t); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
