package elbv2

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"overcast"
	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

func scopeOf(ctx context.Context) scope { return overcast.ScopeOf(ctx) }

func checkRange(k, v string, lo, hi int, what string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return validation("%s attribute '%s' must be between %d and %d", what, k, lo, hi)
	}
	return nil
}

func defaultTargetGroupAttributes() map[string]string {
	return map[string]string{
		"deregistration_delay.timeout_seconds":                                           "300",
		"stickiness.enabled":                                                             "false",
		"stickiness.type":                                                                "lb_cookie",
		"stickiness.lb_cookie.duration_seconds":                                          "86400",
		"stickiness.app_cookie.duration_seconds":                                         "86400",
		"stickiness.app_cookie.cookie_name":                                              "",
		"load_balancing.algorithm.type":                                                  "round_robin",
		"load_balancing.algorithm.anomaly_mitigation":                                    "off",
		"slow_start.duration_seconds":                                                    "0",
		"load_balancing.cross_zone.enabled":                                              "use_load_balancer_configuration",
		"target_group_health.dns_failover.minimum_healthy_targets.count":                 "1",
		"target_group_health.dns_failover.minimum_healthy_targets.percentage":            "off",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.count":      "1",
		"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
	}
}

func checkTargetGroupAttribute(k, v string) error {
	const what = "Target group"
	switch k {
	case "deregistration_delay.timeout_seconds":
		return checkRange(k, v, 0, 3600, what)
	case "slow_start.duration_seconds":
		if v == "0" {
			return nil
		}
		return checkRange(k, v, 30, 900, what)
	case "stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds":
		return checkRange(k, v, 1, 604800, what)
	case "stickiness.enabled":
		if v != "true" && v != "false" {
			return validation("%s attribute '%s' must be 'true' or 'false'", what, k)
		}
	case "stickiness.type":
		if v != "lb_cookie" && v != "app_cookie" {
			return validation("%s attribute '%s' must be one of 'lb_cookie', 'app_cookie'", what, k)
		}
	case "stickiness.app_cookie.cookie_name":
		if strings.HasPrefix(v, "AWSALB") {
			return validation("App cookie name cannot start with 'AWSALB', 'AWSALBAPP' or 'AWSALBTG'")
		}
	case "load_balancing.algorithm.type":
		if !slices.Contains([]string{"round_robin", "least_outstanding_requests", "weighted_random"}, v) {
			return validation("%s attribute '%s' must be one of 'round_robin', 'least_outstanding_requests', 'weighted_random'", what, k)
		}
	}
	return nil
}

// matcherPattern is a Matcher's HttpCode: codes and ranges, comma
// separated.
var matcherPattern = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)

func checkHealthCheck(h healthCheck) error {
	if h.Timeout >= h.Interval {
		return validation("Health check interval must be greater than the timeout.")
	}
	if !strings.HasPrefix(h.Path, "/") {
		return validation("Health check path must begin with a '/' character")
	}
	if h.Protocol != "HTTP" && h.Protocol != "HTTPS" {
		return validation("Health check protocol '%s' is not supported for target groups with protocol HTTP or HTTPS", h.Protocol)
	}
	if h.Port != "traffic-port" {
		if n, err := strconv.Atoi(h.Port); err != nil || n < 1 || n > 65535 {
			return validation("Health check port '%s' must be 'traffic-port' or between 1 and 65535", h.Port)
		}
	}
	if !matcherPattern.MatchString(h.Matcher) {
		return validation("Health check matcher HTTP code '%s' must be a code or range of codes between 200 and 499", h.Matcher)
	}
	for _, part := range strings.FieldsFunc(h.Matcher, func(r rune) bool { return r == ',' || r == '-' }) {
		if n, _ := strconv.Atoi(part); n < 200 || n > 499 {
			return validation("Health check matcher HTTP code '%s' must be a code or range of codes between 200 and 499", h.Matcher)
		}
	}
	return nil
}

