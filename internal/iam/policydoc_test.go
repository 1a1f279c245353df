package iam

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	api "overcast/internal/api/iam"
)

func TestCheckPolicyDocument(t *testing.T) {
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	tests := []struct {
		name string
		kind docKind
		doc  string
		want string // "" for valid, else the MalformedPolicyDocument message
	}{
		{"allow all", identityPolicy, allowAll, ""},
		{"statement object", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["s3:GetObject","s3:Put*"],"Resource":["arn:aws:s3:::b/*"]}}`, ""},
		{"old version", identityPolicy, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, ""},
		{"no version", identityPolicy, `{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, ""},
		{"not action not resource", identityPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:*"}]}`, ""},
		{"condition", identityPolicy, `{"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"StringEquals":{"aws:username":["a","b"]},"NumericLessThan":{"s3:max-keys":10}}}]}`, ""},
		{"policy variable", identityPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`, ""},
		{"not json", identityPolicy, `{"Version":`, "This policy contains invalid Json"},
		{"array", identityPolicy, `[]`, "This policy contains invalid Json"},
		{"trailing data", identityPolicy, allowAll + `{}`, "This policy contains invalid Json"},
		{"bad version", identityPolicy, `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"no statement", identityPolicy, `{"Version":"2012-10-17"}`, "Syntax errors in policy."},
		{"empty statement list", identityPolicy, `{"Version":"2012-10-17","Statement":[]}`, "Syntax errors in policy."},
		{"unknown top-level key", identityPolicy, `{"Version":"2012-10-17","Statements":[]}`, "Syntax errors in policy."},
		{"lowercase key", identityPolicy, `{"Version":"2012-10-17","Statement":{"effect":"Allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"no effect", identityPolicy, `{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}`, "Missing required field Effect"},
		{"bad effect", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"no action", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, "Policy statement must contain actions."},
		{"empty action list", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "Policy statement must contain actions."},
		{"action and not action", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, "Syntax errors in policy."},
		{"action without vendor", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"no resource", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, "Policy statement must contain resources."},
		{"resource not an arn", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}`, `Resource bucket must be in ARN format or "*".`},
		{"principal in identity policy", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, "Policy document should not specify a principal."},
		{"bad sid", identityPolicy, `{"Version":"2012-10-17","Statement":{"Sid":"has space","Effect":"Allow","Action":"*","Resource":"*"}}`, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"duplicate sid", identityPolicy, `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, "Statement IDs (SID) in a single policy must be unique."},
		{"condition not an object", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}}`, "Syntax errors in policy."},
		{"condition nested too deep", identityPolicy, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"x":"y"}}}}}`, "Syntax errors in policy."},

		{"trust service", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, ""},
		{"trust account and arn", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:user/bob"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, ""},
		{"trust federated", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, ""},
		{"trust star", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, ""},
		{"trust without principal", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "Missing required field Principal"},
		{"trust with resource", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, "Has prohibited field Resource"},
		{"trust with other action", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, "AssumeRole policy may only specify STS AssumeRole actions."},
		{"trust bad principal", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "AWS":"bob"`},
		{"trust unknown principal type", trustPolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Robot":"x.y"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "ROBOT":"x.y"`},
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

func TestPolicySize(t *testing.T) {
	tests := []struct {
		doc  string
		want int
	}{
		{`{}`, 2},
		{"{ \n\t\"a\" : 1 }", 7},
		{`{"Action": "s3:*"}`, 17},
	}
	for _, tt := range tests {
		if got := policySize(tt.doc); got != tt.want {
			t.Errorf("policySize(%q): got %d, want %d", tt.doc, got, tt.want)
		}
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
