package codecommit

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// ruleContentVersion is the only version of approval rule content AWS accepts.
const ruleContentVersion = "2018-11-08"

// ruleContent is an approval rule's (or template's) JSON content.
type ruleContent struct {
	Version               string
	DestinationReferences []string `json:",omitempty"`
	Statements            []ruleStatement
}

type ruleStatement struct {
	Type                    string
	NumberOfApprovalsNeeded int
	ApprovalPoolMembers     []string `json:",omitempty"`
}

// parseRuleContent parses and validates approval rule content; template content may name the
// destination references the template applies to.
func parseRuleContent(content string, template bool) (*ruleContent, error) {
	var rc ruleContent
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rc); err != nil {
		return nil, fmt.Errorf("the content is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the content has data after its JSON object")
	}
	if rc.Version != ruleContentVersion {
		return nil, fmt.Errorf("the Version must be %s", ruleContentVersion)
	}
	if len(rc.Statements) == 0 {
		return nil, errors.New("the content must have at least one statement")
	}
	for _, st := range rc.Statements {
		if st.Type != "Approvers" {
			return nil, fmt.Errorf("the statement type %q is not valid; the only type is Approvers", st.Type)
		}
		if st.NumberOfApprovalsNeeded < 1 {
			return nil, errors.New("NumberOfApprovalsNeeded must be at least 1")
		}
		for _, m := range st.ApprovalPoolMembers {
			if !validPoolMember(m) {
				return nil, fmt.Errorf("the approval pool member %q is neither an ARN nor CodeCommitApprovers:<account>:<name>", m)
			}
		}
	}
	if !template && len(rc.DestinationReferences) > 0 {
		return nil, errors.New("DestinationReferences are only valid in an approval rule template")
	}
	for _, ref := range rc.DestinationReferences {
		if !strings.HasPrefix(ref, "refs/heads/") || len(ref) == len("refs/heads/") {
			return nil, fmt.Errorf("the destination reference %q must be a full branch reference (refs/heads/<branch>)", ref)
		}
	}
	return &rc, nil
}

func validPoolMember(m string) bool {
	if rest, ok := strings.CutPrefix(m, "CodeCommitApprovers:"); ok {
		account, name, ok := strings.Cut(rest, ":")
		return ok && account != "" && name != ""
	}
	parts := strings.SplitN(m, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") && parts[5] != ""
}

// appliesTo reports whether a template's content applies to a pull request into destinationRef.
func (rc *ruleContent) appliesTo(destinationRef string) bool {
	return len(rc.DestinationReferences) == 0 || slices.Contains(rc.DestinationReferences, destinationRef)
}

// satisfied reports whether the approvers (caller ARNs) meet every statement of the rule.
func (rc *ruleContent) satisfied(approvers []string) bool {
	for _, st := range rc.Statements {
		n := 0
		for _, a := range approvers {
			if len(st.ApprovalPoolMembers) == 0 || inPool(st.ApprovalPoolMembers, a) {
				n++
			}
		}
		if n < st.NumberOfApprovalsNeeded {
			return false
		}
	}
	return true
}

func inPool(pool []string, approver string) bool {
	return slices.ContainsFunc(pool, func(m string) bool { return poolMemberMatches(m, approver) })
}

// poolMemberMatches reports whether the caller ARN approver is the pool member m:
//   - CodeCommitApprovers:<account>:<name> matches that account's IAM user and federated user
//     named name (wildcards allowed, so "*Mary" also matches role sessions ending in Mary);
//   - a fully qualified ARN, wildcards allowed, matches that ARN; an IAM role's ARN also matches
//     the sessions of that role.
func poolMemberMatches(m, approver string) bool {
	arn := strings.SplitN(approver, ":", 6)
	if len(arn) != 6 {
		return false
	}
	account, resource := arn[4], arn[5]
	if rest, ok := strings.CutPrefix(m, "CodeCommitApprovers:"); ok {
		wantAccount, pattern, _ := strings.Cut(rest, ":")
		if !wildcardMatch(wantAccount, account) {
			return false
		}
		kind, name, _ := strings.Cut(resource, "/")
		switch kind {
		case "user":
			name = name[strings.LastIndex(name, "/")+1:] // user names come after any path
		case "federated-user", "assumed-role":
		default:
			return false
		}
		return wildcardMatch(pattern, name)
	}
	if wildcardMatch(m, approver) {
		return true
	}
	// arn:aws:iam::<account>:role/<name> covers arn:aws:sts::<account>:assumed-role/<name>/<session>.
	member := strings.SplitN(m, ":", 6)
	if len(member) == 6 && member[2] == "iam" && strings.HasPrefix(member[5], "role/") && strings.HasPrefix(resource, "assumed-role/") {
		roleName := member[5][strings.LastIndex(member[5], "/")+1:]
		session := strings.TrimPrefix(resource, "assumed-role/")
		role, _, _ := strings.Cut(session, "/")
		return wildcardMatch(member[4], account) && wildcardMatch(roleName, role)
	}
	return false
}

// wildcardMatch matches s against a pattern where * is any run of characters and ? any one.
func wildcardMatch(pattern, s string) bool {
	// path.Match treats "/" specially and [ as a class; neither is special in ARN patterns.
	replacer := strings.NewReplacer("/", "\x00", "[", "\\[", "\\", "\\\\")
	ok, err := path.Match(replacer.Replace(pattern), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}
