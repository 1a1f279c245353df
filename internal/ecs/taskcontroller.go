package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"overcast"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/ecs/agent"
	"overcast/internal/store"
)

// NetworkInterfaces attaches the elastic network interfaces of awsvpc and
// Fargate tasks; the app adapts internal/ec2 to it.
type NetworkInterfaces interface {
	AttachTaskInterface(ctx context.Context, account, region, subnetID string, securityGroups []string, description string) (NetworkInterfaceInfo, error)
	ReleaseInterface(ctx context.Context, account, region, eniID string) error
}

// Subnets lets RunTask refuse an awsvpc configuration naming a subnet EC2
// does not have, as ECS does, instead of failing the task later.
type Subnets interface {
	// CheckSubnet returns an error wrapping ErrSubnetNotFound for a
	// subnet the account and region do not have.
	CheckSubnet(ctx context.Context, account, region, id string) error
}

// ErrSubnetNotFound is what Subnets returns for an unknown subnet.
var ErrSubnetNotFound = errors.New("ecs: no such subnet")

// NetworkInterfaceInfo is an ENI attached to a task. PrivateIP is a
// loopback address of the host: the task's ports are published there.
type NetworkInterfaceInfo struct {
	ID, SubnetID, VPCID, AvailabilityZone, PrivateIP, PrivateDNSName, MAC string
}

// reasonContainersVanished is the stopped reason of a task whose
// containers were removed behind overcast's back (or while it was down).
const reasonContainersVanished = "Task stopped because its containers no longer exist on the host"

// taskScope is the scope of a task record's key, "account/region/...".
func taskScope(key string) scope {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) < 3 {
		return scope{}
	}
	return scope{Account: parts[0], Region: parts[1]}
}

// taskKeys lists the tasks the controller has work on: all of them, since
// stopped ones are deleted when their hour is over.
func (s *Service) taskKeys(ctx context.Context) ([]string, error) {
	return store.TableKeys(ctx, s.Store, tasksTable)
}

// reconcileTask moves a task toward its desired status: it attaches the
// ENI, starts the task on the agent, writes back what the agent observes,
// stops it, releases its ENI, and deletes the record an hour after it
// stopped. Every change is published in the transaction that writes it.
func (s *Service) reconcileTask(ctx context.Context, key string) (controller.Result, error) {
	sc := taskScope(key)
	ctx = overcast.WithCaller(ctx, overcast.Caller{AccountID: sc.Account, Region: sc.Region})
	var t task
	var v int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		v, err = store.GetJSON(tx, tasksTable, key, &t)
		return err
	})
	if isNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	switch {
	case t.LastStatus == taskStopped:
		return s.expireTask(ctx, key, t, v)
	case t.DesiredStatus == taskStopped:
		return s.stopTask(ctx, sc, key, t, v)
	case len(s.dockerHosts) == 0:
		// No engine: the task cannot run. RunTask refuses new tasks, so
		// this is one left from a run that had one.
		t.DesiredStatus, t.StoppedReason = taskStopped, "Task stopped because no Docker engine is available"
		return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
	case s.host(t.Engine) == nil || s.host(t.Engine).isLost():
		// Its host is gone, or overcast no longer runs with it: nothing
		// there can be stopped, and services replace the task elsewhere.
		t.DesiredStatus, t.StopCode, t.StoppedReason, t.HostLost = taskStopped, stopCodeHostLost, hostLostReason(t), true
		return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
	case t.awaitingCapacity():
		return s.placeAwaiting(ctx, sc, key, t, v)
	case t.LastStatus == taskProvisioning:
		return s.provisionTask(ctx, sc, key, t, v)
	}
	// Registering every time re-registers the running tasks after a
	// restart, and keeps their metadata current.
	envs, err := s.registerTask(ctx, sc, t)
	if err != nil {
		return controller.Result{}, err
	}
	h := s.host(t.Engine)
	agt := h.agent
	ctx, cancel := h.bind(ctx)
	defer cancel()
	var o agent.Observed
	if t.Launched {
		o, err = agt.Observe(ctx, t.ARN)
	} else {
		var spec agent.Spec
		spec, err = s.taskSpec(ctx, sc, t)
		var refused *startRefused
		if errors.As(err, &refused) {
			t.DesiredStatus, t.StopCode, t.StoppedReason = taskStopped, agent.StopCodeTaskFailedToStart, refused.reason
			return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
		}
		if err == nil {
			spec.ContainerEnvironment = envs
			pullStarted := s.Now()
			o, err = agt.Start(ctx, spec)
			// Start pulls the images: what it took is the pull, unless the
			// agent timed it itself.
			if o.PullStartedAt.IsZero() && err == nil {
				o.PullStartedAt, o.PullStoppedAt = pullStarted, s.Now()
			}
		}
	}
	if errors.Is(err, agent.ErrNoTask) {
		t.DesiredStatus, t.StoppedReason = taskStopped, reasonContainersVanished
		return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !s.observed(&t, o) {
		return controller.Result{}, nil
	}
	if err := s.saveTask(ctx, sc, key, &t, &v); err != nil {
		return controller.Result{}, err
	}
	return controller.Result{Requeue: t.DesiredStatus == taskStopped}, nil
}

