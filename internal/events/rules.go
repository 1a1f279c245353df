package events

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/events"
	"overcast/internal/awsproto"
	"overcast/internal/service"
	"overcast/internal/store"
)

// PutRule implements api.Server: it creates a rule or replaces one's
// definition, keeping its targets.
func (s *Service) PutRule(ctx context.Context, in *api.PutRuleRequest) (*api.PutRuleResponse, error) {
	sc := overcast.ScopeOf(ctx)
	bus := busName(in.EventBusName)
	pat, sched := service.Deref(in.EventPattern), service.Deref(in.ScheduleExpression)
	if pat == "" && sched == "" {
		return nil, invalid("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if pat != "" {
		if _, err := compilePattern(pat); err != nil {
			return nil, invalidPattern(pat, err)
		}
	}
	var sch schedule
	if sched != "" {
		if bus != defaultBus {
			return nil, invalid("ScheduleExpression is supported only on the default event bus.")
		}
		var err error
		if sch, err = parseSchedule(sched); err != nil {
			return nil, err
		}
	}
	now := s.Now().UTC()
	key := ruleKey(sc, bus, *in.Name)
	r := ruleRecord{Name: *in.Name, Bus: bus, ARN: ruleARN(sc, bus, *in.Name), EventPattern: pat, Schedule: sched,
		State: service.DerefOr(in.State, api.RuleStateENABLED), Description: service.Deref(in.Description),
		RoleARN: service.Deref(in.RoleArn), CreatedBy: sc.Account, Created: now}
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if err := checkBus(tx, sc, bus); err != nil {
			return err
		}
		var old ruleRecord
		version, err := store.GetJSON(tx, rulesTable, key, &old)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if version > 0 {
			if old.ManagedBy != "" {
				return &awsproto.Error{Code: "ManagedRuleException", Status: 400,
					Message: "Rule " + r.Name + " is managed by " + old.ManagedBy + "."}
			}
			r.Targets, r.Created, r.CreatedBy = old.Targets, old.Created, old.CreatedBy
		}
		if _, err := store.PutJSON(tx, rulesTable, key, &r, version); err != nil {
			return err
		}
		if err := s.scheduleRule(tx, key, r, sch, now); err != nil {
			return err
		}
		return putTags(tx, r.ARN, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	s.rulesChanged(sc, bus)
	s.schedules.Enqueue(key)
	return &api.PutRuleResponse{RuleArn: &r.ARN}, nil
}

// DescribeRule implements api.Server.
func (s *Service) DescribeRule(ctx context.Context, in *api.DescribeRuleRequest) (*api.DescribeRuleResponse, error) {
	r, err := s.viewRule(ctx, in.EventBusName, *in.Name)
	if err != nil {
		return nil, err
	}
	v := ruleView(r)
	return &api.DescribeRuleResponse{Name: v.Name, Arn: v.Arn, EventPattern: v.EventPattern, ScheduleExpression: v.ScheduleExpression,
		State: v.State, Description: v.Description, RoleArn: v.RoleArn, ManagedBy: v.ManagedBy, EventBusName: v.EventBusName,
		CreatedBy: &r.CreatedBy}, nil
}

func (s *Service) viewRule(ctx context.Context, busParam *string, name string) (ruleRecord, error) {
	sc := overcast.ScopeOf(ctx)
	bus := busName(busParam)
	var r ruleRecord
	err := s.Store.View(ctx, func(tx store.Tx) error {
		if err := checkBus(tx, sc, bus); err != nil {
			return err
		}
		var err error
		r, _, err = getRule(tx, sc, bus, name)
		return err
	})
	return r, err
}

func ruleView(r ruleRecord) api.Rule {
	return api.Rule{Name: &r.Name, Arn: &r.ARN, EventPattern: service.OmitZero(r.EventPattern),
		ScheduleExpression: service.OmitZero(r.Schedule), State: &r.State, Description: service.OmitZero(r.Description),
		RoleArn: service.OmitZero(r.RoleARN), ManagedBy: service.OmitZero(r.ManagedBy), EventBusName: &r.Bus}
}

// DeleteRule implements api.Server. A rule that does not exist is deleted
// already; one with targets is not deleted.
func (s *Service) DeleteRule(ctx context.Context, in *api.DeleteRuleRequest) error {
	sc := overcast.ScopeOf(ctx)
	bus := busName(in.EventBusName)
	key := ruleKey(sc, bus, *in.Name)
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if err := checkBus(tx, sc, bus); err != nil {
			return err
		}
		r, version, err := getRule(tx, sc, bus, *in.Name)
		if err != nil {
			var ae *awsproto.Error
			if errors.As(err, &ae) && ae.Code == "ResourceNotFoundException" {
				return nil
			}
			return err
		}
		if r.ManagedBy != "" && !service.Deref(in.Force) {
			return &awsproto.Error{Code: "ManagedRuleException", Status: 400, Message: "Rule " + r.Name + " is managed by " + r.ManagedBy + "."}
		}
		if len(r.Targets) > 0 {
			return invalid("Rule can't be deleted since it has targets.")
		}
		if err := tx.Delete(rulesTable, key, version); err != nil {
			return err
		}
		if err := deleteTags(tx, r.ARN); err != nil {
			return err
		}
		return s.scheduleRule(tx, key, ruleRecord{}, schedule{}, s.Now())
	})
	if err != nil {
		return err
	}
	s.rulesChanged(sc, bus)
	return nil
}

