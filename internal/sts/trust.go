package sts

import (
	"overcast"
	"overcast/internal/policy"
)

// trusts reports whether a role's trust policy lets caller assume it: an
// Allow for sts:AssumeRole names the caller, and no Deny does.
func trusts(role, doc string, caller overcast.Caller, externalID string) bool {
	ctx := map[string][]string{}
	if externalID != "" {
		ctx["sts:ExternalId"] = []string{externalID}
	}
	return allows(doc, policy.Request{Principal: policy.PrincipalOf(caller), Action: "sts:AssumeRole", Resource: role, Context: ctx})
}

// trustsService reports whether a role's trust policy lets an AWS service
// principal (ecs-tasks.amazonaws.com) assume it.
func trustsService(role, doc, service string) bool {
	return allows(doc, policy.Request{Principal: policy.Principal{Service: service}, Action: "sts:AssumeRole", Resource: role})
}

// allows reports whether a role's trust policy allows r: an Allow, and no
// Deny. The document was validated by IAM when it was stored.
func allows(doc string, r policy.Request) bool {
	p, err := policy.Parse(doc)
	return err == nil && policy.Evaluate(r, p) == policy.Allowed
}