// healthSettings is the part of CreateTargetGroup and ModifyTargetGroup
// that sets the health check.
type healthSettings struct {
	Protocol, Port, Path         *string
	Enabled                      *bool
	Interval, Timeout            *int32
	HealthyCount, UnhealthyCount *int32
	Matcher                      *api.Matcher
}

func (h *healthCheck) apply(in healthSettings) error {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setInt := func(dst *int32, src *int32) {
		if src != nil {
			*dst = *src
		}
	}
	set(&h.Protocol, in.Protocol)
	set(&h.Port, in.Port)
	set(&h.Path, in.Path)
	setInt(&h.Interval, in.Interval)
	setInt(&h.Timeout, in.Timeout)
	setInt(&h.Healthy, in.HealthyCount)
	setInt(&h.Unhealthy, in.UnhealthyCount)
	if in.Matcher != nil {
		set(&h.Matcher, in.Matcher.HttpCode)
	}
	if in.Enabled != nil && !*in.Enabled {
		return validation("Health checks cannot be disabled for target groups with target type 'instance' or 'ip'")
	}
	return checkHealthCheck(*h)
}

// CreateTargetGroup creates an instance or ip target group of HTTP or
// HTTPS, or returns the one of that name with the same settings.
func (s *Service) CreateTargetGroup(ctx context.Context, in *api.CreateTargetGroupInput) (*api.CreateTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	name := *in.Name
	if err := checkName(name, "target group"); err != nil {
		return nil, err
	}
	tg := targetGroup{Name: name, Protocol: deref(in.Protocol), ProtocolVersion: deref(in.ProtocolVersion), Port: deref(in.Port),
		VPCID: deref(in.VpcId), TargetType: deref(in.TargetType), IPAddressType: deref(in.IpAddressType),
		Attributes: defaultTargetGroupAttributes(), Created: s.Now().UTC(),
		HealthCheck: healthCheck{Enabled: true, Port: "traffic-port", Path: "/", Interval: 30, Timeout: 5, Healthy: 5, Unhealthy: 2, Matcher: "200"}}
	if tg.TargetType == "" {
		tg.TargetType = "instance"
	}
	if tg.TargetType != "instance" && tg.TargetType != "ip" {
		return nil, validation("Target type '%s' is not supported; use 'instance' or 'ip'", tg.TargetType)
	}
	if tg.ProtocolVersion == "" {
		tg.ProtocolVersion = "HTTP1"
	}
	if tg.IPAddressType == "" {
		tg.IPAddressType = "ipv4"
	}
	switch {
	case tg.Protocol == "":
		return nil, validation("A protocol must be specified")
	case tg.Protocol != "HTTP" && tg.Protocol != "HTTPS":
		return nil, validation("Protocol '%s' is not supported; target groups of Application Load Balancers use HTTP or HTTPS", tg.Protocol)
	case in.Port == nil:
		return nil, validation("A port must be specified")
	case tg.VPCID == "":
		return nil, validation("A VPC ID must be specified")
	}
	tg.HealthCheck.Protocol = tg.Protocol
	if err := tg.HealthCheck.apply(healthSettings{in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath, in.HealthCheckEnabled,
		in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher}); err != nil {
		return nil, err
	}
	if _, err := s.network.VPC(ctx, sc.Account, sc.Region, tg.VPCID); errors.Is(err, ErrVPCNotFound) {
		return nil, validation("The VPC ID '%s' is not found", tg.VPCID)
	} else if err != nil {
		return nil, err
	}
	tags, err := tagsFrom(in.Tags)
	if err != nil {
		return nil, err
	}
	tg.Tags = tags
	tg.ARN = sc.ARN(arnService, "targetgroup/"+name+"/"+s.newID())
	var result targetGroup
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		all, err := loadAll[targetGroup](tx, targetGroupsTable, sc)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(all, func(o targetGroup) bool { return o.Name == name }); i >= 0 {
			if !sameTargetGroup(all[i], tg) {
				return apiError("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
			}
			result = all[i]
			return nil
		}
		result = tg
		_, err = store.PutJSON(tx, targetGroupsTable, sc.Key(tg.ARN), tg, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, sc, result.ARN)
	return &api.CreateTargetGroupOutput{TargetGroups: api.TargetGroups{targetGroupView(result, nil)}}, nil
}

func sameTargetGroup(a, b targetGroup) bool {
	return a.Protocol == b.Protocol && a.Port == b.Port && a.VPCID == b.VPCID && a.TargetType == b.TargetType &&
		a.HealthCheck == b.HealthCheck && a.ProtocolVersion == b.ProtocolVersion
}

func targetGroupView(tg targetGroup, lbs []string) api.TargetGroup {
	h := tg.HealthCheck
	return api.TargetGroup{TargetGroupArn: new(tg.ARN), TargetGroupName: new(tg.Name), Protocol: new(tg.Protocol), Port: new(tg.Port),
		VpcId: new(tg.VPCID), HealthCheckProtocol: new(h.Protocol), HealthCheckPort: new(h.Port), HealthCheckEnabled: new(h.Enabled),
		HealthCheckIntervalSeconds: new(h.Interval), HealthCheckTimeoutSeconds: new(h.Timeout), HealthyThresholdCount: new(h.Healthy),
		UnhealthyThresholdCount: new(h.Unhealthy), HealthCheckPath: new(h.Path), Matcher: &api.Matcher{HttpCode: new(h.Matcher)},
		LoadBalancerArns: append(api.LoadBalancerArns{}, lbs...), TargetType: new(tg.TargetType), ProtocolVersion: new(tg.ProtocolVersion),
		IpAddressType: new(tg.IPAddressType)}
}

// DescribeTargetGroups lists target groups: by ARN, by name, those of a
// load balancer, or all.
func (s *Service) DescribeTargetGroups(ctx context.Context, in *api.DescribeTargetGroupsInput) (*api.DescribeTargetGroupsOutput, error) {
	sc := scopeOf(ctx)
	for _, arn := range in.TargetGroupArns {
		if err := targetGroupARN.check(arn); err != nil {
			return nil, err
		}
	}
	var all []targetGroup
	var used map[string]string
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if all, err = loadAll[targetGroup](tx, targetGroupsTable, sc); err != nil {
			return err
		}
		used, err = usedIn(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	sortByCreation(all, func(tg targetGroup) (string, string) { return tg.Name, "" })
	if arn := deref(in.LoadBalancerArn); arn != "" {
		if _, err := s.loadBalancer(ctx, arn); err != nil {
			return nil, err
		}
		all = slices.DeleteFunc(all, func(tg targetGroup) bool { return used[tg.ARN] != arn })
	}
	list, err := selectRecords(all, in.TargetGroupArns, in.Names,
		func(tg targetGroup) string { return tg.ARN }, func(tg targetGroup) string { return tg.Name },
		func(missing []string) error { return targetGroupNotFound(strings.Join(missing, ", ")) },
		func([]string) error { return apiError("TargetGroupNotFound", "One or more target groups not found") })
	if err != nil {
		return nil, err
	}
	list, next, err := page(list, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &api.DescribeTargetGroupsOutput{TargetGroups: api.TargetGroups{}, NextMarker: next}
	for _, tg := range list {
		var lbs []string
		if lb := used[tg.ARN]; lb != "" {
			lbs = []string{lb}
		}
		out.TargetGroups = append(out.TargetGroups, targetGroupView(tg, lbs))
	}
	return out, nil
}

// usedIn maps each target group a listener or rule of sc uses to its load
// balancer.
func usedIn(tx store.Tx, sc scope) (map[string]string, error) {
	lbs, err := loadAll[loadBalancer](tx, loadBalancersTable, sc)
	return usedTargetGroups(lbs), err
}

// ModifyTargetGroup changes a target group's health check.
func (s *Service) ModifyTargetGroup(ctx context.Context, in *api.ModifyTargetGroupInput) (*api.ModifyTargetGroupOutput, error) {
	var lbs []string
	tg, err := s.updateTargetGroup(ctx, scopeOf(ctx), *in.TargetGroupArn, func(tx store.Tx, tg *targetGroup) error {
		used, err := usedIn(tx, scopeOf(ctx))
		if lb := used[tg.ARN]; lb != "" {
			lbs = []string{lb}
		}
		if err != nil {
			return err
		}
		return tg.HealthCheck.apply(healthSettings{in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath, in.HealthCheckEnabled,
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher})
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, scopeOf(ctx), tg.ARN)
	return &api.ModifyTargetGroupOutput{TargetGroups: api.TargetGroups{targetGroupView(tg, lbs)}}, nil
}

// updateTargetGroup runs fn on a target group's record in a transaction
// and stores what it leaves.
func (s *Service) updateTargetGroup(ctx context.Context, sc scope, arn string, fn func(tx store.Tx, tg *targetGroup) error) (targetGroup, error) {
	if err := targetGroupARN.check(arn); err != nil {
		return targetGroup{}, err
	}
	var tg targetGroup
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var version int64
		var err error
		if tg, version, err = getRecord[targetGroup](tx, targetGroupsTable, sc, arn, targetGroupNotFound(arn)); err != nil {
			return err
		}
		if err := fn(tx, &tg); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, targetGroupsTable, sc.Key(arn), tg, version)
		return err
	})
	return tg, err
}

// DeleteTargetGroup deletes a target group no listener or rule uses. One
// already gone is not an error.
func (s *Service) DeleteTargetGroup(ctx context.Context, in *api.DeleteTargetGroupInput) (*api.DeleteTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	arn := *in.TargetGroupArn
	if err := targetGroupARN.check(arn); err != nil {
		return nil, err
	}
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		_, version, err := getRecord[targetGroup](tx, targetGroupsTable, sc, arn, errGone)
		if err != nil {
			return err
		}
		used, err := usedIn(tx, sc)
		if err != nil {
			return err
		}
		if used[arn] != "" {
			return apiError("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
		}
		return tx.Delete(targetGroupsTable, sc.Key(arn), version)
	})
	if err != nil && !errors.Is(err, errGone) {
		return nil, err
	}
	s.changed(ctx, sc, arn)
	return &api.DeleteTargetGroupOutput{}, nil
}

