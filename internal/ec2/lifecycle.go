package ec2

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/store"
)

// Event is what every instance state change publishes on the bus, shaped
// like AWS's EventBridge event.
const (
	EventSource    = "aws.ec2"
	EventStateType = "EC2 Instance State-change Notification"
)

// putInstance writes inst in state, and publishes the state change in the
// same transaction. ifVersion 0 creates the record.
func (s *Service) putInstance(ctx context.Context, tx store.Tx, sc scope, inst *instance, state string, ifVersion int64) error {
	inst.State = state
	if _, err := store.PutJSON(tx, instancesTable, sc.Key(inst.ID), inst, ifVersion); err != nil {
		return err
	}
	detail, err := json.Marshal(map[string]string{"instance-id": inst.ID, "state": state})
	if err != nil {
		return err
	}
	return s.bus.Publish(ctx, tx, bus.Event{Source: EventSource, Type: EventStateType, Account: sc.Account, Region: sc.Region,
		Resources: []string{instanceARN(sc, inst.ID)}, Detail: detail})
}

// settles is what each transitional state becomes once the controller has
// done the work; a virtual host boots, stops and shuts down at once.
var settles = map[string]string{statePending: stateRunning, stateStopping: stateStopped, stateShuttingDown: stateTerminated}

// changingInstances lists the instances the controller has work for: the
// transitional ones, and the terminated ones it must forget.
func (s *Service) changingInstances(ctx context.Context) ([]string, error) {
	var keys []string
	err := s.db.View(ctx, func(tx store.Tx) error {
		return store.ScanJSON(tx, instancesTable, store.ScanOptions{}, func(key string, i instance, _ int64) error {
			if _, changing := settles[i.State]; changing || i.State == stateTerminated {
				keys = append(keys, key)
			}
			return nil
		})
	})
	return keys, err
}

// reconcileInstance settles one instance's transitional state, and
// forgets a terminated instance once terminatedVisibility has passed.
func (s *Service) reconcileInstance(ctx context.Context, key string) (controller.Result, error) {
	account, rest, _ := strings.Cut(key, "/")
	region, id, _ := strings.Cut(rest, "/")
	sc := scope{Account: account, Region: region}
	var result controller.Result
	changed := false
	err := store.UpdateRetry(ctx, s.db, updateAttempts, func(tx store.Tx) error {
		result, changed = controller.Result{}, false
		var inst instance
		version, err := store.GetJSON(tx, instancesTable, key, &inst)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if inst.State == stateTerminated {
			if forget := inst.Ended.Add(terminatedVisibility); now.Before(forget) {
				result = controller.At(forget)
				return nil
			}
			return tx.Delete(instancesTable, key, version)
		}
		next, ok := settles[inst.State]
		if !ok {
			return nil
		}
		if next == stateTerminated {
			n, err := getInterface(tx, sc, inst.InterfaceID)
			if err == nil {
				err = deleteInterface(tx, sc, n)
			} else if awsCode(err) == "InvalidNetworkInterfaceID.NotFound" {
				err = nil
			}
			if err != nil {
				return err
			}
			inst.Ended = now
			result = controller.At(now.Add(terminatedVisibility))
		}
		changed = true
		return s.putInstance(ctx, tx, sc, &inst, next, version)
	})
	if err != nil {
		return controller.Result{}, err
	}
	if changed {
		s.bus.Notify()
		s.log.Debug("ec2: instance state settled", "instance", id)
	}
	return result, nil
}
