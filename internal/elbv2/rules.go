package elbv2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

const maxRulesPerLoadBalancer = 100

// checkConditions validates a rule's conditions and returns them as
// ELBv2 reports them: host-header and path-pattern values both in Values
// and in their config.
func checkConditions(in api.RuleConditionList) (api.RuleConditionList, error) {
	if len(in) == 0 {
		return nil, validation("A rule must have at least one condition")
	}
	var out api.RuleConditionList
	seen := map[string]bool{}
	total := 0
	for _, c := range in {
		field := deref(c.Field)
		if seen[field] && field != "http-header" && field != "query-string" {
			return nil, validation("A rule can only have one '%s' condition", field)
		}
		seen[field] = true
		if len(c.Values) > 0 && field != "host-header" && field != "path-pattern" {
			return nil, validation("You must use '%s' to specify values for a condition of type '%s'", configName(field), field)
		}
		var n int
		switch field {
		case "host-header", "path-pattern":
			// The legacy Values and the config say the same; ELBv2
			// reports both.
			var values *api.ListOfString
			fresh := false
			if field == "host-header" {
				if fresh = c.HostHeaderConfig == nil; fresh {
					c.HostHeaderConfig = &api.HostHeaderConditionConfig{}
				}
				values = &c.HostHeaderConfig.Values
			} else {
				if fresh = c.PathPatternConfig == nil; fresh {
					c.PathPatternConfig = &api.PathPatternConditionConfig{}
				}
				values = &c.PathPatternConfig.Values
			}
			if fresh {
				*values = c.Values
			} else if len(c.Values) > 0 {
				return nil, validation("You cannot provide both Values and '%s' for a condition of type '%s'", configName(field), field)
			}
			c.Values, n = *values, len(*values)
		case "http-header":
			if c.HttpHeaderConfig == nil || deref(c.HttpHeaderConfig.HttpHeaderName) == "" {
				return nil, validation("A header name must be specified for a condition of type 'http-header'")
			}
			if strings.EqualFold(*c.HttpHeaderConfig.HttpHeaderName, "host") {
				return nil, validation("You cannot use an 'http-header' condition on the 'Host' header; use 'host-header'")
			}
			n = len(c.HttpHeaderConfig.Values)
		case "http-request-method":
			if c.HttpRequestMethodConfig != nil {
				n = len(c.HttpRequestMethodConfig.Values)
			}
		case "query-string":
			if c.QueryStringConfig != nil {
				n = len(c.QueryStringConfig.Values)
			}
		case "source-ip":
			if c.SourceIpConfig != nil {
				for _, v := range c.SourceIpConfig.Values {
					if _, err := netip.ParsePrefix(v); err != nil || v == "255.255.255.255/32" {
						return nil, validation("The source IP '%s' is not a valid CIDR block", v)
					}
				}
				n = len(c.SourceIpConfig.Values)
			}
		default:
			return nil, validation("Condition field '%s' is not valid", field)
		}
		if n == 0 {
			return nil, validation("A condition of type '%s' must have at least one value", field)
		}
		total += n
		out = append(out, c)
	}
	if total > 5 {
		return nil, validation("A rule can only have '5' condition values")
	}
	return out, nil
}

func configName(field string) string {
	switch field {
	case "host-header":
		return "HostHeaderConfig"
	case "path-pattern":
		return "PathPatternConfig"
	case "http-header":
		return "HttpHeaderConfig"
	case "http-request-method":
		return "HttpRequestMethodConfig"
	case "query-string":
		return "QueryStringConfig"
	case "source-ip":
		return "SourceIpConfig"
	}
	return "a condition config"
}

