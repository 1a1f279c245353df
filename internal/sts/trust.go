package sts

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"overcast"
)

// policy is the part of an IAM policy document a trust decision reads.
type policy struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"-"`
}

type statement struct {
	Effect       string                             `json:"Effect"`
	Principal    json.RawMessage                    `json:"Principal"`
	NotPrincipal json.RawMessage                    `json:"NotPrincipal"`
	Action       stringOrList                       `json:"Action"`
	NotAction    stringOrList                       `json:"NotAction"`
	Condition    map[string]map[string]stringOrList `json:"Condition"`
}

// stringOrList is IAM's "a string or a list of strings".
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings")
	}
	*s = many
	return nil
}

// parsePolicy reads a policy document; Statement may be one object or a list.
func parsePolicy(doc string) (*policy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, err
	}
	p := &policy{Version: raw.Version}
	if len(raw.Statement) == 0 {
		return nil, fmt.Errorf("policy has no Statement")
	}
	if raw.Statement[0] == '{' {
		var st statement
		if err := json.Unmarshal(raw.Statement, &st); err != nil {
			return nil, err
		}
		p.Statement = []statement{st}
	} else if err := json.Unmarshal(raw.Statement, &p.Statement); err != nil {
		return nil, err
	}
	return p, nil
}

// trusts reports whether a role's trust policy lets caller assume it: an
// Allow statement for sts:AssumeRole names the caller and its conditions
// hold, and no Deny statement does.
func trusts(doc string, caller overcast.Caller, externalID string) bool {
	p, err := parsePolicy(doc)
	if err != nil {
		return false
	}
	allowed := false
	for _, st := range p.Statement {
		if !st.covers("sts:AssumeRole") || !st.names(caller) || !st.conditionsHold(caller, externalID) {
			continue
		}
		switch strings.ToLower(st.Effect) {
		case "deny":
			return false
		case "allow":
			allowed = true
		}
	}
	return allowed
}

func (st statement) covers(action string) bool {
	if len(st.NotAction) > 0 {
		return !matchAny(st.NotAction, action)
	}
	return matchAny(st.Action, action)
}

// matchAny matches IAM action patterns (case-insensitive, * and ?).
func matchAny(patterns []string, action string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(action)); ok {
			return true
		}
	}
	return false
}

func (st statement) names(caller overcast.Caller) bool {
	if len(st.NotPrincipal) > 0 {
		return !principalMatches(st.NotPrincipal, caller)
	}
	return principalMatches(st.Principal, caller)
}

// principalMatches reads a Principal element: "*" or {"AWS": ..., "Service": ...}.
func principalMatches(raw json.RawMessage, caller overcast.Caller) bool {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		return star == "*"
	}
	var byType map[string]stringOrList
	if json.Unmarshal(raw, &byType) != nil {
		return false
	}
	for _, p := range byType["AWS"] {
		if awsPrincipalMatches(p, caller) {
			return true
		}
	}
	return false
}

// awsPrincipalMatches: "*", an account (its ID or root ARN, which trusts
// every principal of the account), a user or role ARN, or a session ARN.
func awsPrincipalMatches(p string, caller overcast.Caller) bool {
	switch {
	case p == "*":
		return true
	case overcast.IsAccountID(p):
		return p == caller.AccountID
	}
	a, ok := overcast.ParseARN(p)
	if !ok {
		return false
	}
	if a.Service == "iam" && a.Resource == "root" {
		return a.AccountID == caller.AccountID
	}
	return p == caller.ARN || (caller.RoleARN != "" && p == caller.RoleARN)
}

// conditionsHold evaluates the condition keys AssumeRole requests carry:
// sts:ExternalId and the caller's aws:Principal* keys. Any other key is
// absent from the request, so its condition fails, as in AWS.
func (st statement) conditionsHold(caller overcast.Caller, externalID string) bool {
	values := map[string]string{
		"sts:externalid":            externalID,
		"aws:principalarn":          caller.ARN,
		"aws:principalaccount":      caller.AccountID,
		"aws:principaltype":         principalType(caller.Kind),
		"aws:userid":                caller.UserID,
		"aws:principalisawsservice": "false",
	}
	for op, conds := range st.Condition {
		ifExists := strings.HasSuffix(op, "IfExists")
		op = strings.TrimSuffix(op, "IfExists")
		for key, want := range conds {
			got, present := values[strings.ToLower(key)]
			if present && key == "sts:ExternalId" && externalID == "" {
				present = false
			}
			if !present {
				if ifExists || op == "Null" {
					continue
				}
				return false
			}
			if !compare(op, got, want) {
				return false
			}
		}
	}
	return true
}

func compare(op, got string, want []string) bool {
	for _, w := range want {
		switch op {
		case "StringEquals", "ArnEquals":
			if got == w {
				return true
			}
		case "StringEqualsIgnoreCase":
			if strings.EqualFold(got, w) {
				return true
			}
		case "StringLike", "ArnLike":
			if ok, _ := path.Match(w, got); ok {
				return true
			}
		case "StringNotEquals", "ArnNotEquals":
			return got != w && !contains(want, got)
		case "StringNotLike", "ArnNotLike":
			for _, w := range want {
				if ok, _ := path.Match(w, got); ok {
					return false
				}
			}
			return true
		case "Bool":
			if strings.EqualFold(got, w) {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func principalType(k overcast.PrincipalKind) string {
	switch k {
	case overcast.PrincipalRoot:
		return "Account"
	case overcast.PrincipalUser:
		return "User"
	case overcast.PrincipalAssumedRole:
		return "AssumedRole"
	case overcast.PrincipalFederated:
		return "FederatedUser"
	}
	return "Anonymous"
}