// provisionTask attaches the awsvpc task's ENI; the task is then PENDING.
func (s *Service) provisionTask(ctx context.Context, sc scope, key string, t task, v int64) (controller.Result, error) {
	if t.Interface == nil {
		subnet := ""
		var groups []string
		if t.Network != nil {
			groups = t.Network.SecurityGroups
			if len(t.Network.Subnets) > 0 {
				subnet = t.Network.Subnets[0]
			}
		}
		eni, err := s.interfaces.AttachTaskInterface(ctx, sc.Account, sc.Region, subnet, groups, "arn:aws:ecs:"+sc.Region+":"+sc.Account+":attachment/"+t.ID)
		if err != nil {
			t.DesiredStatus, t.StopCode = taskStopped, agent.StopCodeTaskFailedToStart
			t.StoppedReason = "ResourceInitializationError: failed to attach the network interface: " + err.Error()
			return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
		}
		t.Interface, t.AttachmentID = &eni, s.IDs.UUID()
	}
	t.LastStatus = taskPending
	return controller.Result{Requeue: true}, s.saveTask(ctx, sc, key, &t, &v)
}

// stopTask stops the task's containers, releases its ENI and marks it
// STOPPED, going through STOPPING and DEPROVISIONING as ECS does.
func (s *Service) stopTask(ctx context.Context, sc scope, key string, t task, v int64) (controller.Result, error) {
	if t.Draining {
		// The service controller deregisters its targets first; it clears
		// Draining when they are gone, and wakes the task again.
		if t.LastStatus != taskDeactivating {
			t.LastStatus = taskDeactivating
			if err := s.saveTask(ctx, sc, key, &t, &v); err != nil {
				return controller.Result{}, err
			}
		}
		return controller.Result{RequeueAfter: 30 * time.Second}, nil
	}
	if t.LastStatus != taskStopping && t.LastStatus != taskDeprovisioning {
		t.LastStatus, t.StoppingAt = taskStopping, new(s.Now().UTC())
		if err := s.saveTask(ctx, sc, key, &t, &v); err != nil {
			return controller.Result{}, err
		}
	}
	if h := s.host(t.Engine); h != nil && t.LastStatus == taskStopping && (t.HostLost || h.isLost()) {
		h.agent.Lost(t.ARN)
	} else if h != nil && t.LastStatus == taskStopping {
		stopCtx, cancel := h.bind(ctx)
		o, err := h.agent.Stop(stopCtx, t.ARN, t.StoppedReason)
		cancel()
		if err != nil && !errors.Is(err, agent.ErrNoTask) {
			return controller.Result{}, err
		}
		if err == nil {
			s.observed(&t, o)
		}
		if t.Interface != nil {
			t.LastStatus = taskDeprovisioning
			if err := s.saveTask(ctx, sc, key, &t, &v); err != nil {
				return controller.Result{}, err
			}
		}
	}
	if t.Interface != nil {
		if err := s.interfaces.ReleaseInterface(ctx, sc.Account, sc.Region, t.Interface.ID); err != nil {
			return controller.Result{}, err
		}
	}
	if s.endpoint != nil {
		s.endpoint.Deregister(t.ARN)
	}
	now := s.Now().UTC()
	t.LastStatus, t.StoppedAt = taskStopped, &now
	for i := range t.Containers {
		t.Containers[i].LastStatus = new(taskStopped)
		t.Containers[i].NetworkBindings = nil
	}
	if err := s.saveTask(ctx, sc, key, &t, &v); err != nil {
		return controller.Result{}, err
	}
	return controller.At(now.Add(stoppedFor)), nil
}

