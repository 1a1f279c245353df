package ecs

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"overcast/internal/docker"
	"overcast/internal/ecs/agent"
	"overcast/internal/store"
)

// dockerHost is one Docker engine tasks run on (--docker-host), standing
// for a host of its own: Fargate tasks spread over the engines, and an EC2
// instance's tasks run on the engine of its Availability Zone. The first
// engine is overcast's default one.
type dockerHost struct {
	// name is the engine's address, what task and container instance
	// records name it by: the same flags find it again after a restart.
	name   string
	engine *docker.Engine
	agent  *agent.Agent

	mu        sync.Mutex
	downSince time.Time // zero while it answers
	lost      bool
	// gone is closed when the host is found lost, ending the calls to it
	// in flight (bind): an engine that hangs rather than refuses would
	// hold them, and the task controller's workers with them.
	gone chan struct{}
}

func newDockerHost(e *docker.Engine, a *agent.Agent) *dockerHost {
	return &dockerHost{name: e.Host(), engine: e, agent: a, gone: make(chan struct{})}
}

// bind returns ctx ended also when the host is found lost.
func (h *dockerHost) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	h.mu.Lock()
	gone := h.gone
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-gone:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// ContainerStats reads a container's usage on the host's engine; a lost
// host's engine is not asked.
func (h *dockerHost) ContainerStats(ctx context.Context, id string) (docker.Stats, error) {
	if h.isLost() {
		return docker.Stats{}, &docker.Error{Op: "stats " + id, Kind: docker.ErrUnavailable, Err: errHostLost}
	}
	ctx, cancel := h.bind(ctx)
	defer cancel()
	return h.engine.ContainerStats(ctx, id)
}

// errHostLost is why a lost host's engine is not asked.
var errHostLost = errors.New("the Docker host is lost")

func (h *dockerHost) isLost() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lost
}

const (
	// defaultHostLostAfter is how long an engine may not answer before
	// its host counts as lost: about as long as ECS waits on an agent that
	// stopped answering before it acts on the instance.
	defaultHostLostAfter = time.Minute
	// taskHostLost is the stop code of a task whose host was lost; the
	// reason is hostLostReason's.
	stopCodeHostLost = "TerminationNotice"
	// hostAttribute names, on a container instance, the engine its tasks
	// run on, when there are several.
	hostAttribute = "overcast.docker-host"
)

// hostLostReason is ECS's stopped reason for the tasks of a container
// instance that stopped or was terminated; a Fargate task names its
// engine where an EC2 task names its instance.
func hostLostReason(t task) string {
	id := t.EC2InstanceID
	if id == "" {
		id = t.Engine
	}
	return "Host EC2 (instance " + id + ") stopped/terminated."
}

