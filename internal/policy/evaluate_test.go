package policy

import (
	"testing"

	"overcast"
)

var (
	alice      = Principal{Kind: overcast.PrincipalUser, AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:user/alice", UserID: "AIDAALICE"}
	bob        = Principal{Kind: overcast.PrincipalUser, AccountID: "222222222222", ARN: "arn:aws:iam::222222222222:user/bob"}
	ciSession  = Principal{Kind: overcast.PrincipalAssumedRole, AccountID: "333333333333", ARN: "arn:aws:sts::333333333333:assumed-role/ci/build-7"}
	rootOf1    = Principal{Kind: overcast.PrincipalRoot, AccountID: "111111111111", ARN: "arn:aws:iam::111111111111:root"}
	anonymous  = Principal{Kind: overcast.PrincipalAnonymous}
	cloudfront = Principal{Service: "cloudfront.amazonaws.com"}
)

// TestEvaluate checks AWS's evaluation rules on one document each.
func TestEvaluate(t *testing.T) {
	const allowGet = `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`
	tests := []struct {
		name       string
		statements string // the Statement list's contents
		p          Principal
		action     string
		resource   string
		want       Decision
	}{
		{"allow", allowGet, alice, "s3:GetObject", "arn:aws:s3:::b/k", Allowed},
		{"no statement applies", allowGet, alice, "s3:PutObject", "arn:aws:s3:::b/k", NoMatch},
		{"deny wins", allowGet + `,{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/secret/k", Denied},
		{"deny wins whatever the order", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},` + allowGet, alice, "s3:GetObject", "arn:aws:s3:::b/k", Denied},
		{"a deny that does not apply", allowGet + `,{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", Allowed},

		{"action wildcard", `{"Effect":"Allow","Principal":"*","Action":"s3:Get*","Resource":"*"}`, alice, "s3:GetObjectVersion", "arn:aws:s3:::b/k", Allowed},
		{"action case-insensitive", allowGet, alice, "S3:getobject", "arn:aws:s3:::b/k", Allowed},
		{"action list", `{"Effect":"Allow","Principal":"*","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", Allowed},
		{"NotAction excludes", `{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}`, alice, "s3:DeleteObject", "arn:aws:s3:::b/k", NoMatch},
		{"NotAction covers the rest", `{"Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", Allowed},
		{"NotAction deny", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","NotAction":"s3:ListBucket","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", Denied},

		{"resource case-sensitive", allowGet, alice, "s3:GetObject", "arn:aws:s3:::B/k", NoMatch},
		{"resource question mark", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b/v?"}`, alice, "s3:GetObject", "arn:aws:s3:::b/v1", Allowed},
		{"resource star spans slashes", allowGet, alice, "s3:GetObject", "arn:aws:s3:::b/a/b/c", Allowed},
		{"bucket is not its objects", allowGet, alice, "s3:GetObject", "arn:aws:s3:::b", NoMatch},
		{"NotResource excludes", `{"Effect":"Allow","Principal":"*","Action":"*","NotResource":"arn:aws:s3:::b/private/*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/private/k", NoMatch},
		{"NotResource covers the rest", `{"Effect":"Allow","Principal":"*","Action":"*","NotResource":"arn:aws:s3:::b/private/*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/public/k", Allowed},
		{"no resource element applies to any", `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`, alice, "sts:AssumeRole", "arn:aws:iam::1:role/r", Allowed},
		{"resource policy variable", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/home/alice/k", Allowed},
		{"resource policy variable, someone else's", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/home/bob/k", NoMatch},
		{"resource policy variable without a value", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"}`, ciSession, "s3:GetObject", "arn:aws:s3:::b/home//k", NoMatch},

		{"NotPrincipal excludes", `{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", NoMatch},
		{"NotPrincipal denies the rest", `{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}`, bob, "s3:GetObject", "arn:aws:s3:::b/k", Denied},
		{"NotPrincipal denies anonymous", `{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}`, anonymous, "s3:GetObject", "arn:aws:s3:::b/k", Denied},
		{"identity policy: no principal applies to any", `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", Allowed},
		{"a statement without actions applies to none", `{"Effect":"Allow","Principal":"*","Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", NoMatch},
		{"an empty action list applies to none", `{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", NoMatch},
		{"a condition that fails", `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, alice, "s3:GetObject", "arn:aws:s3:::b/k", NoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, `{"Version":"2012-10-17","Statement":[`+tt.statements+`]}`)
			got := Evaluate(Request{Principal: tt.p, Action: tt.action, Resource: tt.resource}, doc)
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEvaluatePrincipal checks whom a Principal element takes, in a
// statement that allows every action on every resource.
func TestEvaluatePrincipal(t *testing.T) {
	tests := []struct {
		name      string
		principal string // the Principal element's value
		p         Principal
		want      Decision
	}{
		{"star takes anonymous", `"*"`, anonymous, Allowed},
		{"star takes services", `"*"`, cloudfront, Allowed},
		{"AWS star takes anonymous", `{"AWS":"*"}`, anonymous, Allowed},
		{"AWS star is not a service", `{"AWS":"*"}`, cloudfront, NoMatch},
		{"account ID takes its users", `{"AWS":"111111111111"}`, alice, Allowed},
		{"account ID is not another account", `{"AWS":"111111111111"}`, bob, NoMatch},
		{"account ID is not anonymous", `{"AWS":"111111111111"}`, anonymous, NoMatch},
		{"account root takes its users", `{"AWS":"arn:aws:iam::111111111111:root"}`, alice, Allowed},
		{"account root takes the root", `{"AWS":"arn:aws:iam::111111111111:root"}`, rootOf1, Allowed},
		{"account root takes its sessions", `{"AWS":"arn:aws:iam::333333333333:root"}`, ciSession, Allowed},
		{"user ARN", `{"AWS":["arn:aws:iam::111111111111:user/alice"]}`, alice, Allowed},
		{"user ARN is not another user", `{"AWS":["arn:aws:iam::111111111111:user/carol"]}`, alice, NoMatch},
		{"role ARN takes its sessions", `{"AWS":"arn:aws:iam::333333333333:role/ci"}`, ciSession, Allowed},
		{"role ARN is not another role's session", `{"AWS":"arn:aws:iam::333333333333:role/deploy"}`, ciSession, NoMatch},
		{"session ARN", `{"AWS":"arn:aws:sts::333333333333:assumed-role/ci/build-7"}`, ciSession, Allowed},
		{"service principal", `{"Service":"cloudfront.amazonaws.com"}`, cloudfront, Allowed},
		{"service principal is not a user", `{"Service":"cloudfront.amazonaws.com"}`, alice, NoMatch},
		{"another service", `{"Service":"ecs.amazonaws.com"}`, cloudfront, NoMatch},
		{"a service is not an account", `{"AWS":"111111111111"}`, Principal{Service: "cloudfront.amazonaws.com", AccountID: "111111111111"}, NoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statement := `{"Effect":"Allow","Principal":` + tt.principal + `,"Action":"*","Resource":"*"}`
			doc := mustParse(t, `{"Version":"2012-10-17","Statement":[`+statement+`]}`)
			if got := Evaluate(Request{Principal: tt.p, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, doc); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluateDocuments(t *testing.T) {
	allow := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	deny := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}}`)
	other := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`)
	// In a 2008-10-17 document ${...} is text.
	literal := mustParse(t, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}"}}`)
	tests := []struct {
		name     string
		docs     []*Document
		action   string
		resource string
		want     Decision
	}{
		{"none", nil, "s3:GetObject", "*", NoMatch},
		{"nil documents", []*Document{nil, nil}, "s3:GetObject", "*", NoMatch},
		{"one allows", []*Document{other, allow}, "s3:GetObject", "*", Allowed},
		{"another denies", []*Document{allow, deny}, "s3:DeleteObject", "*", Denied},
		{"a deny in the first wins", []*Document{deny, allow}, "s3:DeleteObject", "*", Denied},
		{"none applies", []*Document{other, deny}, "s3:GetObject", "*", NoMatch},
		{"variables are text before 2012-10-17", []*Document{literal}, "s3:GetObject", "arn:aws:s3:::b/${aws:username}", Allowed},
		{"variables are text before 2012-10-17, after one that has them", []*Document{allow, literal}, "iam:GetUser", "arn:aws:s3:::b/${aws:username}", Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(Request{Principal: alice, Action: tt.action, Resource: tt.resource}, tt.docs...); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEvaluateTrust checks the decisions AssumeRole asks for.
func TestEvaluateTrust(t *testing.T) {
	const role = "arn:aws:iam::333333333333:role/ci"
	tests := []struct {
		name  string
		trust string
		p     Principal
		ctx   map[string][]string
		want  Decision
	}{
		{"the account", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}`, alice, nil, Allowed},
		{"another account", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}`, bob, nil, NoMatch},
		{"a service only", `{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}`, alice, nil, NoMatch},
		{"another action", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRoleWithWebIdentity"}`, alice, nil, NoMatch},
		{"action wildcard", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:*"}`, alice, nil, Allowed},
		{"external ID", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}`, alice, map[string][]string{"sts:ExternalId": {"x1"}}, Allowed},
		{"wrong external ID", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}`, alice, map[string][]string{"sts:ExternalId": {"x2"}}, NoMatch},
		{"missing external ID", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}`, alice, nil, NoMatch},
		{"deny a user", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole"}`, alice, nil, Denied},
		{"principal condition", `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":["111111111111","222222222222"]}}}`, bob, nil, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Validate(`{"Version":"2012-10-17","Statement":[`+tt.trust+`]}`, RoleTrust)
			if err != nil {
				t.Fatal(err)
			}
			if got := Evaluate(Request{Principal: tt.p, Action: "sts:AssumeRole", Resource: role, Context: tt.ctx}, doc); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrincipalOf(t *testing.T) {
	c := overcast.Caller{AccountID: "1", Kind: overcast.PrincipalAssumedRole, ARN: "arn:aws:sts::1:assumed-role/r/s", UserID: "AROA:s",
		RoleARN: "arn:aws:iam::1:role/p/r", AccessKeyID: "ASIA", SessionToken: "t"}
	want := Principal{Kind: overcast.PrincipalAssumedRole, AccountID: "1", ARN: "arn:aws:sts::1:assumed-role/r/s", UserID: "AROA:s", RoleARN: "arn:aws:iam::1:role/p/r"}
	if got := PrincipalOf(c); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := PrincipalOf(overcast.Caller{Kind: overcast.PrincipalAnonymous, AccountID: "1"}); got != (Principal{Kind: overcast.PrincipalAnonymous}) {
		t.Errorf("anonymous: got %+v", got)
	}
}

func TestPublic(t *testing.T) {
	tests := []struct {
		name       string
		statements string
		want       bool
	}{
		{"principal star", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`, true},
		{"AWS star", `{"Effect":"Allow","Principal":{"AWS":["111111111111","*"]},"Action":"s3:GetObject","Resource":"*"}`, true},
		{"service star", `{"Effect":"Allow","Principal":{"Service":"*"},"Action":"s3:GetObject","Resource":"*"}`, true},
		{"not principal", `{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}`, true},
		{"an account", `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}`, false},
		{"a deny", `{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}`, false},
		{"pinned to an account", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`, false},
		{"pinned to a network", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, false},
		{"pinned with a wildcard", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:cloudfront::*"}}}`, true},
		{"a negated pin", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}}`, true},
		{"a condition on something else", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, true},
		{"a null test", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Null":{"aws:SourceArn":"false"}}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, `{"Statement":[`+tt.statements+`]}`)
			if got := doc.Public(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
