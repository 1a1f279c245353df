package autoscaling

import (
	"testing"
	"time"
)

func TestPlaceNext(t *testing.T) {
	g := group{Subnets: []string{"subnet-a1", "subnet-b1", "subnet-a2"}, Zones: []string{"us-east-1a", "us-east-1b", "us-east-1a"}}
	tests := []struct {
		name                   string
		instances              []member
		wantSubnet, wantZoneOf string
	}{
		{"empty: first zone, first subnet", nil, "subnet-a1", "us-east-1a"},
		{"the zone with fewest", []member{{Zone: "us-east-1a", SubnetID: "subnet-a1"}}, "subnet-b1", "us-east-1b"},
		{"in the zone, the subnet with fewest", []member{{Zone: "us-east-1a", SubnetID: "subnet-a1"}, {Zone: "us-east-1b", SubnetID: "subnet-b1"}},
			"subnet-a2", "us-east-1a"},
		{"leaving instances do not count", []member{{Zone: "us-east-1a", SubnetID: "subnet-a1", Lifecycle: stateTerminating}},
			"subnet-a2", "us-east-1a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g
			g.Instances = tt.instances
			if subnet, zone := placeNext(g); subnet != tt.wantSubnet || zone != tt.wantZoneOf {
				t.Errorf("got %s in %s, want %s in %s", subnet, zone, tt.wantSubnet, tt.wantZoneOf)
			}
		})
	}
}

func TestChooseVictim(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	g := group{LaunchConfiguration: "new", Zones: []string{"us-east-1a", "us-east-1b"}}
	tests := []struct {
		name      string
		instances []member
		want      string
	}{
		{"from the zone with most", []member{
			{ID: "i-a1", Zone: "us-east-1a", LaunchConfiguration: "old", Launched: t0},
			{ID: "i-b1", Zone: "us-east-1b", LaunchConfiguration: "new", Launched: t0.Add(time.Hour)},
			{ID: "i-b2", Zone: "us-east-1b", LaunchConfiguration: "new", Launched: t0.Add(2 * time.Hour)}}, "i-b1"},
		{"then an old launch configuration", []member{
			{ID: "i-a1", Zone: "us-east-1a", LaunchConfiguration: "new", Launched: t0},
			{ID: "i-a2", Zone: "us-east-1a", LaunchConfiguration: "old", Launched: t0.Add(time.Hour)}}, "i-a2"},
		{"then the longest running", []member{
			{ID: "i-a1", Zone: "us-east-1a", LaunchConfiguration: "new", Launched: t0.Add(time.Hour)},
			{ID: "i-a2", Zone: "us-east-1a", LaunchConfiguration: "new", Launched: t0}}, "i-a2"},
		{"never one already leaving", []member{
			{ID: "i-a1", Zone: "us-east-1a", LaunchConfiguration: "old", Lifecycle: stateTerminating},
			{ID: "i-a2", Zone: "us-east-1a", LaunchConfiguration: "new"}}, "i-a2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := g
			g.Instances = tt.instances
			if got := chooseVictim(g); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
