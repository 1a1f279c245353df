package iam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/authz"
	"overcast/internal/policy"
	"overcast/internal/service"
	"overcast/internal/store"
)

// The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy
// decide on the same evaluator as --enforce-iam (internal/authz), so what
// they say is what enforcement does.

// SimulatePrincipalPolicy simulates a user's, group's or role's policies,
// with any policies added and its boundary replaced as the request asks.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *api.SimulatePrincipalPolicyRequest) (*api.SimulatePolicyResponse, error) {
	source := *in.PolicySourceArn
	var id *authz.Identity
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		id, err = s.loadIdentity(tx, source)
		return err
	})
	if err != nil {
		return nil, err
	}
	if id == nil {
		return nil, api.NewNoSuchEntityException("Entity %s does not exist.", source)
	}
	if err := checkExclusions(in.PolicyExclusionList); err != nil {
		return nil, err
	}
	extra, err := simulatedPolicies("PolicyInputList", in.PolicyInputList)
	if err != nil {
		return nil, err
	}
	sim := *id
	sim.Policies = nil
	for _, p := range id.Policies {
		if !excluded(p, in.PolicyExclusionList) {
			sim.Policies = append(sim.Policies, p)
		}
	}
	sim.Policies = append(sim.Policies, extra...)
	if slices.ContainsFunc(in.PolicyExclusionList, func(e api.PolicyIdentifier) bool { return service.Deref(e.PolicyType) == "permission-boundary" }) {
		sim.Boundary = nil
	}
	if err := withBoundary(&sim, in.PermissionsBoundaryPolicyInputList); err != nil {
		return nil, err
	}
	caller := overcast.Caller{AccountID: accountOfARN(source), ARN: source, Kind: overcast.PrincipalUser}
	if strings.Contains(source, ":role/") {
		caller.Kind, caller.RoleARN = overcast.PrincipalAssumedRole, source
	}
	return simulate(ctx, simulation{caller: caller, identity: &sim, callerARN: in.CallerArn, actions: in.ActionNames,
		resources: in.ResourceArns, resourcePolicy: in.ResourcePolicy, resourceOwner: in.ResourceOwner, context: in.ContextEntries,
		marker: in.Marker, maxItems: in.MaxItems, scenario: in.ResourceHandlingOption})
}

// SimulateCustomPolicy simulates policies given in the request.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *api.SimulateCustomPolicyRequest) (*api.SimulatePolicyResponse, error) {
	policies, err := simulatedPolicies("PolicyInputList", in.PolicyInputList)
	if err != nil {
		return nil, err
	}
	sim := &authz.Identity{Policies: policies}
	if err := withBoundary(sim, in.PermissionsBoundaryPolicyInputList); err != nil {
		return nil, err
	}
	caller := overcast.CallerFrom(ctx)
	caller.Kind = overcast.PrincipalUser // the simulated caller is never the root, whom policies do not bind
	return simulate(ctx, simulation{caller: caller, identity: sim, callerARN: in.CallerArn, actions: in.ActionNames,
		resources: in.ResourceArns, resourcePolicy: in.ResourcePolicy, resourceOwner: in.ResourceOwner, context: in.ContextEntries,
		marker: in.Marker, maxItems: in.MaxItems, scenario: in.ResourceHandlingOption})
}

// excluded reports whether the simulation leaves p, one of the
// principal's permissions policies, out: its type, its ARN (with * and ?)
// or, inline, its name and holder (whose name may have wildcards) is one
// of the exclusions. Service control and resource control policies are
// none of overcast's.
func excluded(p authz.Policy, exclusions []api.PolicyIdentifier) bool {
	for _, e := range exclusions {
		switch {
		case e.PolicyType != nil:
			t := *e.PolicyType
			if t == p.Type || (t == "inline" && p.ARN == "" && p.Holder != "") {
				return true
			}
		case e.PolicyArn != nil:
			if p.ARN != "" && policy.Match(*e.PolicyArn, p.ARN) {
				return true
			}
		case e.InlinePolicyIdentifier != nil:
			i := e.InlinePolicyIdentifier
			if p.ARN == "" && p.ID == service.Deref(i.PolicyName) && p.Type == service.Deref(i.AttachmentType) &&
				policy.Match(service.Deref(i.AttachmentName), p.Holder) {
				return true
			}
		}
	}
	return false
}

