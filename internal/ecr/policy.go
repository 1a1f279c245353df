package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	api "overcast/internal/api/ecr"
	"overcast/internal/ecr/registry"
	"overcast/internal/store"
)

// repoPolicy is a repository policy, parsed: a resource policy whose
// statements grant (or deny) ECR actions to principals of other accounts.
type repoPolicy struct {
	Statements []policyStatement
}

type policyStatement struct {
	Deny bool
	// Principals: "*" for anyone, account IDs, or ARNs.
	Principals    []string
	NotPrincipals []string
	Actions       []string
	NotActions    []string
}

func invalidPolicy() error {
	return api.NewInvalidParameterException("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
}

// parseRepoPolicy validates a repository policy the way ECR does: JSON
// with a non-empty Statement, each with an Effect, a Principal and ECR
// actions.
func parseRepoPolicy(text string) (*repoPolicy, error) {
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, invalidPolicy()
	}
	if doc.Version != "" && doc.Version != "2012-10-17" && doc.Version != "2008-10-17" {
		return nil, invalidPolicy()
	}
	var raws []json.RawMessage
	if st := bytes.TrimSpace(doc.Statement); len(st) > 0 && st[0] == '{' {
		raws = []json.RawMessage{st}
	} else if err := json.Unmarshal(doc.Statement, &raws); err != nil || len(raws) == 0 {
		return nil, invalidPolicy()
	}
	p := &repoPolicy{}
	for _, raw := range raws {
		var st struct {
			Effect       string          `json:"Effect"`
			Principal    json.RawMessage `json:"Principal"`
			NotPrincipal json.RawMessage `json:"NotPrincipal"`
			Action       json.RawMessage `json:"Action"`
			NotAction    json.RawMessage `json:"NotAction"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, invalidPolicy()
		}
		var ps policyStatement
		switch st.Effect {
		case "Allow":
		case "Deny":
			ps.Deny = true
		default:
			return nil, invalidPolicy()
		}
		var err error
		if (st.Principal == nil) == (st.NotPrincipal == nil) {
			return nil, invalidPolicy()
		}
		if st.Principal != nil {
			ps.Principals, err = principals(st.Principal)
		} else {
			ps.NotPrincipals, err = principals(st.NotPrincipal)
		}
		if err != nil {
			return nil, invalidPolicy()
		}
		if (st.Action == nil) == (st.NotAction == nil) {
			return nil, invalidPolicy()
		}
		if st.Action != nil {
			ps.Actions, err = stringList(st.Action)
		} else {
			ps.NotActions, err = stringList(st.NotAction)
		}
		if err != nil {
			return nil, invalidPolicy()
		}
		for _, a := range append(ps.Actions, ps.NotActions...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "ecr:") {
				return nil, invalidPolicy()
			}
		}
		p.Statements = append(p.Statements, ps)
	}
	return p, nil
}

// principals reads "*", {"AWS": "..."} or {"AWS": [...]}; service
// principals are kept but never match a registry token.
func principals(raw json.RawMessage) ([]string, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, errors.New("principal must be * or an object")
		}
		return []string{"*"}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || len(obj) == 0 {
		return nil, errors.New("bad principal")
	}
	var out []string
	for typ, v := range obj {
		list, err := stringList(v)
		if err != nil {
			return nil, err
		}
		if typ != "AWS" {
			continue
		}
		out = append(out, list...)
	}
	return out, nil
}

func stringList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, errors.New("want a string or a list of strings")
	}
	return list, nil
}

// allows decides whether the policy lets principal (an ARN of account) do
// action: an explicit Deny wins, then any Allow, else no.
func (p *repoPolicy) allows(account, principal, action string) bool {
	allowed := false
	for _, st := range p.Statements {
		if !st.matchesPrincipal(account, principal) || !st.matchesAction(action) {
			continue
		}
		if st.Deny {
			return false
		}
		allowed = true
	}
	return allowed
}

func (st policyStatement) matchesPrincipal(account, principal string) bool {
	if st.NotPrincipals != nil {
		return !principalIn(st.NotPrincipals, account, principal)
	}
	return principalIn(st.Principals, account, principal)
}

// principalIn reports whether a caller is one of list: "*", its account
// (by ID or root ARN, which stand for every principal of the account), its
// own ARN, or for an assumed-role session the role's ARN.
func principalIn(list []string, account, principal string) bool {
	role := roleOfSession(principal)
	for _, p := range list {
		switch p {
		case "*", account, "arn:aws:iam::" + account + ":root", principal:
			return true
		}
		if role != "" && p == role {
			return true
		}
	}
	return false
}

// roleOfSession turns arn:aws:sts::A:assumed-role/R/S into arn:aws:iam::A:role/R.
func roleOfSession(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:aws:sts::")
	if !ok {
		return ""
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok {
		return ""
	}
	role, _, ok := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
	if !ok || !strings.HasPrefix(res, "assumed-role/") {
		return ""
	}
	return "arn:aws:iam::" + account + ":role/" + role
}

func (st policyStatement) matchesAction(action string) bool {
	if st.NotActions != nil {
		return !actionIn(st.NotActions, action)
	}
	return actionIn(st.Actions, action)
}

func actionIn(list []string, action string) bool {
	for _, a := range list {
		if wildcardMatch(strings.ToLower(a), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern in which '*' stands for any
// run of characters and '?' (in policies only) for one.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcardMatch(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// Authorize implements registry.Backend; see authorize.
func (s *Service) Authorize(ctx context.Context, id registry.Identity, repo registry.Repo, action string) error {
	return registryError(s.authorize(ctx, id.Account, id.Principal, repo, action))
}

// authorize lets an account do anything to its own repositories (IAM
// identity policies are not enforced yet) and another account what the
// repository's policy grants it.
func (s *Service) authorize(ctx context.Context, account, principal string, repo registry.Repo, action string) error {
	if account == repo.Account {
		return nil
	}
	var rec repository
	err := s.db.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, reposTable, repoKey(repo), &rec)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return repoNotFound(repo)
	}
	if err != nil {
		return err
	}
	if rec.Policy != "" {
		if p, err := parseRepoPolicy(rec.Policy); err == nil && p.allows(account, principal, action) {
			return nil
		}
	}
	return denied(repo, principal, action)
}
