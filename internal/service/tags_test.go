package service

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetTag(t *testing.T) {
	have := []Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}
	tests := []struct {
		name, key, value string
		want             []Tag
	}{
		{"replaces in place", "a", "9", []Tag{{Key: "a", Value: "9"}, {Key: "b", Value: "2"}}},
		{"adds last", "c", "3", []Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}},
		{"empty value", "b", "", []Tag{{Key: "a", Value: "1"}, {Key: "b", Value: ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SetTag(have, tt.key, tt.value); !cmp.Equal(got, tt.want) {
				t.Errorf("SetTag(%s=%s): got %v, want %v", tt.key, tt.value, got, tt.want)
			}
			if want := []Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}; !cmp.Equal(have, want) {
				t.Errorf("SetTag changed its input: got %v, want %v", have, want)
			}
		})
	}
}
