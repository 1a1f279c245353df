package service

import (
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeref(t *testing.T) {
	if got := Deref[string](nil); got != "" {
		t.Errorf("Deref(nil): got %q, want \"\"", got)
	}
	if got := Deref(new(int32(7))); got != 7 {
		t.Errorf("Deref(&7): got %d, want 7", got)
	}
}

func TestOmitZero(t *testing.T) {
	if got := OmitZero(""); got != nil {
		t.Errorf("OmitZero(\"\"): got %q, want nil", *got)
	}
	if got := OmitZero("a"); got == nil || *got != "a" {
		t.Errorf("OmitZero(\"a\"): got %v, want a pointer to \"a\"", got)
	}
	if got := OmitZero(int32(0)); got != nil {
		t.Errorf("OmitZero(0): got %d, want nil", *got)
	}
}

func TestDistinct(t *testing.T) {
	got := Distinct([]string{"b", "a", "b", "c", "a"})
	if want := []string{"b", "a", "c"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Distinct[string](nil); got != nil {
		t.Errorf("Distinct(nil): got %q, want nil", got)
	}
}

func TestDerefOr(t *testing.T) {
	if got := DerefOr(nil, "EC2"); got != "EC2" {
		t.Errorf("DerefOr(nil, EC2): got %q, want EC2", got)
	}
	if got := DerefOr(new(""), "EC2"); got != "" {
		t.Errorf("DerefOr(&\"\", EC2): got %q, want \"\"", got)
	}
}

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
