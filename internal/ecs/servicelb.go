package ecs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	api "overcast/internal/api/ecs"
)

// LoadBalancers registers a service's tasks in its target groups; the app
// adapts internal/elbv2 to it. Errors for a target group that does not
// exist are ELBv2's (TargetGroupNotFound) and pass through to the caller.
type LoadBalancers interface {
	// LoadBalancerOf is the load balancer that forwards to a target
	// group, "" when none does.
	LoadBalancerOf(ctx context.Context, targetGroupARN string) (string, error)
	// TargetType is the target group's: instance or ip.
	TargetType(ctx context.Context, targetGroupARN string) (string, error)
	Register(ctx context.Context, targetGroupARN string, t Target) error
	// Deregister starts the target's draining.
	Deregister(ctx context.Context, targetGroupARN string, t Target) error
	// TargetStates are the states of a target group's targets in ELB's
	// words (initial, healthy, unhealthy, unused, draining); a target not
	// there is absent.
	TargetStates(ctx context.Context, targetGroupARN string) (map[Target]string, error)
}

// Target is a task in a target group: its ENI's address (ip target
// groups) or its EC2 instance (instance ones), and a port.
type Target struct {
	ID   string
	Port int32
}

// checkLoadBalancers holds a service's load balancers to ECS's rules: a
// container and port of the task definition, a target group a load
// balancer forwards to, of the type the network mode needs.
func (s *Service) checkLoadBalancers(ctx context.Context, lbs api.LoadBalancers, def api.TaskDefinition) error {
	if len(lbs) == 0 {
		return nil
	}
	if s.loadBalancers == nil {
		return invalidParameter("Load balancers are not available.")
	}
	for _, lb := range lbs {
		tg := deref(lb.TargetGroupArn)
		if tg == "" {
			return invalidParameter("Target group ARN must be specified for application load balancers.")
		}
		if targetContainer(def, lb) == nil {
			return invalidParameter("The container %s did not have a container port %d defined.", deref(lb.ContainerName), deref(lb.ContainerPort))
		}
		owner, err := s.loadBalancers.LoadBalancerOf(ctx, tg)
		if err != nil {
			return err
		}
		if owner == "" {
			return invalidParameter("The target group with targetGroupArn %s does not have an associated load balancer.", tg)
		}
		kind, err := s.loadBalancers.TargetType(ctx, tg)
		if err != nil {
			return err
		}
		awsvpc := deref(def.NetworkMode) == networkAwsvpc
		if awsvpc && kind != "ip" {
			return invalidParameter("The provided target group %s has target type %s, which is incompatible with the awsvpc network mode specified in the task definition.", tg, kind)
		}
		if !awsvpc && kind == "ip" {
			return invalidParameter("The provided target group %s has target type ip, which is incompatible with the %s network mode specified in the task definition.", tg, cmpOr(deref(def.NetworkMode), "bridge"))
		}
	}
	return nil
}

// targetContainer is the container definition a load balancer entry
// names, if it maps the port.
func targetContainer(def api.TaskDefinition, lb api.LoadBalancer) *api.ContainerDefinition {
	for i, c := range def.ContainerDefinitions {
		if deref(c.Name) != deref(lb.ContainerName) {
			continue
		}
		for _, pm := range c.PortMappings {
			if deref(pm.ContainerPort) == deref(lb.ContainerPort) {
				return &def.ContainerDefinitions[i]
			}
		}
	}
	return nil
}

// targetOf is where a running task takes a load balancer's traffic: its
// ENI's address and the container port, or its instance and the host
// port bound to the container port; false while it has none.
func targetOf(t task, lb api.LoadBalancer) (Target, bool) {
	if t.Interface != nil {
		return Target{ID: t.Interface.PrivateIP, Port: deref(lb.ContainerPort)}, true
	}
	if port, ok := t.Published[publishedKey(deref(lb.ContainerName), deref(lb.ContainerPort))]; ok && t.EC2InstanceID != "" {
		return Target{ID: t.EC2InstanceID, Port: port}, true
	}
	return Target{}, false
}

// publishedKey names a container port in task.Published.
func publishedKey(container string, port int32) string {
	return container + "/" + strconv.Itoa(int(port))
}

// balancing is a service's view of its target groups in one reconcile.
type balancing struct {
	lbs    api.LoadBalancers
	states map[string]map[Target]string // by target group ARN
}

func (s *Service) readBalancing(ctx context.Context, sv *serviceRecord) (*balancing, error) {
	b := &balancing{lbs: sv.View.LoadBalancers, states: map[string]map[Target]string{}}
	if len(b.lbs) == 0 || s.loadBalancers == nil {
		return b, nil
	}
	for _, lb := range b.lbs {
		tg := deref(lb.TargetGroupArn)
		states, err := s.loadBalancers.TargetStates(ctx, tg)
		if err != nil {
			return nil, err
		}
		b.states[tg] = states
	}
	return b, nil
}

// healthy says whether each of the task's targets is healthy; a service
// without load balancers has nothing to say.
func (b *balancing) healthy(t task) bool {
	for _, lb := range b.lbs {
		target, ok := targetOf(t, lb)
		if !ok || b.states[deref(lb.TargetGroupArn)][target] != "healthy" {
			return false
		}
	}
	return true
}

// failedELB is the target group whose health checks a task failed after
// its grace period, "" when none.
func (b *balancing) failedELB(t task, grace time.Duration, now time.Time) string {
	if t.StartedAt == nil || now.Sub(*t.StartedAt) < grace {
		return ""
	}
	for _, lb := range b.lbs {
		if target, ok := targetOf(t, lb); ok && b.states[deref(lb.TargetGroupArn)][target] == "unhealthy" {
			return deref(lb.TargetGroupArn)
		}
	}
	return ""
}

// registerTargets registers a running task's targets that are not
// registered.
func (s *Service) registerTargets(ctx context.Context, b *balancing, t task) error {
	for _, lb := range b.lbs {
		tg := deref(lb.TargetGroupArn)
		target, ok := targetOf(t, lb)
		if !ok {
			continue
		}
		if _, there := b.states[tg][target]; there {
			continue
		}
		if err := s.loadBalancers.Register(ctx, tg, target); err != nil {
			return fmt.Errorf("registering task %s in %s: %w", t.ARN, tg, err)
		}
		b.states[tg][target] = "initial"
	}
	return nil
}

// drained deregisters the task's targets; it reports whether none of them
// is still registered or draining, so that the task may stop.
func (s *Service) drained(ctx context.Context, b *balancing, t task) (bool, error) {
	done := true
	for _, lb := range b.lbs {
		tg := deref(lb.TargetGroupArn)
		target, ok := targetOf(t, lb)
		if !ok {
			continue
		}
		switch state, there := b.states[tg][target]; {
		case !there:
		case state == "draining":
			done = false
		default:
			if err := s.loadBalancers.Deregister(ctx, tg, target); err != nil {
				return false, err
			}
			b.states[tg][target] = "draining"
			done = false
		}
	}
	return done, nil
}
