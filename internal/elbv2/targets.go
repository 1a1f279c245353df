package elbv2

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/elbv2"
	"overcast/internal/store"
)

// Target is a target as other services (ECS services) register it: an
// instance ID or an IP address, and a port (0: the target group's).
type Target struct {
	ID   string
	Port int32
}

// TargetHealth is a target's state in ELB's words: State is initial,
// healthy, unhealthy, unused or draining; Reason and Description are empty
// when healthy.
type TargetHealth struct {
	Target
	State, Reason, Description string
}

// Register registers targets in the target group an ARN names, in the
// ARN's account and region, as RegisterTargets does.
func (s *Service) Register(ctx context.Context, targetGroupARN string, targets ...Target) error {
	sc, err := scopeOfARN(targetGroupARN)
	if err != nil {
		return err
	}
	return s.registerTargets(ctx, sc, targetGroupARN, descriptions(targets))
}

// Deregister deregisters targets of the target group an ARN names: they
// drain for the group's deregistration delay.
func (s *Service) Deregister(ctx context.Context, targetGroupARN string, targets ...Target) error {
	sc, err := scopeOfARN(targetGroupARN)
	if err != nil {
		return err
	}
	return s.deregisterTargets(ctx, sc, targetGroupARN, descriptions(targets))
}

// TargetHealth is the health of every target of the target group an ARN
// names, draining ones included.
func (s *Service) TargetHealth(ctx context.Context, targetGroupARN string) ([]TargetHealth, error) {
	sc, err := scopeOfARN(targetGroupARN)
	if err != nil {
		return nil, err
	}
	list, err := s.targetHealth(ctx, sc, targetGroupARN, nil)
	if err != nil {
		return nil, err
	}
	var out []TargetHealth
	for _, d := range list {
		out = append(out, TargetHealth{Target: Target{ID: *d.Target.Id, Port: *d.Target.Port}, State: *d.TargetHealth.State,
			Reason: deref(d.TargetHealth.Reason), Description: deref(d.TargetHealth.Description)})
	}
	return out, nil
}

func scopeOfARN(arn string) (scope, error) {
	if err := targetGroupARN.check(arn); err != nil {
		return scope{}, err
	}
	a, _ := overcast.ParseARN(arn)
	return scope{Account: a.AccountID, Region: a.Region}, nil
}

func descriptions(targets []Target) api.TargetDescriptions {
	var out api.TargetDescriptions
	for _, t := range targets {
		d := api.TargetDescription{Id: new(t.ID)}
		if t.Port != 0 {
			d.Port = new(t.Port)
		}
		out = append(out, d)
	}
	return out
}

// RegisterTargets registers instance or ip targets.
func (s *Service) RegisterTargets(ctx context.Context, in *api.RegisterTargetsInput) (*api.RegisterTargetsOutput, error) {
	return &api.RegisterTargetsOutput{}, s.registerTargets(ctx, scopeOf(ctx), *in.TargetGroupArn, in.Targets)
}

// DeregisterTargets starts draining targets; unknown ones are ignored.
func (s *Service) DeregisterTargets(ctx context.Context, in *api.DeregisterTargetsInput) (*api.DeregisterTargetsOutput, error) {
	return &api.DeregisterTargetsOutput{}, s.deregisterTargets(ctx, scopeOf(ctx), *in.TargetGroupArn, in.Targets)
}

