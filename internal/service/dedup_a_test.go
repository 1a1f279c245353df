package service

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMap(t *testing.T) {
	type names []int
	tests := []struct {
		name string
		in   names
		want []string
	}{
		{"nil is an empty list", nil, []string{}},
		{"in order", names{3, 1, 2}, []string{"3", "1", "2"}},
	}
	for _, tt := range tests {
		got := Map(tt.in, strconv.Itoa)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: Map (-want +got):\n%s", tt.name, diff)
		}
		if got == nil {
			t.Errorf("%s: Map returned nil, want an empty list", tt.name)
		}
	}
}
