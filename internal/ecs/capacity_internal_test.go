package ecs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/ecs"
)

func TestProviderReservation(t *testing.T) {
	tests := []struct {
		name string
		m, n int
		want float64
	}{
		{"nothing needed, no instance", 0, 0, 100},
		{"tasks wait, no instance", 3, 0, 200},
		{"instances idle", 0, 4, 0},
		{"as many as needed", 2, 2, 100},
		{"half used", 1, 2, 50},
		{"short of instances", 3, 2, 150},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := providerReservation(tc.m, tc.n); got != tc.want {
				t.Errorf("providerReservation(%d, %d): got %v, want %v", tc.m, tc.n, got, tc.want)
			}
		})
	}
}

func TestScaledCapacity(t *testing.T) {
	scaling := func(target, minStep, maxStep int32) api.ManagedScaling {
		return api.ManagedScaling{TargetCapacity: &target, MinimumScalingStepSize: &minStep, MaximumScalingStepSize: &maxStep}
	}
	tests := []struct {
		name                           string
		m, desired, groupMin, groupMax int
		scaling                        api.ManagedScaling
		want                           int
	}{
		{"from zero", 1, 0, 0, 10, scaling(100, 1, 10000), 1},
		{"steady", 2, 2, 0, 10, scaling(100, 1, 10000), 2},
		{"target leaves spare", 3, 3, 0, 10, scaling(50, 1, 10000), 6},
		{"minimum step", 1, 0, 0, 10, scaling(100, 3, 10000), 3},
		{"maximum step", 8, 1, 0, 10, scaling(100, 1, 2), 3},
		{"group max", 8, 1, 0, 4, scaling(100, 1, 10000), 4},
		{"scale in at once", 1, 5, 0, 10, scaling(100, 1, 1), 1},
		{"scale in to group min", 0, 5, 2, 10, scaling(100, 1, 10000), 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scaledCapacity(tc.m, tc.desired, tc.groupMin, tc.groupMax, tc.scaling); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestInstancesNeeded(t *testing.T) {
	small := reservation{CPU: 256, Memory: 512}
	tests := []struct {
		name  string
		usage groupUsage
		want  int
	}{
		{"busy only", groupUsage{busy: 2}, 2},
		{"no size known: one instance each", groupUsage{waiting: []reservation{small, small}}, 2},
		{"packed on instances of the group's size", groupUsage{busy: 1, size: reservation{CPU: 1024, Memory: 2048},
			waiting: []reservation{small, small, small, small, small}}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.usage.needed(); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAssignProviders(t *testing.T) {
	item := func(name string, base, weight int32) api.CapacityProviderStrategyItem {
		return api.CapacityProviderStrategyItem{CapacityProvider: &name, Base: &base, Weight: &weight}
	}
	tests := []struct {
		name     string
		strategy api.CapacityProviderStrategy
		have     map[string]int
		count    int
		want     map[string]int
	}{
		{"one provider, weight 0", api.CapacityProviderStrategy{item("a", 0, 0)}, nil, 3, map[string]int{"a": 3}},
		{"base first, then weights", api.CapacityProviderStrategy{item("a", 2, 1), item("b", 0, 3)}, nil, 6,
			map[string]int{"a": 3, "b": 3}},
		{"weights 1:3", api.CapacityProviderStrategy{item("a", 0, 1), item("b", 0, 3)}, nil, 8, map[string]int{"a": 2, "b": 6}},
		{"weight 0 gets base only", api.CapacityProviderStrategy{item("a", 1, 0), item("b", 0, 1)}, nil, 4,
			map[string]int{"a": 1, "b": 3}},
		{"a service's tasks count", api.CapacityProviderStrategy{item("a", 1, 1), item("b", 0, 1)}, map[string]int{"a": 1}, 2,
			map[string]int{"a": 1, "b": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]int{}
			for _, p := range assignProviders(tc.strategy, tc.have, tc.count) {
				got[p]++
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tasks per provider (-want +got):\n%s", diff)
			}
		})
	}
}
