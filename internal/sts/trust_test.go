package sts

import (
	"errors"
	"testing"

	"overcast"
	api "overcast/internal/api/sts"
)

// TestTrusts checks what AssumeRole puts to a trust policy: the caller,
// sts:AssumeRole on the role, and sts:ExternalId only when one is given.
// The evaluation rules are internal/policy's and tested there.
func TestTrusts(t *testing.T) {
	const role = "arn:aws:iam::000000000000:role/r"
	user := overcast.Caller{AccountID: "111111111111", Kind: overcast.PrincipalUser, ARN: "arn:aws:iam::111111111111:user/u", UserID: "AIDAU"}
	session := overcast.Caller{AccountID: "111111111111", Kind: overcast.PrincipalAssumedRole, ARN: "arn:aws:sts::111111111111:assumed-role/ci/s",
		RoleARN: "arn:aws:iam::111111111111:role/team/ci"}
	tests := []struct {
		name       string
		doc        string
		caller     overcast.Caller
		externalID string
		want       bool
	}{
		{"account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}}`, user, "", true},
		{"other account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole"}}`, user, "", false},
		{"role with a path", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/team/ci"},"Action":"sts:AssumeRole"}}`, session, "", true},
		{"external ID given", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}}`, user, "x", true},
		{"external ID missing", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}}`, user, "", false},
		{"external ID required absent", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"Null":{"sts:ExternalId":"true"}}}}`, user, "", true},
		{"principal keys", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalType":"User"}}}}`, user, "", true},
		{"not JSON", `{`, user, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trusts(role, tt.doc, tt.caller, tt.externalID); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckSessionPolicy(t *testing.T) {
	tests := []struct {
		name, doc, want string // want: the MalformedPolicyDocument message, "" for valid
	}{
		{"valid", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, ""},
		{"not JSON", `{"Statement":`, "The policy is not in the valid JSON format."},
		{"no resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject"}}`, "Policy statement must contain resources."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPolicy(&tt.doc)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var mp *api.MalformedPolicyDocumentException
			if !errors.As(err, &mp) || mp.ErrorMessage() != tt.want {
				t.Errorf("got %v, want MalformedPolicyDocument %q", err, tt.want)
			}
		})
	}
}