// expireTask deletes a task record once it has been STOPPED for an hour.
func (s *Service) expireTask(ctx context.Context, key string, t task, v int64) (controller.Result, error) {
	if t.StoppedAt == nil {
		return controller.Result{}, nil
	}
	if gone := t.StoppedAt.Add(stoppedFor); s.Now().Before(gone) {
		return controller.At(gone), nil
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(tasksTable, key, v) })
	if errors.Is(err, store.ErrConflict) {
		// Written since it was read (its tags, say): look again.
		return controller.Result{Requeue: true}, nil
	}
	if isNotFound(err) {
		err = nil
	}
	return controller.Result{}, err
}

// saveTask writes t over version *v, publishing its state. A write in
// between that left the task's Version as it was changed only its tags
// (TagResource, UntagResource): t takes them and is written over that
// write instead of failing, or of putting the old tags back.
func (s *Service) saveTask(ctx context.Context, sc scope, key string, t *task, v *int64) error {
	version, read := t.Version, *v
	return s.update(ctx, func(tx store.Tx) error {
		t.Version = version
		over := read
		var cur task
		cv, err := store.GetJSON(tx, tasksTable, key, &cur)
		if err == nil && cv != read && cur.Version == version {
			t.Tags, over = cur.Tags, cv
		}
		saved, err := s.putTask(tx, sc, key, t, over)
		if err == nil {
			*v = saved
		}
		return err
	})
}

// observed applies what the agent observed to t; false if nothing changed.
func (s *Service) observed(t *task, o agent.Observed) bool {
	before, _ := json.Marshal(t)
	t.Launched = true
	t.Containers = o.APIContainers()
	for _, c := range t.Containers {
		for _, b := range c.NetworkBindings {
			if t.Published == nil {
				t.Published = map[string]int32{}
			}
			t.Published[publishedKey(deref(c.Name), deref(b.ContainerPort))] = deref(b.HostPort)
		}
	}
	t.HealthStatus = o.HealthStatus
	stamp := func(dst **time.Time, at time.Time) {
		if !at.IsZero() {
			*dst = new(at.UTC())
		}
	}
	stamp(&t.PullStartedAt, o.PullStartedAt)
	stamp(&t.PullStoppedAt, o.PullStoppedAt)
	stamp(&t.StartedAt, o.StartedAt)
	if t.ConnectivityAt == nil && !o.PullStartedAt.IsZero() {
		t.ConnectivityAt = new(o.PullStartedAt.UTC())
	}
	if t.DesiredStatus != taskStopped {
		switch o.LastStatus {
		case agent.StatusRunning:
			t.LastStatus = taskRunning
			if t.Balanced && !t.Activated {
				t.LastStatus = taskActivating
			}
		case agent.StatusPending:
			t.LastStatus = taskPending
		}
		if o.StopCode != "" || o.LastStatus == agent.StatusStopped {
			t.DesiredStatus, t.StopCode, t.StoppedReason = taskStopped, o.StopCode, o.StoppedReason
		}
	}
	after, _ := json.Marshal(t)
	return string(before) != string(after)
}