// checkExclusions refuses exclusions that name no policy, or a managed
// policy by something that is not an IAM policy ARN.
func checkExclusions(exclusions []api.PolicyIdentifier) error {
	for i, e := range exclusions {
		given := 0
		for _, set := range []bool{e.PolicyType != nil, e.PolicyArn != nil, e.InlinePolicyIdentifier != nil} {
			if set {
				given++
			}
		}
		if given != 1 {
			return api.NewInvalidInputException("PolicyExclusionList.%d must specify exactly one of PolicyType, PolicyArn or InlinePolicyIdentifier.", i+1)
		}
		if e.PolicyArn != nil && !strings.HasPrefix(*e.PolicyArn, "arn:aws:iam::") {
			return api.NewInvalidInputException("ARN %s is not valid.", *e.PolicyArn)
		}
	}
	return nil
}

// simulatedPolicies validates and parses the documents of a request's
// list, named as the simulator names them ("PolicyInputList.1").
func simulatedPolicies(list string, docs []string) ([]authz.Policy, error) {
	out := make([]authz.Policy, 0, len(docs))
	for i, doc := range docs {
		if err := checkPolicyDocument(doc, policy.Identity); err != nil {
			return nil, err
		}
		out = append(out, authz.ParsePolicy(fmt.Sprintf("%s.%d", list, i+1), "none", doc))
	}
	return out, nil
}

// withBoundary replaces id's boundary by the request's, if it gives one.
func withBoundary(id *authz.Identity, docs []string) error {
	boundaries, err := simulatedPolicies("PermissionsBoundaryPolicyInputList", docs)
	if err != nil || len(boundaries) == 0 {
		return err
	}
	id.Boundary = &boundaries[0]
	return nil
}

func accountOfARN(arn string) string {
	a, _ := overcast.ParseARN(arn)
	return a.AccountID
}

// simulation is what both simulator operations ask.
type simulation struct {
	caller         overcast.Caller
	identity       *authz.Identity
	callerARN      *string
	actions        []string
	resources      []string
	resourcePolicy *string
	resourceOwner  *string
	context        []api.ContextEntry
	// marker and maxItems page the results, one per action and resource,
	// in the order of the request's lists.
	marker   *string
	maxItems *int32
	// scenario is the ResourceHandlingOption: resources the simulation
	// must be given.
	scenario *string
}

// scenarioResources are, for each ResourceHandlingOption, the EC2
// resource types a simulation of it must name in ResourceArns, as the
// simulator enforces: every EC2 scenario needs an instance, an image, a
// security group and a network interface, and the subnet and volume where
// its name says so.
var scenarioResources = map[string][]string{
	"EC2-VPC-InstanceStore":        {"instance", "image", "security-group", "network-interface"},
	"EC2-VPC-InstanceStore-Subnet": {"instance", "image", "security-group", "network-interface", "subnet"},
	"EC2-VPC-EBS":                  {"instance", "image", "security-group", "network-interface", "volume"},
	"EC2-VPC-EBS-Subnet":           {"instance", "image", "security-group", "network-interface", "subnet", "volume"},
}