// host is the engine a task or container instance record names; nil
// when it names one overcast no longer runs with (its flags changed).
func (s *Service) host(name string) *dockerHost {
	if len(s.dockerHosts) == 0 {
		return nil
	}
	if name == "" {
		return s.dockerHosts[0]
	}
	for _, h := range s.dockerHosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// several reports whether tasks have engines to choose from; records
// name their engine only then, so that one engine's records are as
// they always were.
func (s *Service) several() bool { return len(s.dockerHosts) > 1 }

// engineForZone is the engine whose hosts are in the Availability Zone
// az: engines take the zones' letters in turn (a, b, c ... modulo their
// number), so that spreading instances by zone spreads them by engine.
func (s *Service) engineForZone(az string) string {
	if !s.several() || az == "" {
		return ""
	}
	letter := int(az[len(az)-1]) - 'a'
	if letter < 0 || letter > 25 {
		return ""
	}
	return s.dockerHosts[letter%len(s.dockerHosts)].name
}

// spreadFargate gives each Fargate host of a launch the engine with the
// fewest active tasks of the cluster, among those not lost: AWS spreads
// Fargate tasks over its capacity, which overcast's engines are.
func (s *Service) spreadFargate(tx store.Tx, sc scope, cluster string, hosts []host) error {
	if !s.several() {
		return nil
	}
	load := map[string]int{}
	err := store.ScanJSON(tx, tasksTable, store.ScanOptions{Prefix: sc.Key(cluster + "/")}, func(_ string, t taskStatus, _ int64) error {
		if t.Engine != "" && t.LastStatus != taskStopped {
			load[t.Engine]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	live := slices.DeleteFunc(slices.Clone(s.dockerHosts), (*dockerHost).isLost)
	if len(live) == 0 {
		live = s.dockerHosts[:1]
	}
	for i := range hosts {
		if hosts[i].key != "" {
			continue
		}
		best := live[0]
		for _, h := range live[1:] {
			if load[h.name] < load[best.name] {
				best = h
			}
		}
		load[best.name]++
		hosts[i].engine = best.name
	}
	return nil
}

// hostCheckEvery is how often the engines are pinged: a few times within
// the time one may be silent before its host counts as lost.
func hostCheckEvery(lostAfter time.Duration) time.Duration {
	return min(max(lostAfter/4, 500*time.Millisecond), 5*time.Second)
}

// checkHosts pings every engine. One that has not answered for
// hostLostAfter is a lost host: its container instances' agents
// disconnect and its tasks stop (and services replace them on the other
// engines). One that answers again reconnects its container instances
// and removes the containers of the tasks that stopped while it was
// gone.
func (s *Service) checkHosts(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, h := range s.dockerHosts {
		wg.Go(func() {
			pingCtx, cancel := context.WithTimeout(ctx, min(5*time.Second, s.hostLostAfter))
			err := h.engine.Ping(pingCtx)
			cancel()
			now := s.Now()
			h.mu.Lock()
			var lostNow, back bool
			switch {
			case err == nil:
				back = h.lost
				h.downSince, h.lost = time.Time{}, false
				if back {
					h.gone = make(chan struct{})
				}
			case h.downSince.IsZero():
				h.downSince = now
			case !h.lost && now.Sub(h.downSince) >= s.hostLostAfter:
				h.lost, lostNow = true, true
				close(h.gone)
			}
			h.mu.Unlock()
			switch {
			case lostNow:
				s.Logger.Warn("ecs: Docker host lost: its tasks stop and services replace them elsewhere", "host", h.name, "err", err)
				if err := s.hostChanged(ctx, h, false); err != nil {
					s.Logger.Warn("ecs: stopping the tasks of a lost Docker host", "host", h.name, "err", err)
				}
			case back:
				s.Logger.Info("ecs: Docker host answers again", "host", h.name)
				if err := s.hostChanged(ctx, h, true); err != nil {
					s.Logger.Warn("ecs: reconnecting a Docker host", "host", h.name, "err", err)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// hostChanged acts on a host lost or back: it wakes the tasks on it
// (the task controller stops those of a lost host) and sets its
// container instances' agentConnected.
func (s *Service) hostChanged(ctx context.Context, h *dockerHost, connected bool) error {
	var tasks, instances []string
	live := map[string]bool{} // tasks not stopped, by key
	err := s.Store.View(ctx, func(tx store.Tx) error {
		err := store.ScanJSON(tx, tasksTable, store.ScanOptions{}, func(key string, t taskStatus, _ int64) error {
			if s.host(t.Engine) == h {
				tasks = append(tasks, key)
				live[key] = t.LastStatus != taskStopped
			}
			return nil
		})
		if err != nil {
			return err
		}
		return store.ScanJSON(tx, instancesTable, store.ScanOptions{}, func(key string, ci containerInstance, _ int64) error {
			// Back, only the instances the loss disconnected reconnect:
			// an EC2 instance stopped meanwhile stays disconnected.
			if ci.Status != statusInactive && s.host(ci.Engine) == h && ci.AgentConnected != connected && (!connected || ci.HostLost) {
				instances = append(instances, key)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	enqueue(s.tasks, tasks...)
	var errs []error
	if connected {
		// Containers of tasks stopped while the host was gone still run
		// there if only the way to it was lost: the task controller
		// removes them once the agent knows them again.
		found, err := h.agent.Adopt(ctx)
		errs = append(errs, err)
		for _, o := range found {
			if !live[taskKeyOfARN(o.TaskARN)] {
				_, err := h.agent.Stop(ctx, o.TaskARN, "")
				errs = append(errs, err)
			}
		}
	}
	for _, key := range instances {
		sc := taskScope(key)
		err := s.update(ctx, func(tx store.Tx) error {
			var ci containerInstance
			v, err := store.GetJSON(tx, instancesTable, key, &ci)
			if isNotFound(err) || (err == nil && (ci.Status == statusInactive || ci.AgentConnected == connected)) {
				return nil
			}
			if err != nil {
				return err
			}
			ci.AgentConnected, ci.HostLost = connected, !connected
			return s.putInstance(tx, sc, &ci, v)
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