// taskSpec is what the agent needs to run t.
func (s *Service) taskSpec(ctx context.Context, sc scope, t task) (agent.Spec, error) {
	spec := agent.Spec{TaskARN: t.ARN, Cluster: clusterARN(sc, t.Cluster), Definition: t.Definition, Overrides: t.Overrides,
		NetworkMode: deref(t.Definition.NetworkMode), HostIP: "127.0.0.1",
		Environment: map[string]string{"AWS_REGION": sc.Region, "AWS_DEFAULT_REGION": sc.Region},
		Labels:      map[string]string{docker.LabelAccount: sc.Account, docker.LabelRegion: sc.Region}}
	switch {
	case t.Interface != nil:
		spec.HostIP = t.Interface.PrivateIP
	case t.EC2InstanceID != "" && s.instances != nil:
		// An agent registered by hand names an instance EC2 may not know:
		// its tasks publish on 127.0.0.1.
		inst, err := s.instances.Instance(ctx, sc.Account, sc.Region, t.EC2InstanceID)
		if err != nil && !errors.Is(err, ErrInstanceNotFound) {
			return spec, fmt.Errorf("ecs: the EC2 instance of task %s: %w", t.ARN, err)
		}
		if inst.PrivateIP != "" {
			spec.HostIP = inst.PrivateIP
		}
	}
	if role := deref(t.Definition.ExecutionRoleArn); role != "" && s.executionRoles != nil {
		caller, err := s.executionRoles.AssumeExecutionRole(ctx, role, t.ID)
		if err != nil {
			if ctx.Err() != nil {
				return spec, err
			}
			return spec, &startRefused{"ResourceInitializationError: unable to pull secrets or registry auth: " +
				"unable to assume the execution role " + role + ": " + err.Error()}
		}
		spec.Caller = &caller
	}
	return spec, nil
}

// startRefused is a task that cannot start, and why, in ECS's words.
type startRefused struct{ reason string }

func (e *startRefused) Error() string { return e.reason }

// onAgentChange enqueues the task the agent saw change.
func (s *Service) onAgentChange(o agent.Observed) {
	if key := taskKeyOfARN(o.TaskARN); key != "" {
		enqueue(s.tasks, key)
	}
}

// Start adopts the tasks a previous overcast left running, so that their
// supervisors watch them again before the controller looks, and follows
// the engine's events.
func (s *Service) Start(ctx context.Context) error {
	if len(s.dockerHosts) == 0 {
		s.endpoint = nil
		return nil
	}
	if s.endpoint != nil {
		if err := s.endpoint.Start(ctx); err != nil {
			s.Logger.Warn("ecs: tasks run without credentials and metadata: the task endpoint cannot start", "err", err)
			s.endpoint = nil
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stopAgent = cancel
	for _, h := range s.dockerHosts {
		if _, err := h.agent.Adopt(ctx); err != nil {
			s.Logger.Warn("ecs: adopting running tasks", "host", h.name, "err", err)
		}
		go func() {
			if err := h.agent.Run(runCtx); err != nil && runCtx.Err() == nil {
				s.Logger.Warn("ecs: following the engine's events", "host", h.name, "err", err)
			}
		}()
	}
	return nil
}

// Close stops supervising tasks; their containers keep running for the
// next overcast to adopt.
func (s *Service) Close() error {
	if len(s.dockerHosts) == 0 {
		return nil
	}
	s.stopAgent()
	var err error
	for _, h := range s.dockerHosts {
		err = errors.Join(err, h.agent.Close())
	}
	if s.endpoint != nil {
		err = errors.Join(err, s.endpoint.Close())
	}
	return err
}

// loopbackInterfaces hands out ENIs with loopback addresses from
// 127.100.0.0/16 when no EC2 is there to allocate them: enough for a task
// to have an address of its own that the host reaches.
type loopbackInterfaces struct {
	db  store.Store
	ids interface{ Hex(int) string }
}

const interfaceSeqTable = "ecs.eniseq"

func (l loopbackInterfaces) AttachTaskInterface(ctx context.Context, account, region, subnetID string, _ []string, _ string) (NetworkInterfaceInfo, error) {
	var n int
	err := store.UpdateRetry(ctx, l.db, updateAttempts, func(tx store.Tx) error {
		v, err := store.GetJSON(tx, interfaceSeqTable, "seq", &n)
		if err != nil && !isNotFound(err) {
			return err
		}
		n++
		_, err = store.PutJSON(tx, interfaceSeqTable, "seq", n, v)
		return err
	})
	if err != nil {
		return NetworkInterfaceInfo{}, err
	}
	n %= 254 * 256
	ip := fmt.Sprintf("127.100.%d.%d", n/254, n%254+1)
	return NetworkInterfaceInfo{ID: "eni-" + l.ids.Hex(17), SubnetID: subnetID, AvailabilityZone: region + "a",
		PrivateIP: ip, PrivateDNSName: "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ec2.internal",
		MAC: fmt.Sprintf("02:00:7f:64:%02x:%02x", n/254, n%254+1)}, nil
}

func (loopbackInterfaces) ReleaseInterface(context.Context, string, string, string) error { return nil }