// CreateRule adds a rule to a listener at a priority no other rule of the
// listener has.
func (s *Service) CreateRule(ctx context.Context, in *api.CreateRuleInput) (*api.CreateRuleOutput, error) {
	sc := scopeOf(ctx)
	listenerArn := *in.ListenerArn
	if err := listenerARN.check(listenerArn); err != nil {
		return nil, err
	}
	conditions, err := checkConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFrom(in.Tags)
	if err != nil {
		return nil, err
	}
	var r rule
	var lb loadBalancer
	err = s.updateListener(ctx, listenerArn, func(tx store.Tx, rec *loadBalancer, l *listener) error {
		if slices.ContainsFunc(l.Rules, func(o rule) bool { return o.Priority == *in.Priority }) {
			return apiError("PriorityInUse", "Priority '%d' is currently in use", *in.Priority)
		}
		count := 0
		for _, o := range rec.Listeners {
			count += len(o.Rules)
		}
		if count >= maxRulesPerLoadBalancer {
			return apiError("TooManyRules", "You've reached the limit on the number of rules per load balancer")
		}
		actions, err := checkActions(tx, sc, *rec, in.Actions)
		if err != nil {
			return err
		}
		r = rule{ARN: strings.Replace(l.ARN, ":listener/", ":listener-rule/", 1) + "/" + s.newID(), Priority: *in.Priority,
			Conditions: conditions, Actions: actions, Tags: tags}
		l.Rules = append(l.Rules, r)
		sortRules(l.Rules)
		lb = *rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, lb.targetGroups()...)
	return &api.CreateRuleOutput{Rules: api.Rules{ruleView(r)}}, nil
}

func sortRules(rules []rule) {
	slices.SortFunc(rules, func(a, b rule) int { return int(a.Priority) - int(b.Priority) })
}

func ruleView(r rule) api.Rule {
	return api.Rule{RuleArn: new(r.ARN), Priority: new(strconv.Itoa(int(r.Priority))), Conditions: r.Conditions,
		Actions: r.Actions, IsDefault: new(false)}
}

func defaultRuleView(l listener) api.Rule {
	return api.Rule{RuleArn: new(l.DefaultRuleARN), Priority: new("default"), Conditions: api.RuleConditionList{},
		Actions: l.DefaultActions, IsDefault: new(true)}
}

// foundRule is a rule located in its load balancer's record: rule < 0 is
// the listener's default rule.
type foundRule struct {
	lb       *loadBalancer
	listener int
	rule     int
}

// loadedBalancers are the records a rule change read, each once, with the
// version it read.
type loadedBalancers map[string]*struct {
	lb      loadBalancer
	version int64
}

// findRule locates a rule in the load balancer its ARN names, reading the
// record into loaded unless it is there already.
func findRule(tx store.Tx, sc scope, arn string, loaded loadedBalancers) (foundRule, error) {
	if err := ruleARN.check(arn); err != nil {
		return foundRule{}, err
	}
	lbARN := parentARN(parentARN(arn))
	rec := loaded[lbARN]
	if rec == nil {
		lb, version, err := getRecord[loadBalancer](tx, loadBalancersTable, sc, lbARN, ruleNotFound())
		if err != nil {
			return foundRule{}, err
		}
		rec = &struct {
			lb      loadBalancer
			version int64
		}{lb, version}
		loaded[lbARN] = rec
	}
	for i, l := range rec.lb.Listeners {
		if l.DefaultRuleARN == arn {
			return foundRule{&rec.lb, i, -1}, nil
		}
		if j := slices.IndexFunc(l.Rules, func(r rule) bool { return r.ARN == arn }); j >= 0 {
			return foundRule{&rec.lb, i, j}, nil
		}
	}
	return foundRule{}, ruleNotFound()
}

func (f foundRule) view() api.Rule {
	l := f.lb.Listeners[f.listener]
	if f.rule < 0 {
		return defaultRuleView(l)
	}
	return ruleView(l.Rules[f.rule])
}

// DescribeRules lists a listener's rules by priority, the default rule
// last, or the rules named.
func (s *Service) DescribeRules(ctx context.Context, in *api.DescribeRulesInput) (*api.DescribeRulesOutput, error) {
	sc := scopeOf(ctx)
	var list api.Rules
	err := s.Store.View(ctx, func(tx store.Tx) error {
		switch {
		case deref(in.ListenerArn) != "" && len(in.RuleArns) > 0:
			return validation("Rule ARNs and a listener ARN cannot be specified at the same time")
		case deref(in.ListenerArn) != "":
			lb, i, err := findListener(tx, sc, *in.ListenerArn)
			if err != nil {
				return err
			}
			for _, r := range lb.Listeners[i].Rules {
				list = append(list, ruleView(r))
			}
			list = append(list, defaultRuleView(lb.Listeners[i]))
		case len(in.RuleArns) > 0:
			for _, arn := range in.RuleArns {
				f, err := findRule(tx, sc, arn, loadedBalancers{})
				if err != nil {
					return err
				}
				list = append(list, f.view())
			}
		default:
			return validation("You must specify either listener ARNs or rule ARNs")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	list, next, err := page(list, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &api.DescribeRulesOutput{Rules: append(api.Rules{}, list...), NextMarker: next}, nil
}

// updateRules runs fn on the rules arns name, all in one transaction, and
// stores every load balancer they belong to.
func (s *Service) updateRules(ctx context.Context, arns []string, fn func(tx store.Tx, found map[string]foundRule) error) ([]loadBalancer, error) {
	sc := scopeOf(ctx)
	var changed []loadBalancer
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		changed = nil
		loaded := loadedBalancers{}
		found := map[string]foundRule{}
		for _, arn := range arns {
			f, err := findRule(tx, sc, arn, loaded)
			if err != nil {
				return err
			}
			found[arn] = f
		}
		if err := fn(tx, found); err != nil {
			return err
		}
		for arn, rec := range loaded {
			if _, err := store.PutJSON(tx, loadBalancersTable, sc.Key(arn), rec.lb, rec.version); err != nil {
				return err
			}
			changed = append(changed, rec.lb)
		}
		return nil
	})
	return changed, err
}

// ModifyRule replaces a rule's conditions and/or actions; the default
// rule's actions are its listener's default actions.
func (s *Service) ModifyRule(ctx context.Context, in *api.ModifyRuleInput) (*api.ModifyRuleOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.RuleArn
	var view api.Rule
	var before []string
	lbs, err := s.updateRules(ctx, []string{arn}, func(tx store.Tx, found map[string]foundRule) error {
		f := found[arn]
		before = f.lb.targetGroups()
		l := &f.lb.Listeners[f.listener]
		if len(in.Conditions) > 0 {
			if f.rule < 0 {
				return apiError("OperationNotPermitted", "Default rule '%s' cannot have conditions", arn)
			}
			conditions, err := checkConditions(in.Conditions)
			if err != nil {
				return err
			}
			l.Rules[f.rule].Conditions = conditions
		}
		if len(in.Actions) > 0 {
			actions, err := checkActions(tx, sc, *f.lb, in.Actions)
			if err != nil {
				return err
			}
			if f.rule < 0 {
				l.DefaultActions = actions
			} else {
				l.Rules[f.rule].Actions = actions
			}
		}
		view = f.view()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, append(before, lbs[0].targetGroups()...)...)
	return &api.ModifyRuleOutput{Rules: api.Rules{view}}, nil
}

// DeleteRule deletes a rule other than a default one.
func (s *Service) DeleteRule(ctx context.Context, in *api.DeleteRuleInput) (*api.DeleteRuleOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.RuleArn
	var before []string
	_, err := s.updateRules(ctx, []string{arn}, func(_ store.Tx, found map[string]foundRule) error {
		f := found[arn]
		before = f.lb.targetGroups()
		if f.rule < 0 {
			return apiError("OperationNotPermitted", "Default rule '%s' cannot be deleted", arn)
		}
		l := &f.lb.Listeners[f.listener]
		l.Rules = slices.Delete(l.Rules, f.rule, f.rule+1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, before...)
	return &api.DeleteRuleOutput{}, nil
}

// SetRulePriorities moves rules to new priorities at once: priorities
// swapped between the rules named are allowed.
func (s *Service) SetRulePriorities(ctx context.Context, in *api.SetRulePrioritiesInput) (*api.SetRulePrioritiesOutput, error) {
	sc := scopeOf(ctx)
	var arns []string
	for _, p := range in.RulePriorities {
		arns = append(arns, deref(p.RuleArn))
	}
	var views api.Rules
	_, err := s.updateRules(ctx, arns, func(_ store.Tx, found map[string]foundRule) error {
		for _, p := range in.RulePriorities {
			f := found[*p.RuleArn]
			if f.rule < 0 {
				return apiError("OperationNotPermitted", "The priority of the default rule '%s' cannot be changed", *p.RuleArn)
			}
		}
		for _, p := range in.RulePriorities {
			f := found[*p.RuleArn]
			l := &f.lb.Listeners[f.listener]
			i := slices.IndexFunc(l.Rules, func(r rule) bool { return r.ARN == *p.RuleArn })
			l.Rules[i].Priority = deref(p.Priority)
		}
		for _, f := range found {
			l := f.lb.Listeners[f.listener]
			for i := 1; i < len(l.Rules); i++ {
				sortRules(l.Rules)
				if l.Rules[i].Priority == l.Rules[i-1].Priority {
					return apiError("PriorityInUse", "Priority '%d' is currently in use", l.Rules[i].Priority)
				}
			}
		}
		for _, p := range in.RulePriorities {
			f := found[*p.RuleArn]
			l := f.lb.Listeners[f.listener]
			i := slices.IndexFunc(l.Rules, func(r rule) bool { return r.ARN == *p.RuleArn })
			views = append(views, ruleView(l.Rules[i]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc)
	return &api.SetRulePrioritiesOutput{Rules: views}, nil
}
