package iam

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	api "overcast/internal/api/iam"
	"overcast/internal/policy"
)

// TestCheckPolicyDocument checks that grammar faults reach the client as
// MalformedPolicyDocument with IAM's message; the grammar itself is
// internal/policy's and tested there.
func TestCheckPolicyDocument(t *testing.T) {
	tests := []struct {
		name string
		kind policy.Kind
		doc  string
		want string // "" for valid, else the MalformedPolicyDocument message
	}{
		{"identity", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, ""},
		{"trust", policy.RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, ""},
		{"not json", policy.Identity, `{"Version":`, "This policy contains invalid Json"},
		{"identity as trust", policy.RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "Has prohibited field Resource"},
		{"trust as identity", policy.Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, "Policy document should not specify a principal."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPolicyDocument(tt.doc, tt.kind)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var mp *api.MalformedPolicyDocumentException
			if !errors.As(err, &mp) {
				t.Fatalf("got %v, want MalformedPolicyDocument %q", err, tt.want)
			}
			if got := mp.ErrorMessage(); got != tt.want {
				t.Errorf("got message %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEncodeDocument(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{`{"Version":"2012-10-17"}`, "%7B%22Version%22%3A%222012-10-17%22%7D"},
		{"a b+c", "a%20b%2Bc"},
		{"*/:,~_.-", "%2A%2F%3A%2C~_.-"},
		{"\n\t", "%0A%09"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		got := encodeDocument(tt.in)
		if got != tt.want {
			t.Errorf("encodeDocument(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if back, err := url.QueryUnescape(got); err != nil || back != tt.in {
			t.Errorf("url.QueryUnescape(%q): got %q, %v, want %q", got, back, err, tt.in)
		}
		if strings.Contains(got, "+") {
			t.Errorf("encodeDocument(%q) = %q has a '+', which the aws CLI would decode as a space", tt.in, got)
		}
	}
}
