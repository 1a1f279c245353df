package policy

import (
	"testing"

	"overcast"
)

// TestConditions checks every operator family against one condition key,
// k, whose request values are ctx (nil: absent from the request).
func TestConditions(t *testing.T) {
	tests := []struct {
		name   string
		op     string
		values string // the condition's JSON value
		ctx    []string
		want   bool
	}{
		{"StringEquals", "StringEquals", `"abc"`, []string{"abc"}, true},
		{"StringEquals is case-sensitive", "StringEquals", `"abc"`, []string{"ABC"}, false},
		{"StringEquals any of a list", "StringEquals", `["x","abc"]`, []string{"abc"}, true},
		{"StringEquals takes no wildcard", "StringEquals", `"a*"`, []string{"abc"}, false},
		{"StringEquals absent", "StringEquals", `"abc"`, nil, false},
		{"StringNotEquals", "StringNotEquals", `["x","y"]`, []string{"abc"}, true},
		{"StringNotEquals one of them", "StringNotEquals", `["x","abc"]`, []string{"abc"}, false},
		{"StringNotEquals absent holds", "StringNotEquals", `"abc"`, nil, true},
		{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", `"ABC"`, []string{"abc"}, true},
		{"StringNotEqualsIgnoreCase", "StringNotEqualsIgnoreCase", `"ABC"`, []string{"abc"}, false},
		{"StringLike star", "StringLike", `"public/*"`, []string{"public/a/b"}, true},
		{"StringLike question mark", "StringLike", `"v?"`, []string{"v1"}, true},
		{"StringLike no match", "StringLike", `"public/*"`, []string{"private/a"}, false},
		{"StringNotLike", "StringNotLike", `"public/*"`, []string{"private/a"}, true},
		{"StringNotLike absent holds", "StringNotLike", `"public/*"`, nil, true},

		{"ArnEquals", "ArnEquals", `"arn:aws:cloudfront::1:distribution/E1"`, []string{"arn:aws:cloudfront::1:distribution/E1"}, true},
		{"ArnEquals with wildcards", "ArnEquals", `"arn:aws:cloudfront::*:distribution/*"`, []string{"arn:aws:cloudfront::1:distribution/E1"}, true},
		{"ArnLike", "ArnLike", `"arn:aws:iam::1:role/*"`, []string{"arn:aws:iam::1:role/ci"}, true},
		{"ArnLike other account", "ArnLike", `"arn:aws:iam::1:role/*"`, []string{"arn:aws:iam::2:role/ci"}, false},
		{"ArnNotEquals", "ArnNotEquals", `"arn:aws:iam::1:role/a"`, []string{"arn:aws:iam::1:role/b"}, true},
		{"ArnNotLike", "ArnNotLike", `"arn:aws:iam::1:*"`, []string{"arn:aws:iam::1:role/b"}, false},

		{"NumericEquals", "NumericEquals", `10`, []string{"10"}, true},
		{"NumericEquals as text", "NumericEquals", `"10"`, []string{"10.0"}, true},
		{"NumericNotEquals", "NumericNotEquals", `10`, []string{"11"}, true},
		{"NumericLessThan", "NumericLessThan", `10`, []string{"9"}, true},
		{"NumericLessThan equal", "NumericLessThan", `10`, []string{"10"}, false},
		{"NumericLessThanEquals", "NumericLessThanEquals", `10`, []string{"10"}, true},
		{"NumericGreaterThan", "NumericGreaterThan", `10`, []string{"10.5"}, true},
		{"NumericGreaterThanEquals", "NumericGreaterThanEquals", `10`, []string{"9"}, false},
		{"Numeric not a number", "NumericEquals", `10`, []string{"ten"}, false},

		{"DateEquals", "DateEquals", `"2024-01-01T00:00:00Z"`, []string{"2024-01-01T00:00:00Z"}, true},
		{"DateEquals across forms", "DateEquals", `"2024-01-01"`, []string{"1704067200"}, true},
		{"DateNotEquals", "DateNotEquals", `"2024-01-01T00:00:00Z"`, []string{"2024-01-02T00:00:00Z"}, true},
		{"DateLessThan", "DateLessThan", `"2024-06-01T00:00:00Z"`, []string{"2024-01-01T12:00:00+02:00"}, true},
		{"DateLessThanEquals", "DateLessThanEquals", `"2024-01-01T00:00:00Z"`, []string{"2024-01-01T00:00:00Z"}, true},
		{"DateGreaterThan", "DateGreaterThan", `"2024-06-01T00:00:00Z"`, []string{"2024-01-01T00:00:00Z"}, false},
		{"DateGreaterThanEquals", "DateGreaterThanEquals", `"2024-01-01T00:00:00Z"`, []string{"2025-01-01T00:00:00.5Z"}, true},
		{"Date not a date", "DateEquals", `"2024-01-01"`, []string{"yesterday"}, false},

		{"Bool true", "Bool", `true`, []string{"true"}, true},
		{"Bool as text", "Bool", `"false"`, []string{"FALSE"}, true},
		{"Bool false", "Bool", `true`, []string{"false"}, false},
		{"Bool absent", "Bool", `false`, nil, false},
		{"BinaryEquals", "BinaryEquals", `"QmluYXJ5"`, []string{"QmluYXJ5"}, true},

		{"IpAddress", "IpAddress", `"10.0.0.0/8"`, []string{"10.1.2.3"}, true},
		{"IpAddress one address", "IpAddress", `"10.1.2.3"`, []string{"10.1.2.3"}, true},
		{"IpAddress outside", "IpAddress", `["10.0.0.0/8","172.16.0.0/12"]`, []string{"192.168.1.1"}, false},
		{"IpAddress v6", "IpAddress", `"2001:db8::/32"`, []string{"2001:db8::1"}, true},
		{"IpAddress v4-mapped", "IpAddress", `"10.0.0.0/8"`, []string{"::ffff:10.0.0.1"}, true},
		{"IpAddress absent", "IpAddress", `"10.0.0.0/8"`, nil, false},
		{"NotIpAddress", "NotIpAddress", `"10.0.0.0/8"`, []string{"192.168.1.1"}, true},
		{"NotIpAddress inside", "NotIpAddress", `"10.0.0.0/8"`, []string{"10.0.0.1"}, false},

		{"Null true, absent", "Null", `"true"`, nil, true},
		{"Null true, present", "Null", `true`, []string{"x"}, false},
		{"Null false, present", "Null", `"false"`, []string{"x"}, true},
		{"Null false, absent", "Null", `false`, nil, false},

		{"IfExists, absent", "StringEqualsIfExists", `"abc"`, nil, true},
		{"IfExists, present and equal", "StringEqualsIfExists", `"abc"`, []string{"abc"}, true},
		{"IfExists, present and not equal", "StringEqualsIfExists", `"abc"`, []string{"x"}, false},
		{"BoolIfExists", "BoolIfExists", `true`, []string{"false"}, false},
		{"NumericLessThanIfExists absent", "NumericLessThanIfExists", `10`, nil, true},

		{"ForAnyValue one of them", "ForAnyValue:StringEquals", `["a","b"]`, []string{"x", "b"}, true},
		{"ForAnyValue none", "ForAnyValue:StringEquals", `["a","b"]`, []string{"x", "y"}, false},
		{"ForAnyValue absent", "ForAnyValue:StringEquals", `["a","b"]`, nil, false},
		{"ForAnyValue empty", "ForAnyValue:StringEquals", `["a","b"]`, []string{}, false},
		{"ForAnyValue negated", "ForAnyValue:StringNotEquals", `["a","b"]`, []string{"a", "x"}, true},
		{"ForAllValues all of them", "ForAllValues:StringEquals", `["a","b","c"]`, []string{"a", "b"}, true},
		{"ForAllValues one outside", "ForAllValues:StringEquals", `["a","b"]`, []string{"a", "x"}, false},
		{"ForAllValues absent holds", "ForAllValues:StringEquals", `["a","b"]`, nil, true},
		{"ForAllValues like", "ForAllValues:StringLike", `["team/*"]`, []string{"team/a", "team/b"}, true},
		{"ForAllValues negated", "ForAllValues:StringNotEquals", `["a","b"]`, []string{"x", "y"}, true},
		{"ForAllValues negated one inside", "ForAllValues:StringNotEquals", `["a","b"]`, []string{"x", "a"}, false},
		{"ForAnyValue IfExists absent", "ForAnyValue:StringEqualsIfExists", `"a"`, nil, true},
		{"unqualified, several values, one matches", "StringEquals", `"a"`, []string{"x", "a"}, true},
		{"unqualified negated, several values, one matches", "StringNotEquals", `"a"`, []string{"x", "a"}, false},

		{"unknown operator", "StringEqualz", `"abc"`, []string{"abc"}, false},
		{"unknown qualifier", "ForSome:StringEquals", `"abc"`, []string{"abc"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Condition":{"`+tt.op+`":{"k":`+tt.values+`}}}}`)
			r := Request{Action: "s3:GetObject"}
			if tt.ctx != nil {
				r.Context = map[string][]string{"k": tt.ctx}
			}
			if got := Evaluate(r, doc) == Allowed; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConditionKeys checks where condition keys come from: the request,
// whatever the case of their names, else the principal.
func TestConditionKeys(t *testing.T) {
	user := Principal{Kind: overcast.PrincipalUser, AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:user/team/alice", UserID: "AIDAEXAMPLE"}
	session := Principal{AccountID: "111111111111", ARN: "arn:aws:sts::111111111111:assumed-role/ci/build", UserID: "AROAEXAMPLE:build"}
	pathSession := Principal{Kind: overcast.PrincipalAssumedRole, AccountID: "111111111111", ARN: "arn:aws:sts::111111111111:assumed-role/ci/build",
		RoleARN: "arn:aws:iam::111111111111:role/team/ci"}
	root := Principal{AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:root"}
	anonymous := Principal{Kind: overcast.PrincipalAnonymous}
	cdn := Principal{Service: "cloudfront.amazonaws.com"}
	tests := []struct {
		name      string
		condition string
		p         Principal
		ctx       map[string][]string
		want      bool
	}{
		{"key name in any case", `{"StringEquals":{"AWS:SourceArn":"arn:x"}}`, anonymous, map[string][]string{"aws:sourcearn": {"arn:x"}}, true},
		{"context key name in any case", `{"StringEquals":{"aws:sourcearn":"arn:x"}}`, anonymous, map[string][]string{"AWS:SourceArn": {"arn:x"}}, true},
		{"values are case-sensitive", `{"StringEquals":{"aws:SourceArn":"ARN:X"}}`, anonymous, map[string][]string{"aws:SourceArn": {"arn:x"}}, false},
		{"PrincipalAccount", `{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}`, user, nil, true},
		{"PrincipalArn of a user", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/team/alice"}}`, user, nil, true},
		{"PrincipalArn of a session is its role", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/ci"}}`, session, nil, true},
		{"PrincipalArn of a session keeps the role's path", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/team/ci"}}`, pathSession, nil, true},
		{"PrincipalType of a user", `{"StringEquals":{"aws:PrincipalType":"User"}}`, user, nil, true},
		{"PrincipalType of a session, worked out from its ARN", `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`, session, nil, true},
		{"PrincipalType of the root", `{"StringEquals":{"aws:PrincipalType":"Account"}}`, root, nil, true},
		{"PrincipalType of an anonymous caller", `{"StringEquals":{"aws:PrincipalType":"Anonymous"}}`, anonymous, nil, true},
		{"userid", `{"StringLike":{"aws:userid":"AROAEXAMPLE:*"}}`, session, nil, true},
		{"username of a user", `{"StringEquals":{"aws:username":"alice"}}`, user, nil, true},
		{"username of a session is absent", `{"Null":{"aws:username":"true"}}`, session, nil, true},
		{"an anonymous caller has no account", `{"Null":{"aws:PrincipalAccount":"true"}}`, anonymous, nil, true},
		{"PrincipalIsAWSService for a service", `{"Bool":{"aws:PrincipalIsAWSService":"true"}}`, cdn, nil, true},
		{"PrincipalIsAWSService for a user", `{"Bool":{"aws:PrincipalIsAWSService":"false"}}`, user, nil, true},
		{"PrincipalServiceName", `{"StringEquals":{"aws:PrincipalServiceName":"cloudfront.amazonaws.com"}}`, cdn, nil, true},
		{"a service has no principal account", `{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}`, cdn, nil, false},
		{"the request's value wins", `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`, user, map[string][]string{"aws:PrincipalAccount": {"222222222222"}}, true},
		{"ExternalId", `{"StringEquals":{"sts:ExternalId":"secret"}}`, user, map[string][]string{"sts:ExternalId": {"secret"}}, true},
		{"ExternalId absent", `{"StringEquals":{"sts:ExternalId":"secret"}}`, user, nil, false},
		{"policy variable in a value", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, user, map[string][]string{"s3:prefix": {"home/alice/docs"}}, true},
		{"policy variable of someone else", `{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, user, map[string][]string{"s3:prefix": {"home/bob/docs"}}, false},
		{"policy variable with a default", `{"StringEquals":{"s3:prefix":"${aws:username, 'nobody'}"}}`, session, map[string][]string{"s3:prefix": {"nobody"}}, true},
		{"policy variable without a value", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, session, map[string][]string{"s3:prefix": {""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":`+tt.condition+`}}`)
			got := Evaluate(Request{Principal: tt.p, Action: "s3:ListBucket", Context: tt.ctx}, doc) == Allowed
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func mustParse(t *testing.T, text string) *Document {
	t.Helper()
	d, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%s): %v", text, err)
	}
	return d
}
