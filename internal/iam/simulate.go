package iam

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/iam"
	"overcast/internal/authz"
	"overcast/internal/policy"
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
	extra, err := simulatedPolicies("PolicyInputList", in.PolicyInputList)
	if err != nil {
		return nil, err
	}
	sim := *id
	sim.Policies = append(append([]authz.Policy(nil), id.Policies...), extra...)
	if err := withBoundary(&sim, in.PermissionsBoundaryPolicyInputList); err != nil {
		return nil, err
	}
	caller := overcast.Caller{AccountID: accountOfARN(source), ARN: source, Kind: overcast.PrincipalUser}
	if strings.Contains(source, ":role/") {
		caller.Kind, caller.RoleARN = overcast.PrincipalAssumedRole, source
	}
	return simulate(ctx, simulation{caller: caller, identity: &sim, callerARN: in.CallerArn, actions: in.ActionNames,
		resources: in.ResourceArns, resourcePolicy: in.ResourcePolicy, resourceOwner: in.ResourceOwner, context: in.ContextEntries,
		marker: in.Marker, maxItems: in.MaxItems})
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
		marker: in.Marker, maxItems: in.MaxItems})
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
}

func simulate(ctx context.Context, q simulation) (*api.SimulatePolicyResponse, error) {
	pg, err := newPage(q.marker, q.maxItems)
	if err != nil {
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
