package autoscaling

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"overcast"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/service"
	"overcast/internal/store"
)

// instanceStateChanges are EC2's events: a member that stops or
// terminates is replaced without waiting for the next health check.
var instanceStateChanges = bus.Pattern{Source: "aws.ec2", Types: []string{"EC2 Instance State-change Notification"}}

// groupsOfEvent is the group, if any, of the instance an EC2 event is
// about.
func (s *Service) groupsOfEvent(ev bus.Event) []string {
	var detail struct {
		InstanceID string `json:"instance-id"`
	}
	if json.Unmarshal(ev.Detail, &detail) != nil || detail.InstanceID == "" {
		return nil
	}
	sc := overcast.Scope{Account: ev.Account, Region: ev.Region}
	var name string
	err := s.Store.View(context.Background(), func(tx store.Tx) error {
		_, err := store.GetJSON(tx, membersTable, sc.Key(detail.InstanceID), &name)
		return err
	})
	if err != nil {
		return nil
	}
	return []string{sc.Key(name)}
}

// running are the EC2 states a healthy member is in; any other (stopping,
// stopped, shutting-down, terminated, or gone) fails the EC2 health check.
var running = map[string]string{"pending": statePending, "running": stateInService}

// reconcileGroup does one step towards a group's desired capacity:
// finishes a termination, takes an instance EC2 no longer runs out of
// service, or launches or terminates one instance.
func (s *Service) reconcileGroup(ctx context.Context, key string) (controller.Result, error) {
	account, rest, _ := strings.Cut(key, "/")
	region, _, _ := strings.Cut(rest, "/")
	sc := overcast.Scope{Account: account, Region: region}
	var g group
	err := s.Store.View(ctx, func(tx store.Tx) error {
		_, err := store.GetJSON(tx, groupsTable, key, &g)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return controller.Result{}, nil
	} else if err != nil {
		return controller.Result{}, err
	}
	for _, m := range g.Instances {
		if m.Lifecycle == stateTerminating {
			return s.finishTermination(ctx, sc, key, m.ID)
		}
	}
	if changed, err := s.checkHealth(ctx, sc, key, g); err != nil || changed {
		return controller.Result{Requeue: true}, err
	}
	switch count := g.instanceCount(); {
	case g.Deleting && count == 0:
		return controller.Result{}, store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
			if _, err := store.DeleteScanned(tx, policiesTable, store.ScanOptions{Prefix: key + "/"}); err != nil {
				return err
			}
			return tx.Delete(groupsTable, key, store.AnyVersion)
		})
	case count < g.Desired:
		return controller.Result{Requeue: true}, s.launch(ctx, sc, key, g)
	case count > g.Desired:
		victim := chooseVictim(g)
		return controller.Result{Requeue: true}, s.update(ctx, key, func(tx store.Tx, g *group) error {
			return s.takeOutOfService(tx, sc, g, victim, healthy, fmt.Sprintf(
				"At %s an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from %d to %d.",
				awsTime(s.Now()), count, count-1))
		})
	}
	return controller.After(healthCheckEvery), nil
}

// update is a read-modify-write of a group the controller holds the key of.
func (s *Service) update(ctx context.Context, key string, change func(tx store.Tx, g *group) error) error {
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		var g group
		version, err := store.GetJSON(tx, groupsTable, key, &g)
		if err != nil {
			return err
		}
		if err := change(tx, &g); err != nil {
			return err
		}
		_, err = store.PutJSON(tx, groupsTable, key, g, version)
		return err
	})
}

// takeOutOfService marks a member Terminating and records why; the next
// step terminates it.
func (s *Service) takeOutOfService(tx store.Tx, sc overcast.Scope, g *group, id, health, cause string) error {
	i := slices.IndexFunc(g.Instances, func(m member) bool { return m.ID == id })
	if i < 0 {
		return nil
	}
	g.Instances[i].Lifecycle, g.Instances[i].Health = stateTerminating, health
	_, err := s.recordActivity(tx, sc, g, "Terminating EC2 instance: "+id, cause, "InProgress")
	return err
}

