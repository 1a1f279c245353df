package overcast

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestARN(t *testing.T) {
	tests := []struct {
		in   string
		want ARN
		ok   bool
	}{
		{"arn:aws:iam::000000000000:user/alice", ARN{"aws", "iam", "", "000000000000", "user/alice"}, true},
		{"arn:aws:ecs:us-east-1:123456789012:task/c/abc:def", ARN{"aws", "ecs", "us-east-1", "123456789012", "task/c/abc:def"}, true},
		{"arn:aws:s3:::bucket", ARN{"aws", "s3", "", "", "bucket"}, true},
		{"nope", ARN{}, false},
		{"arn:aws:iam::123", ARN{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseARN(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseARN(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseARN(%q) (-want +got):\n%s", tt.in, diff)
		}
		if ok && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestAccountFromAccessKey(t *testing.T) {
	for key, want := range map[string]bool{"123456789012": true, "AKIAIOSFODNN7EXAMPLE": false, "12345678901a": false, "test": false} {
		if _, ok := AccountFromAccessKey(key); ok != want {
			t.Errorf("AccountFromAccessKey(%q) = %v, want %v", key, ok, want)
		}
	}
}
