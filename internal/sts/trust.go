package sts

import (
	"overcast"
	"overcast/internal/policy"
)

// trusts reports whether a role's trust policy lets caller assume it: an
// Allow for sts:AssumeRole names the caller, and no Deny does.
func trusts(role, doc string, caller overcast.Caller, externalID string) bool {
	p, err := policy.Parse(doc) // validated by IAM when it was stored
	if err != nil {
		return false
	}
	ctx := map[string][]string{}
	if externalID != "" {
		ctx["sts:ExternalId"] = []string{externalID}
	}
	r := policy.Request{Principal: policy.PrincipalOf(caller), Action: "sts:AssumeRole", Resource: role, Context: ctx}
	return policy.Evaluate(r, p) == policy.Allowed
}

// trustsService reports whether a role's trust policy lets an AWS service
// principal (ecs-tasks.amazonaws.com) assume it.
func trustsService(role, doc, service string) bool {
	p, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	r := policy.Request{Principal: policy.Principal{Service: service}, Action: "sts:AssumeRole", Resource: role}
	return policy.Evaluate(r, p) == policy.Allowed
}
