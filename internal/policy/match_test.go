package policy

import "testing"

// TestMatchers checks the pattern matchers policies use: Match for
// wildcards, matchAction for actions (case-insensitive) and matchARN for
// resources (field by field).
func TestMatchers(t *testing.T) {
	type match struct {
		pattern, s string
		want       bool
	}
	wildcards := []match{
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*", "xxaxxbxx", true},
		{"**", "x", true},
		{"prod*", "prod-1", true},
		{"prod*", "dev-prod", false},
		{"*-signed", "v1-signed", true},
		{"v*.*", "v1.2", true},
		{"v*.*", "v12", false},
		{"latest", "latest", true},
		{"latest", "latest2", false},
		{"Latest", "latest", false}, // case-sensitive
		{"https://*.example.com", "https://app.example.com", true},
		{"https://*.example.com", "https://example.com", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", true},
		{"arn:aws:s3:::b?", "arn:aws:s3:::b1", true},
		{"a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // no exponential backtracking
	}
	actions := []match{
		{"s3:GetObject", "s3:GetObject", true},
		{"s3:GetObject", "S3:GETOBJECT", true},
		{"S3:get*", "s3:GetObjectVersion", true},
		{"ecr:batch?etimage", "ecr:BatchGetImage", true},
		{"s3:Get*", "s3:PutObject", false},
		{"*", "iam:CreateUser", true},
		{"s3:*", "s3express:CreateSession", false},
	}
	arns := []match{
		{"arn:aws:cloudfront::000000000000:distribution/E1", "arn:aws:cloudfront::000000000000:distribution/E1", true},
		{"arn:aws:cloudfront::*:distribution/*", "arn:aws:cloudfront::000000000000:distribution/E1", true},
		{"arn:aws:iam::*:role/ci-?", "arn:aws:iam::111111111111:role/ci-7", true},
		{"arn:aws:sqs:*:111111111111:q", "arn:aws:sqs:us-east-1:111111111111:q", true},
		{"arn:aws:sqs:*:111111111111:q", "arn:aws:sqs:us-east-1:222222222222:q", false},
		// A field's wildcard does not reach into the next field.
		{"arn:aws:s3:*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::*", "arn:aws:s3:::b", true},
		// The resource keeps its colons.
		{"arn:aws:logs:us-east-1:1:log-group:g:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true},
		{"arn:aws:iam::1:role/R", "arn:aws:iam::1:role/r", false},
		{"not-an-arn", "not-an-arn", true},
		{"not-an-arn*", "not-an-arn-2", false},
	}
	for _, m := range []struct {
		name  string
		fn    func(pattern, s string) bool
		tests []match
	}{{"Match", Match, wildcards}, {"matchAction", matchAction, actions}, {"matchARN", matchARN, arns}} {
		for _, tt := range m.tests {
			if got := m.fn(tt.pattern, tt.s); got != tt.want {
				t.Errorf("%s(%q, %q): got %v, want %v", m.name, tt.pattern, tt.s, got, tt.want)
			}
		}
	}
}