// DescribeTargetGroupAttributes returns every attribute of a target group.
func (s *Service) DescribeTargetGroupAttributes(ctx context.Context, in *api.DescribeTargetGroupAttributesInput) (*api.DescribeTargetGroupAttributesOutput, error) {
	arn := *in.TargetGroupArn
	if err := targetGroupARN.check(arn); err != nil {
		return nil, err
	}
	var tg targetGroup
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		tg, _, err = getRecord[targetGroup](tx, targetGroupsTable, scopeOf(ctx), arn, targetGroupNotFound(arn))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.DescribeTargetGroupAttributesOutput{Attributes: targetGroupAttributes(tg.Attributes)}, nil
}

func targetGroupAttributes(m map[string]string) api.TargetGroupAttributes {
	return attributeList(m, func(k, v *string) api.TargetGroupAttribute { return api.TargetGroupAttribute{Key: k, Value: v} })
}

// ModifyTargetGroupAttributes changes attributes and returns them all.
func (s *Service) ModifyTargetGroupAttributes(ctx context.Context, in *api.ModifyTargetGroupAttributesInput) (*api.ModifyTargetGroupAttributesOutput, error) {
	tg, err := s.updateTargetGroup(ctx, scopeOf(ctx), *in.TargetGroupArn, func(_ store.Tx, tg *targetGroup) error {
		return setAttributes(tg.Attributes, in.Attributes, func(a api.TargetGroupAttribute) (*string, *string) { return a.Key, a.Value },
			"Target group", checkTargetGroupAttribute)
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, scopeOf(ctx), tg.ARN)
	return &api.ModifyTargetGroupAttributesOutput{Attributes: targetGroupAttributes(tg.Attributes)}, nil
}