// checkScenario refuses a ResourceHandlingOption the simulator does not
// know, and resources that lack one its scenario needs.
func checkScenario(scenario *string, resources []string) error {
	if scenario == nil {
		return nil
	}
	needs, ok := scenarioResources[*scenario]
	if !ok {
		return api.NewInvalidInputException("Invalid ResourceHandlingOption %s: expected one of EC2-VPC-InstanceStore, EC2-VPC-InstanceStore-Subnet, EC2-VPC-EBS, EC2-VPC-EBS-Subnet.", *scenario)
	}
	for _, kind := range needs {
		named := slices.ContainsFunc(resources, func(arn string) bool {
			parts := strings.SplitN(arn, ":", 6)
			return len(parts) == 6 && parts[2] == "ec2" && strings.HasPrefix(parts[5], kind+"/")
		})
		if !named {
			return api.NewInvalidInputException("The ResourceHandlingOption %s requires a %s resource in ResourceArns.", *scenario, kind)
		}
	}
	return nil
}

func simulate(ctx context.Context, q simulation) (*api.SimulatePolicyResponse, error) {
	pg, err := newPage(q.marker, q.maxItems)
	if err != nil {
		return nil, err
	}
	if err := checkScenario(q.scenario, q.resources); err != nil {
		return nil, err
	}
	first := 0
	if pg.after != "" {
		// A marker is the index of the page's first result: the results
		// of the same request come in the same order every time.
		if first, err = strconv.Atoi(pg.after); err != nil || first < 0 {
			return nil, validationError("Invalid Marker.")
		}
	}
	sim := authz.Simulation{Caller: q.caller, Identity: q.identity, Context: map[string][]string{}}
	if q.callerARN != nil {
		sim.Caller.ARN = *q.callerARN
		sim.Caller.AccountID = accountOfARN(*q.callerARN)
	}
	for _, e := range q.context {
		if e.ContextKeyName != nil {
			sim.Context[*e.ContextKeyName] = e.ContextKeyValues
		}
	}
	if q.resourcePolicy != nil {
		if _, err := policy.Validate(*q.resourcePolicy, policy.Resource); err != nil {
			return nil, api.NewMalformedPolicyDocumentException("%s", err.Error())
		}
		p := authz.ParsePolicy("ResourcePolicy", "resource", *q.resourcePolicy)
		sim.Resource.Policy = &p
		sim.Resource.Owner = sim.Caller.AccountID
	}
	if q.resourceOwner != nil {
		sim.Resource.Owner = accountOfARN(*q.resourceOwner)
		if sim.Resource.Owner == "" {
			sim.Resource.Owner = *q.resourceOwner
		}
	}
	resources := q.resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	out := &api.SimulatePolicyResponse{IsTruncated: new(false)}
	i := -1
	for _, action := range q.actions {
		for _, resource := range resources {
			if i++; i < first {
				continue
			}
			if i >= first+pg.max {
				out.IsTruncated, out.Marker = new(true), new(encodeMarker(strconv.Itoa(i)))
				return out, nil
			}
			d := authz.Simulate(sim, action, resource)
			r := api.EvaluationResult{EvalActionName: new(action), EvalResourceName: new(resource), EvalDecision: new(d.EvalDecision),
				MatchedStatements: matchedStatements(d.Matched)}
			if d.Boundary != "" {
				r.PermissionsBoundaryDecisionDetail = &api.PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: new(d.Boundary == "allowed")}
			}
			out.EvaluationResults = append(out.EvaluationResults, r)
		}
	}
	return out, nil
}

func matchedStatements(ms []authz.Matched) api.StatementListType {
	out := make(api.StatementListType, 0, len(ms))
	for _, m := range ms {
		st := api.Statement{SourcePolicyId: new(m.Policy.ID), SourcePolicyType: new(m.Policy.Type)}
		if pos := authz.StatementPositions(m.Policy.Text); m.Index < len(pos) {
			st.StartPosition = &api.Position{Line: new(int32(pos[m.Index][0].Line)), Column: new(int32(pos[m.Index][0].Column))}
			st.EndPosition = &api.Position{Line: new(int32(pos[m.Index][1].Line)), Column: new(int32(pos[m.Index][1].Column))}
		}
		out = append(out, st)
	}
	return out
}
