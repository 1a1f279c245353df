package iam

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// managed_policies.json holds a small set of AWS managed policies: the
// ones the services overcast emulates are used with. Their documents are
// abridged from AWS's but shaped the same.
//
//go:embed managed_policies.json
var managedPoliciesJSON []byte

// awsAccount is what AWS managed policy ARNs have for an account.
const awsAccount = "aws"

// managedPolicies is the read-only set of AWS managed policies, the same in
// every account.
type managedPolicies struct {
	byARN      map[string]policyRec
	sorted     []string // ARNs, in path-then-name order like listings
	attachable map[string]bool
}

func awsManagedPolicies() *managedPolicies {
	var entries []struct {
		Name        string          `json:"name"`
		Path        string          `json:"path"`
		ID          string          `json:"id"`
		Description string          `json:"description"`
		Created     time.Time       `json:"created"`
		Updated     time.Time       `json:"updated"`
		Version     string          `json:"version"`
		Attachable  *bool           `json:"attachable"`
		Document    json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal(managedPoliciesJSON, &entries); err != nil {
		panic(fmt.Sprintf("iam: managed_policies.json: %v", err)) // a build defect, caught by every test
	}
	m := &managedPolicies{byARN: map[string]policyRec{}, attachable: map[string]bool{}}
	for _, e := range entries {
		var doc bytes.Buffer
		if err := json.Indent(&doc, e.Document, "", "    "); err != nil {
			panic(fmt.Sprintf("iam: managed policy %s: %v", e.Name, err))
		}
		id := e.ID
		if id == "" {
			id = stableID(policyIDPrefix, e.Path+e.Name)
		}
		arn := policies.arn(awsAccount, e.Path, e.Name)
		m.byARN[arn] = policyRec{named: named{Name: e.Name, Path: e.Path, ID: id, Created: e.Created},
			Description: new(e.Description), Updated: e.Updated, DefaultVersion: e.Version,
			Versions: []policyVersion{{ID: e.Version, Document: doc.String(), Created: e.Updated}}}
		m.attachable[arn] = e.Attachable == nil || *e.Attachable
		m.sorted = append(m.sorted, arn)
	}
	slices.SortFunc(m.sorted, func(a, b string) int {
		pa, pb := m.byARN[a], m.byARN[b]
		return strings.Compare(pa.Path+strings.ToLower(pa.Name), pb.Path+strings.ToLower(pb.Name))
	})
	return m
}

// policy returns the AWS managed policy arn names.
func (m *managedPolicies) policy(arn string) (managedPolicy, bool) {
	rec, ok := m.byARN[arn]
	return managedPolicy{rec: rec, arn: arn, aws: true, attachable: m.attachable[arn]}, ok
}