func (s *Service) registerTargets(ctx context.Context, sc scope, arn string, in api.TargetDescriptions) error {
	if err := targetGroupARN.check(arn); err != nil {
		return err
	}
	var tg targetGroup
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		tg, _, err = getRecord[targetGroup](tx, targetGroupsTable, sc, arn, targetGroupNotFound(arn))
		return err
	})
	if err != nil {
		return err
	}
	resolved, err := s.resolveTargets(ctx, sc, tg, in)
	if err != nil {
		return err
	}
	_, err = s.updateTargetGroup(ctx, sc, arn, func(_ store.Tx, tg *targetGroup) error {
		for _, t := range resolved {
			i := slices.IndexFunc(tg.Targets, func(o target) bool { return o.key() == t.key() })
			if i >= 0 {
				tg.Targets[i] = t // registering a draining target returns it to service
				continue
			}
			tg.Targets = append(tg.Targets, t)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.changed(ctx, sc, arn)
	return nil
}

// resolveTargets checks targets against the group's type and VPC and
// finds the address of each.
func (s *Service) resolveTargets(ctx context.Context, sc scope, tg targetGroup, in api.TargetDescriptions) ([]target, error) {
	var vpc VPC
	if tg.TargetType == "ip" {
		var err error
		if vpc, err = s.network.VPC(ctx, sc.Account, sc.Region, tg.VPCID); err != nil {
			return nil, err
		}
	}
	var out []target
	var notRunning, outside, invalid []string
	for _, d := range in {
		t := target{ID: *d.Id, Port: tg.Port, Zone: deref(d.AvailabilityZone)}
		if d.Port != nil {
			t.Port = *d.Port
		}
		switch tg.TargetType {
		case "instance":
			inst, err := s.network.Instance(ctx, sc.Account, sc.Region, t.ID)
			switch {
			case errors.Is(err, ErrInstanceNotFound):
				invalid = append(invalid, t.ID)
				continue
			case err != nil:
				return nil, err
			case inst.State != "running":
				notRunning = append(notRunning, t.ID)
				continue
			case inst.VPCID != tg.VPCID:
				outside = append(outside, t.ID)
				continue
			}
			t.IP, t.Zone = inst.PrivateIP, inst.AvailabilityZone
		case "ip":
			ip, err := netip.ParseAddr(t.ID)
			if err != nil || !ip.Is4() {
				return nil, validation("The IP address '%s' is not a valid IPv4 address", t.ID)
			}
			if !inVPC(vpc, ip) && t.Zone != "all" {
				return nil, validation("The Availability Zone is required for IP address '%s' because it is not in the VPC", t.ID)
			}
			t.IP = t.ID
		}
		out = append(out, t)
	}
	quoted := func(ids []string) string { return "'" + strings.Join(ids, "', '") + "'" }
	switch {
	case len(invalid) > 0:
		return nil, apiError("InvalidTarget", "The following targets are not valid instances: %s", quoted(invalid))
	case len(notRunning) > 0:
		return nil, apiError("InvalidTarget", "The following targets are not in a running state and cannot be registered: %s", quoted(notRunning))
	case len(outside) > 0:
		return nil, apiError("InvalidTarget", "The following targets are not in the target group VPC '%s': %s", tg.VPCID, quoted(outside))
	}
	return out, nil
}

// inVPC reports whether ip is in the VPC's range. A VPC on loopback (the
// default one overcast makes in 127.x) takes all of 127.0.0.0/8: the
// services a user runs on the host itself listen there.
func inVPC(v VPC, ip netip.Addr) bool {
	p, err := netip.ParsePrefix(v.CIDR)
	if err != nil {
		return false
	}
	if p.Contains(ip) {
		return true
	}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	return loopback.Contains(p.Addr()) && loopback.Contains(ip)
}

func (s *Service) deregisterTargets(ctx context.Context, sc scope, arn string, in api.TargetDescriptions) error {
	now := s.Now()
	_, err := s.updateTargetGroup(ctx, sc, arn, func(_ store.Tx, tg *targetGroup) error {
		delay, _ := strconv.Atoi(tg.Attributes["deregistration_delay.timeout_seconds"])
		for _, d := range in {
			port := tg.Port
			if d.Port != nil {
				port = *d.Port
			}
			key := target{ID: *d.Id, Port: port}.key()
			i := slices.IndexFunc(tg.Targets, func(o target) bool { return o.key() == key })
			if i < 0 || !tg.Targets[i].DrainUntil.IsZero() {
				continue
			}
			if delay == 0 {
				tg.Targets = slices.Delete(tg.Targets, i, i+1)
				continue
			}
			tg.Targets[i].DrainUntil = now.Add(time.Duration(delay) * time.Second)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.changed(ctx, sc, arn)
	return nil
}

// DescribeTargetHealth reports each target's health: the registered ones,
// or those asked for (unused when not registered).
func (s *Service) DescribeTargetHealth(ctx context.Context, in *api.DescribeTargetHealthInput) (*api.DescribeTargetHealthOutput, error) {
	list, err := s.targetHealth(ctx, scopeOf(ctx), *in.TargetGroupArn, in.Targets)
	if err != nil {
		return nil, err
	}
	return &api.DescribeTargetHealthOutput{TargetHealthDescriptions: list}, nil
}

func (s *Service) targetHealth(ctx context.Context, sc scope, arn string, asked api.TargetDescriptions) (api.TargetHealthDescriptions, error) {
	if err := targetGroupARN.check(arn); err != nil {
		return nil, err
	}
	var tg targetGroup
	var used map[string]string
	err := s.Store.View(ctx, func(tx store.Tx) (err error) {
		if tg, _, err = getRecord[targetGroup](tx, targetGroupsTable, sc, arn, targetGroupNotFound(arn)); err != nil {
			return err
		}
		used, err = usedIn(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := api.TargetHealthDescriptions{}
	describe := func(t target, h targetState) {
		d := api.TargetHealthDescription{Target: &api.TargetDescription{Id: new(t.ID), Port: new(t.Port)},
			HealthCheckPort: new(healthCheckPort(tg, t)), TargetHealth: &api.TargetHealth{State: new(h.State)}}
		if t.Zone != "" {
			d.Target.AvailabilityZone = new(t.Zone)
		}
		if h.Reason != "" {
			d.TargetHealth.Reason, d.TargetHealth.Description = new(h.Reason), new(h.Description)
		}
		out = append(out, d)
	}
	stateOf := func(t target) targetState {
		switch {
		case !t.DrainUntil.IsZero() && now.Before(t.DrainUntil):
			return stateDraining
		case !t.DrainUntil.IsZero():
			return stateNotRegistered
		case used[arn] == "":
			return stateNotInUse
		}
		return s.health.state(sc.Key(arn), t)
	}
	if len(asked) == 0 {
		for _, t := range tg.Targets {
			if st := stateOf(t); st != stateNotRegistered {
				describe(t, st)
			}
		}
		return out, nil
	}
	for _, d := range asked {
		t := target{ID: *d.Id, Port: tg.Port}
		if d.Port != nil {
			t.Port = *d.Port
		}
		i := slices.IndexFunc(tg.Targets, func(o target) bool { return o.key() == t.key() })
		if i < 0 {
			describe(t, stateNotRegistered)
			continue
		}
		describe(tg.Targets[i], stateOf(tg.Targets[i]))
	}
	return out, nil
}

func healthCheckPort(tg targetGroup, t target) string {
	if tg.HealthCheck.Port == "traffic-port" {
		return strconv.Itoa(int(t.Port))
	}
	return tg.HealthCheck.Port
}

// LoadBalancerOf is the load balancer whose listeners or rules forward to
// the target group an ARN names, or "" when none does (ECS refuses a
// service whose target group has no load balancer).
func (s *Service) LoadBalancerOf(ctx context.Context, targetGroupARN string) (lb string, err error) {
	err = s.viewTargetGroup(ctx, targetGroupARN, func(tx store.Tx, sc scope, _ targetGroup) error {
		used, err := usedIn(tx, sc)
		lb = used[targetGroupARN]
		return err
	})
	return lb, err
}

// TargetType is the target type (instance, ip) of the target group an ARN
// names.
func (s *Service) TargetType(ctx context.Context, targetGroupARN string) (kind string, err error) {
	err = s.viewTargetGroup(ctx, targetGroupARN, func(_ store.Tx, _ scope, tg targetGroup) error {
		kind = tg.TargetType
		return nil
	})
	return kind, err
}

// viewTargetGroup runs fn in a read transaction on the target group an
// ARN names, in the ARN's own account and region.
func (s *Service) viewTargetGroup(ctx context.Context, arn string, fn func(tx store.Tx, sc scope, tg targetGroup) error) error {
	sc, err := scopeOfARN(arn)
	if err != nil {
		return err
	}
	return s.Store.View(ctx, func(tx store.Tx) error {
		tg, _, err := getRecord[targetGroup](tx, targetGroupsTable, sc, arn, targetGroupNotFound(arn))
		if err != nil {
			return err
		}
		return fn(tx, sc, tg)
	})
}