// finishTermination terminates a member in EC2, then forgets it.
func (s *Service) finishTermination(ctx context.Context, sc overcast.Scope, key, id string) (controller.Result, error) {
	if err := s.ec2.TerminateInstance(ctx, sc.Account, sc.Region, id); err != nil && !errors.Is(err, ErrInstanceNotFound) {
		return controller.Result{}, err
	}
	err := s.update(ctx, key, func(tx store.Tx, g *group) error {
		g.Instances = slices.DeleteFunc(g.Instances, func(m member) bool { return m.ID == id })
		if err := tx.Delete(membersTable, sc.Key(id), store.AnyVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.finishActivities(tx, sc, g.Name, id)
	})
	return controller.Result{Requeue: true}, err
}

// checkHealth brings members' lifecycle states up to date with EC2's, and
// takes the ones EC2 no longer runs out of service.
func (s *Service) checkHealth(ctx context.Context, sc overcast.Scope, key string, g group) (bool, error) {
	states := map[string]string{}
	for _, m := range g.Instances {
		inst, err := s.ec2.Instance(ctx, sc.Account, sc.Region, m.ID)
		if err != nil && !errors.Is(err, ErrInstanceNotFound) {
			return false, err
		}
		states[m.ID] = inst.State
	}
	changed := false
	err := s.update(ctx, key, func(tx store.Tx, g *group) error {
		changed = false
		for i, m := range g.Instances {
			state, ok := states[m.ID]
			if !ok || m.Lifecycle == stateTerminating {
				continue
			}
			lifecycle, healthy := running[state]
			if !healthy {
				changed = true
				cause := fmt.Sprintf("At %s an instance was taken out of service in response to an EC2 instance status checks failure.", awsTime(s.Now()))
				if err := s.takeOutOfService(tx, sc, g, m.ID, unhealthy, cause); err != nil {
					return err
				}
				continue
			}
			if lifecycle != m.Lifecycle {
				changed = true
				g.Instances[i].Lifecycle = lifecycle
				if lifecycle == stateInService {
					if err := s.finishActivities(tx, sc, g.Name, m.ID); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	return changed, err
}

// launch starts one instance in the zone with fewest of the group's.
func (s *Service) launch(ctx context.Context, sc overcast.Scope, key string, g group) error {
	settings, err := s.launchSettings(ctx, g)
	if err != nil {
		return err
	}
	subnet, zone := placeNext(g)
	tags := maps.Clone(settings.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	for _, t := range g.Tags {
		if t.PropagateAtLaunch {
			tags[t.Key] = t.Value
		}
	}
	tags[GroupNameTag] = g.Name
	settings.SubnetID, settings.AvailabilityZone, settings.Tags, settings.ClientToken = subnet, zone, tags, launchToken(g)
	inst, err := s.ec2.RunInstance(ctx, sc.Account, sc.Region, settings)
	if err != nil {
		return err
	}
	count := g.instanceCount()
	return s.update(ctx, key, func(tx store.Tx, g *group) error {
		g.Launches++
		if slices.ContainsFunc(g.Instances, func(m member) bool { return m.ID == inst.ID }) {
			return nil
		}
		g.Instances = append(g.Instances, member{ID: inst.ID, Zone: inst.AvailabilityZone, SubnetID: inst.SubnetID,
			LaunchConfiguration: g.LaunchConfiguration, LaunchTemplate: g.LaunchTemplate, InstanceType: settings.InstanceType, Lifecycle: statePending, Health: healthy, Launched: s.Now().UTC()})
		if _, err := store.PutJSON(tx, membersTable, sc.Key(inst.ID), g.Name, store.AnyVersion); err != nil {
			return err
		}
		_, err := s.recordActivity(tx, sc, g, "Launching a new EC2 instance: "+inst.ID, fmt.Sprintf(
			"At %s an instance was started in response to a difference between desired and actual capacity, increasing the capacity from %d to %d.",
			awsTime(s.Now()), count, count+1), "InProgress")
		return err
	})
}

// launchToken is the client token of the group's next launch: the same
// until the launch is recorded, so a retried launch finds the instance
// the first attempt made.
func launchToken(g group) string {
	id := g.ARN[strings.Index(g.ARN, ":autoScalingGroup:")+len(":autoScalingGroup:"):]
	id, _, _ = strings.Cut(id, ":")
	return fmt.Sprintf("%s-%d", id, g.Launches)
}

// zoneCounts counts the group's instances that are not leaving per zone,
// every zone of the group included.
func zoneCounts(g group) map[string]int {
	counts := map[string]int{}
	for _, z := range g.Zones {
		counts[z] += 0
	}
	for _, m := range g.Instances {
		if m.Lifecycle != stateTerminating {
			counts[m.Zone]++
		}
	}
	return counts
}

// placeNext is where the next instance goes: the zone with fewest
// instances (the first listed on a tie) and, in it, the subnet with fewest.
func placeNext(g group) (subnet, zone string) {
	counts := zoneCounts(g)
	zones := service.Distinct(g.Zones)
	zone = slices.MinFunc(zones, func(a, b string) int { return cmp.Compare(counts[a], counts[b]) })
	best := -1
	for i, id := range g.Subnets {
		if g.Zones[i] != zone {
			continue
		}
		n := 0
		for _, m := range g.Instances {
			if m.SubnetID == id {
				n++
			}
		}
		if best < 0 || n < best {
			subnet, best = id, n
		}
	}
	return subnet, zone
}

// chooseVictim follows the default termination policy: from the zone with
// most instances, one launched from an older launch configuration than
// the group's, then the longest running.
func chooseVictim(g group) string {
	counts := zoneCounts(g)
	var candidates []member
	for _, m := range g.Instances {
		if m.Lifecycle != stateTerminating {
			candidates = append(candidates, m)
		}
	}
	victim := slices.MinFunc(candidates, func(a, b member) int {
		return cmp.Or(
			cmp.Compare(counts[b.Zone], counts[a.Zone]),
			cmp.Compare(boolRank(current(g, a)), boolRank(current(g, b))),
			a.Launched.Compare(b.Launched),
			cmp.Compare(a.ID, b.ID))
	})
	return victim.ID
}

// current reports whether m was launched from the group's launch
// configuration or template.
func current(g group, m member) bool {
	if g.LaunchTemplate != nil {
		return m.LaunchTemplate != nil && m.LaunchTemplate.ID == g.LaunchTemplate.ID
	}
	return m.LaunchConfiguration == g.LaunchConfiguration
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