// ListRules implements api.Server.
func (s *Service) ListRules(ctx context.Context, in *api.ListRulesRequest) (*api.ListRulesResponse, error) {
	rules, next, err := s.listRules(ctx, in.EventBusName, service.Deref(in.NamePrefix), in.NextToken, in.Limit, nil)
	if err != nil {
		return nil, err
	}
	return &api.ListRulesResponse{Rules: service.Map(rules, ruleView), NextToken: next}, nil
}

// ListRuleNamesByTarget implements api.Server.
func (s *Service) ListRuleNamesByTarget(ctx context.Context, in *api.ListRuleNamesByTargetRequest) (*api.ListRuleNamesByTargetResponse, error) {
	rules, next, err := s.listRules(ctx, in.EventBusName, "", in.NextToken, in.Limit, func(r ruleRecord) bool {
		return slices.ContainsFunc(r.Targets, func(t api.Target) bool { return *t.Arn == *in.TargetArn })
	})
	if err != nil {
		return nil, err
	}
	names := service.Map(rules, func(r ruleRecord) string { return r.Name })
	return &api.ListRuleNamesByTargetResponse{RuleNames: names, NextToken: next}, nil
}

// listRules pages through a bus's rules whose names start with prefix and
// that keep accepts (all when nil).
func (s *Service) listRules(ctx context.Context, busParam *string, prefix string, token *string, limit *int32,
	keep func(ruleRecord) bool) ([]ruleRecord, *string, error) {
	sc := overcast.ScopeOf(ctx)
	bus := busName(busParam)
	after, err := awsproto.PageAfter(token, invalid("The nextToken provided is invalid."))
	if err != nil {
		return nil, nil, err
	}
	n := awsproto.PageSize(limit, 100)
	var rules []ruleRecord
	err = s.Store.View(ctx, func(tx store.Tx) error {
		if err := checkBus(tx, sc, bus); err != nil {
			return err
		}
		opt := store.ScanOptions{Prefix: rulesPrefix(sc, bus) + prefix, After: afterKey(rulesPrefix(sc, bus), after)}
		return store.ScanJSON(tx, rulesTable, opt, func(_ string, r ruleRecord, _ int64) error {
			if keep == nil || keep(r) {
				rules = append(rules, r)
			}
			if len(rules) > n {
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	var next *string
	if len(rules) > n {
		rules = rules[:n]
		next = awsproto.PageToken(rules[n-1].Name)
	}
	return rules, next, nil
}

// EnableRule implements api.Server.
func (s *Service) EnableRule(ctx context.Context, in *api.EnableRuleRequest) error {
	return s.setState(ctx, in.EventBusName, *in.Name, api.RuleStateENABLED)
}

// DisableRule implements api.Server.
func (s *Service) DisableRule(ctx context.Context, in *api.DisableRuleRequest) error {
	return s.setState(ctx, in.EventBusName, *in.Name, api.RuleStateDISABLED)
}

func (s *Service) setState(ctx context.Context, busParam *string, name, state string) error {
	return s.updateRule(ctx, busParam, name, func(r *ruleRecord) error {
		r.State = state
		return nil
	})
}

// updateRule changes a rule in a transaction, then drops the bus's cached
// rules and looks at its schedule again.
func (s *Service) updateRule(ctx context.Context, busParam *string, name string, change func(r *ruleRecord) error) error {
	sc := overcast.ScopeOf(ctx)
	bus := busName(busParam)
	key := ruleKey(sc, bus, name)
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		if err := checkBus(tx, sc, bus); err != nil {
			return err
		}
		r, version, err := getRule(tx, sc, bus, name)
		if err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, rulesTable, key, &r, version)
		return err
	})
	if err != nil {
		return err
	}
	s.rulesChanged(sc, bus)
	s.schedules.Enqueue(key)
	return nil
}

// TestEventPattern implements api.Server.
func (s *Service) TestEventPattern(ctx context.Context, in *api.TestEventPatternRequest) (*api.TestEventPatternResponse, error) {
	p, err := compilePattern(*in.EventPattern)
	if err != nil {
		return nil, invalidPattern(*in.EventPattern, err)
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*in.Event), &envelope); err != nil {
		return nil, invalid("Parameter Event is not valid.")
	}
	for _, field := range []string{"id", "account", "source", "time", "region", "detail-type"} {
		if _, ok := envelope[field]; !ok {
			return nil, invalid("Parameter Event is not valid. Reason: Provided Event is missing required field %s.", field)
		}
	}
	ev, err := flatten([]byte(*in.Event))
	if err != nil {
		return nil, invalid("Parameter Event is not valid.")
	}
	return &api.TestEventPatternResponse{Result: new(p.match(ev))}, nil
}

// PutTargets implements api.Server: targets are added, or replaced by ID.
func (s *Service) PutTargets(ctx context.Context, in *api.PutTargetsRequest) (*api.PutTargetsResponse, error) {
	sc := overcast.ScopeOf(ctx)
	for i := range in.Targets {
		if err := checkTarget(sc, &in.Targets[i]); err != nil {
			return nil, err
		}
	}
	err := s.updateRule(ctx, in.EventBusName, *in.Rule, func(r *ruleRecord) error {
		for _, t := range in.Targets {
			i := slices.IndexFunc(r.Targets, func(have api.Target) bool { return *have.Id == *t.Id })
			if i >= 0 {
				r.Targets[i] = t
			} else {
				r.Targets = append(r.Targets, t)
			}
		}
		if len(r.Targets) > maxTargetsPerRule {
			return limitExceeded("The requested resource exceeds the maximum number allowed.")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.PutTargetsResponse{FailedEntryCount: new(int32(0)), FailedEntries: api.PutTargetsResultEntryList{}}, nil
}

// RemoveTargets implements api.Server. IDs the rule does not have are
// ignored, as on AWS.
func (s *Service) RemoveTargets(ctx context.Context, in *api.RemoveTargetsRequest) (*api.RemoveTargetsResponse, error) {
	err := s.updateRule(ctx, in.EventBusName, *in.Rule, func(r *ruleRecord) error {
		r.Targets = slices.DeleteFunc(r.Targets, func(t api.Target) bool { return slices.Contains(in.Ids, *t.Id) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.RemoveTargetsResponse{FailedEntryCount: new(int32(0)), FailedEntries: api.RemoveTargetsResultEntryList{}}, nil
}

// ListTargetsByRule implements api.Server.
func (s *Service) ListTargetsByRule(ctx context.Context, in *api.ListTargetsByRuleRequest) (*api.ListTargetsByRuleResponse, error) {
	r, err := s.viewRule(ctx, in.EventBusName, *in.Rule)
	if err != nil {
		return nil, err
	}
	after, err := awsproto.PageAfter(in.NextToken, invalid("The nextToken provided is invalid."))
	if err != nil {
		return nil, err
	}
	targets := r.Targets
	if after != "" {
		i := slices.IndexFunc(targets, func(t api.Target) bool { return *t.Id == after })
		targets = targets[i+1:]
	}
	out := &api.ListTargetsByRuleResponse{Targets: api.TargetList{}}
	n := awsproto.PageSize(in.Limit, 100)
	if len(targets) > n {
		targets = targets[:n]
		out.NextToken = awsproto.PageToken(*targets[n-1].Id)
	}
	out.Targets = append(out.Targets, targets...)
	return out, nil
}

// checkTarget validates a target as PutTargets does.
func checkTarget(sc scope, t *api.Target) error {
	a, ok := overcast.ParseARN(*t.Arn)
	if !ok {
		return invalid("Parameter %s is not valid.", *t.Arn)
	}
	inputs := 0
	for _, set := range []bool{t.Input != nil, t.InputPath != nil, t.InputTransformer != nil} {
		if set {
			inputs++
		}
	}
	if inputs > 1 {
		return invalid("Only one of Input, InputPath, or InputTransformer must be provided for target %s.", *t.Id)
	}
	if t.Input != nil && !json.Valid([]byte(*t.Input)) {
		return invalid("Parameter Input is not valid JSON for target %s.", *t.Id)
	}
	if t.InputPath != nil {
		if _, err := parseJSONPath(*t.InputPath); err != nil {
			return invalid("Parameter InputPath is not valid for target %s.", *t.Id)
		}
	}
	if it := t.InputTransformer; it != nil {
		if err := checkTransformer(it); err != nil {
			return err
		}
	}
	if a.Service == "sqs" && strings.HasSuffix(a.Resource, ".fifo") &&
		(t.SqsParameters == nil || service.Deref(t.SqsParameters.MessageGroupId) == "") {
		return invalid("Parameter(s) SqsParameters must be specified for target: %s.", *t.Id)
	}
	if a.Service == "ecs" && t.EcsParameters == nil {
		return invalid("Parameter(s) EcsParameters must be specified for target: %s.", *t.Id)
	}
	if dlq := t.DeadLetterConfig; dlq != nil && dlq.Arn != nil {
		d, ok := overcast.ParseARN(*dlq.Arn)
		if !ok || d.Service != "sqs" {
			return invalid("Parameter DeadLetterConfig.Arn is not valid for target %s.", *t.Id)
		}
		if d.Region != sc.Region {
			return invalid("The dead-letter queue must be in the same region as the rule.")
		}
		if strings.HasSuffix(d.Resource, ".fifo") {
			return invalid("Parameter DeadLetterConfig.Arn is not valid: FIFO queues are not supported as dead-letter queues.")
		}
	}
	return nil
}
