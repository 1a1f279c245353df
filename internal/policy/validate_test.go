package policy

import (
	"errors"
	"strings"
	"testing"
)

// wantFault checks err against the message want ("" for no error).
func wantFault(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got %v, want no error", err)
		}
		return
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want *Error %q", err, want)
	}
	if pe.Message != want {
		t.Errorf("got message %q, want %q", pe.Message, want)
	}
}

// TestValidateIAM checks identity and trust policies against IAM's grammar
// and messages (the MalformedPolicyDocument text IAM gives).
func TestValidateIAM(t *testing.T) {
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	tests := []struct {
		name string
		kind Kind
		doc  string
		want string // "" for valid, else the message
	}{
		{"allow all", Identity, allowAll, ""},
		{"statement object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":["s3:GetObject","s3:Put*"],"Resource":["arn:aws:s3:::b/*"]}}`, ""},
		{"old version", Identity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, ""},
		{"no version", Identity, `{"Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, ""},
		{"id", Identity, `{"Id":"mine","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`, ""},
		{"not action not resource", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:*"}]}`, ""},
		{"condition", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"StringEquals":{"aws:username":["a","b"]},"NumericLessThan":{"s3:max-keys":10}}}]}`, ""},
		{"policy variable", Identity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`, ""},
		{"duplicate key keeps the last", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}}`, ""},
		{"empty sid twice", Identity, `{"Statement":[{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}]}`, ""},
		{"not json", Identity, `{"Version":`, "This policy contains invalid Json"},
		{"array", Identity, `[]`, "This policy contains invalid Json"},
		{"null", Identity, `null`, "This policy contains invalid Json"},
		{"trailing data", Identity, allowAll + `{}`, "This policy contains invalid Json"},
		{"bad version", Identity, `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"version not a string", Identity, `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"id not a string", Identity, `{"Id":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"no statement", Identity, `{"Version":"2012-10-17"}`, "Syntax errors in policy."},
		{"empty statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, "Syntax errors in policy."},
		{"null statement", Identity, `{"Version":"2012-10-17","Statement":[null]}`, "Syntax errors in policy."},
		{"statement a string", Identity, `{"Version":"2012-10-17","Statement":"nope"}`, "Syntax errors in policy."},
		{"unknown top-level key", Identity, `{"Version":"2012-10-17","Statements":[]}`, "Syntax errors in policy."},
		{"lowercase key", Identity, `{"Version":"2012-10-17","Statement":{"effect":"Allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"no effect", Identity, `{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}`, "Missing required field Effect"},
		{"bad effect", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"no action", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, "Policy statement must contain actions."},
		{"empty action list", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "Policy statement must contain actions."},
		{"action a number", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":5,"Resource":"*"}}`, "Syntax errors in policy."},
		{"action and not action", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, "Syntax errors in policy."},
		{"action without vendor", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"action with a space", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get Object","Resource":"*"}}`, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"no resource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, "Policy statement must contain resources."},
		{"resource and not resource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}}`, "Syntax errors in policy."},
		{"resource in another partition", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws-cn:s3:::b"}}`, `Partition "aws-cn" is not valid for resource "arn:aws-cn:s3:::b".`},
		{"resource with no partition", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn::s3:::b"}}`, `Partition "" is not valid for resource "arn::s3:::b".`},
		{"resource with a wildcard partition", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:*:s3:::b"}}`, ""},
		{"iam resource with a region", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam:us-east-1:123456789012:user/a"}}`, "IAM resource arn:aws:iam:us-east-1:123456789012:user/a cannot contain region information."},
		{"resource not an arn", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}`, `Resource bucket must be in ARN format or "*".`},
		{"principal in identity policy", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, "Policy document should not specify a principal."},
		{"not principal in identity policy", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":"*","Action":"s3:*","Resource":"*"}}`, "Policy document should not specify a principal."},
		{"bad sid", Identity, `{"Version":"2012-10-17","Statement":{"Sid":"has space","Effect":"Allow","Action":"*","Resource":"*"}}`, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"sid not a string", Identity, `{"Version":"2012-10-17","Statement":{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}}`, "Syntax errors in policy."},
		{"duplicate sid", Identity, `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, "Statement IDs (SID) in a single policy must be unique."},
		{"condition not an object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}}`, "Syntax errors in policy."},
		{"condition nested too deep", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"x":"y"}}}}}`, "Syntax errors in policy."},
		{"condition operator null", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":null}}}`, "Syntax errors in policy."},

		{"trust service", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, ""},
		{"trust account and arn", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:root","arn:aws:iam::123456789012:user/bob"]},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, ""},
		{"trust federated", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, ""},
		{"trust star", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, ""},
		{"trust not principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`, ""},
		{"trust sid with a space", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Sid":"a b","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, ""},
		{"trust without principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, "Missing required field Principal"},
		{"trust with principal and not principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"sts:AssumeRole"}]}`, "Syntax errors in policy."},
		{"trust with resource", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`, "Has prohibited field Resource"},
		{"trust with not resource", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}]}`, "Has prohibited field NotResource"},
		{"trust with other action", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`, "AssumeRole policy may only specify STS AssumeRole actions."},
		{"trust principal string", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"me","Action":"sts:AssumeRole"}]}`, "Invalid principal in policy: me"},
		{"trust empty principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}]}`, "Syntax errors in policy."},
		{"trust bad principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "AWS":"bob"`},
		{"trust s3 arn as principal", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::b"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "AWS":"arn:aws:s3:::b"`},
		{"trust service without a dot", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "SERVICE":"ecs"`},
		{"trust unknown principal type", RoleTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Robot":"x.y"},"Action":"sts:AssumeRole"}]}`, `Invalid principal in policy: "ROBOT":"x.y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Validate(tt.doc, tt.kind)
			wantFault(t, err, tt.want)
			if err == nil && doc == nil {
				t.Error("got no document and no error")
			}
		})
	}
}

// TestValidateResource checks resource policies against the grammar
// services share, in S3's words, with and without a Scope.
func TestValidateResource(t *testing.T) {
	inBucket := func(r string) bool {
		return r == "*" || strings.HasPrefix(r, "arn:aws:s3:::b/") || r == "arn:aws:s3:::b"
	}
	s3 := Scope{Vendor: "s3", Resource: inBucket}
	tests := []struct {
		name  string
		scope Scope
		doc   string
		want  string
	}{
		{"bucket policy", s3, `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"any words","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, ""},
		{"service principal and condition", s3, `{"Statement":{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"ForAnyValue:StringLikeIfExists":{"AWS:SourceArn":["arn:aws:cloudfront::*"]},"Null":{"aws:SourceIp":true}}}}`, ""},
		{"origin access identity", s3, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, ""},
		{"not principal and not action", s3, `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/public/*"}}`, ""},
		{"unknown keys are ignored", s3, `{"Extra":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Comment":"x"}}`, ""},
		{"repository policy without resource", Scope{Vendor: "ecr"}, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["ecr:BatchGetImage"]}}`, ""},
		{"any vendor", Scope{}, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`, ""},

		{"empty", s3, ``, "Policies must be valid JSON and the first byte must be '{'"},
		{"not an object", s3, `  ["x"]`, "Policies must be valid JSON and the first byte must be '{'"},
		{"broken", s3, `{"Statement":[`, "This policy contains invalid Json"},
		{"bad version", s3, `{"Version":"2000-01-01","Statement":[]}`, "The policy must contain a valid version string"},
		{"no statement", s3, `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"statement empty", s3, `{"Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"statement a string", s3, `{"Statement":"nope"}`, "This policy contains invalid Json"},
		{"action a number", s3, `{"Statement":{"Effect":"Allow","Principal":"*","Action":5,"Resource":"*"}}`, "This policy contains invalid Json"},
		{"bad effect", s3, `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "Invalid effect: Maybe"},
		{"no effect", s3, `{"Statement":[{"Principal":"*","Action":"s3:*","Resource":"*"}]}`, "Invalid effect: "},
		{"principal string", s3, `{"Statement":[{"Effect":"Allow","Principal":"me","Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"principal account name", s3, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"principal empty", s3, `{"Statement":[{"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"principal unknown type", s3, `{"Statement":[{"Effect":"Allow","Principal":{"Robot":"x.y"},"Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"missing principal", s3, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "Missing required field Principal"},
		{"principal and not principal", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}]}`, "Syntax errors in policy."},
		{"no action", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`, "Missing required field Action"},
		{"action and not action", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}]}`, "Syntax errors in policy."},
		{"other vendor", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}]}`, "Policy has invalid action"},
		{"no vendor", Scope{}, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"GetSecretValue"}]}`, "Policy has invalid action"},
		{"no resource", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}`, "Missing required field Resource"},
		{"other bucket", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::elsewhere/*"}]}`, "Policy has invalid resource"},
		{"resource not an arn", Scope{}, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"repo"}]}`, "Policy has invalid resource"},
		{"unknown operator", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Maybe":{"a":"b"}}}]}`, "Policy has an invalid condition key"},
		{"unknown set qualifier", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"a":"b"}}}]}`, "Policy has an invalid condition key"},
		{"NullIfExists", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}]}`, "Policy has an invalid condition key"},
		{"condition value an object", s3, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"a":{"b":"c"}}}}]}`, "This policy contains invalid Json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ValidateResource(tt.doc, tt.scope)
			wantFault(t, err, tt.want)
		})
	}
}

func TestValidateInvalidJSON(t *testing.T) {
	for _, kind := range []Kind{Identity, RoleTrust, Resource} {
		if _, err := Validate(`{"Statement":`, kind); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("kind %d: got %v, want it to wrap ErrInvalidJSON", kind, err)
		}
		if _, err := Validate(`{"Statement":[]}`, kind); err == nil || errors.Is(err, ErrInvalidJSON) {
			t.Errorf("kind %d: got %v, want a grammar fault that is not ErrInvalidJSON", kind, err)
		}
	}
	if _, err := Validate(`{}`, Kind(0)); err == nil {
		t.Error("an unknown kind: got no error")
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		doc  string
		want int
	}{
		{`{}`, 2},
		{"{ \n\t\"a\" : 1 }", 7},
		{`{"Action": "s3:*"}`, 17},
		{`{"a":"é"}`, 9},
	}
	for _, tt := range tests {
		if got := Size(tt.doc); got != tt.want {
			t.Errorf("Size(%q): got %d, want %d", tt.doc, got, tt.want)
		}
	}
}
