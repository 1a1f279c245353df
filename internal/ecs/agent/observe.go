package agent

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"overcast/internal/api/ecs"
	"overcast/internal/docker"
	"overcast/internal/service"
)

// labelAgent holds, as JSON, what the agent must know of a container's
// definition to supervise it after a restart (containerMeta).
const labelAgent = docker.LabelECSAgent

// pauseName is the overcast.ecs.container of an awsvpc task's pause
// container, the ECS agent's own name for it.
const pauseName = "~internal~ecs~pause"

// containerMeta is a container's definition as far as supervision needs.
type containerMeta struct {
	Order       int          `json:"o"`
	Image       string       `json:"i"`
	Essential   bool         `json:"e,omitempty"`
	DependsOn   []dependency `json:"d,omitempty"`
	StopTimeout int          `json:"t,omitempty"` // seconds
	// StartTimeout bounds, in seconds, the wait for dependencies.
	StartTimeout int             `json:"w,omitempty"`
	Log          *LogDestination `json:"l,omitempty"`
	// Ports are the container's port mappings; in awsvpc mode the pause
	// container publishes them.
	Ports  []portMapping `json:"p,omitempty"`
	AWSVPC bool          `json:"v,omitempty"`
	// OwnsNetwork marks the one container of an awsvpc task, which holds
	// the task's network namespace itself and publishes its own ports.
	OwnsNetwork bool   `json:"on,omitempty"`
	HostIP      string `json:"h,omitempty"`
	HostNet     bool   `json:"n,omitempty"`
}

type dependency struct {
	Container string `json:"c"`
	Condition string `json:"k"`
}

type portMapping struct {
	ContainerPort uint16 `json:"c"`
	HostPort      uint16 `json:"h,omitempty"`
	Protocol      string `json:"p,omitempty"`
}

func (m containerMeta) label() string {
	b, _ := json.Marshal(m) // plain data cannot fail
	return string(b)
}

func metaOf(c docker.Container) containerMeta {
	var m containerMeta
	json.Unmarshal([]byte(c.Labels[labelAgent]), &m) // a damaged label leaves the zero meta
	return m
}

func isPause(c docker.Container) bool { return c.Labels[docker.LabelContainer] == pauseName }

func stopTimeoutOf(c docker.Container) time.Duration {
	if s := metaOf(c).StopTimeout; s > 0 {
		return time.Duration(s) * time.Second
	}
	return defaultStopTimeout
}

// defaultStopTimeout is ECS_CONTAINER_STOP_TIMEOUT's default.
const defaultStopTimeout = 30 * time.Second

// phase is where a container is in the task's life.
type phase int

const (
	phasePending phase = iota // created, waiting for its dependencies
	phaseRunning
	phaseExited      // ran and stopped
	phaseFailed      // could not start
	phaseUnreachable // its dependencies can never be met
)

// member is one of a task's containers with what the agent knows of it.
type member struct {
	c     docker.Container
	meta  containerMeta
	phase phase
	// why says why a container failed or will never start.
	why string
}

// members sorts a task's containers (the pause container apart) in
// definition order and decides each one's phase.
func members(cs []docker.Container) (ms []*member, pause *docker.Container) {
	for i := range cs {
		if isPause(cs[i]) {
			pause = &cs[i]
			continue
		}
		m := &member{c: cs[i], meta: metaOf(cs[i])}
		s := m.c.State
		switch {
		case s.Running:
			m.phase = phaseRunning
		case !s.StartedAt.IsZero():
			m.phase = phaseExited
		case s.Error != "":
			m.phase, m.why = phaseFailed, "CannotStartContainerError: "+s.Error
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return a.meta.Order - b.meta.Order })
	// A pending container whose dependency can never be met will never
	// start; that can make its own dependants unreachable in turn.
	for changed := true; changed; {
		changed = false
		for _, m := range ms {
			if m.phase != phasePending {
				continue
			}
			if why := unreachable(m, ms); why != "" {
				m.phase, m.why, changed = phaseUnreachable, why, true
			}
		}
	}
	return ms, pause
}

// mustMembers is members without the pause container.
func mustMembers(cs []docker.Container) []*member {
	ms, _ := members(cs)
	return ms
}

func byName(ms []*member, name string) *member {
	i := slices.IndexFunc(ms, func(m *member) bool { return m.c.Labels[docker.LabelContainer] == name })
	if i < 0 {
		return nil
	}
	return ms[i]
}

// met reports whether every dependency of m is met.
func met(m *member, ms []*member) bool {
	for _, d := range m.meta.DependsOn {
		dep := byName(ms, d.Container)
		if dep == nil {
			return false
		}
		s := dep.c.State
		ok := false
		switch d.Condition {
		case "START":
			ok = dep.phase == phaseRunning || dep.phase == phaseExited
		case "COMPLETE":
			ok = dep.phase == phaseExited
		case "SUCCESS":
			ok = dep.phase == phaseExited && s.ExitCode == 0
		case "HEALTHY":
			ok = dep.phase == phaseRunning && s.Health == "healthy"
		}
		if !ok {
			return false
		}
	}
	return true
}

// unreachable says why a dependency of m can never be met, or "".
func unreachable(m *member, ms []*member) string {
	if t := m.meta.StartTimeout; t > 0 && !m.c.Created.IsZero() && time.Since(m.c.Created) > time.Duration(t)*time.Second && !met(m, ms) {
		return fmt.Sprintf("DependencyConditionError: the dependencies of container %s were not met within its startTimeout of %ds", name(m), t)
	}
	for _, d := range m.meta.DependsOn {
		dep := byName(ms, d.Container)
		if dep == nil {
			return fmt.Sprintf("DependencyConditionError: container %s depends on %s, which the task does not have", name(m), d.Container)
		}
		never := dep.phase == phaseFailed || dep.phase == phaseUnreachable
		switch d.Condition {
		case "SUCCESS":
			never = never || dep.phase == phaseExited && dep.c.State.ExitCode != 0
		case "HEALTHY":
			never = never || dep.phase == phaseExited
		}
		if never {
			return fmt.Sprintf("DependencyConditionError: the %s condition of container %s on %s can never be met", d.Condition, name(m), d.Container)
		}
	}
	return ""
}

func name(m *member) string { return m.c.Labels[docker.LabelContainer] }

// failure is why a task stops (or never started).
type failure struct {
	code, reason string
	// container, when set, is the container the reason is about.
	container string
}

// taskFailure is the first essential container that stopped, if any: an
// essential container that exited stops the task; one that never started
// makes it a task that failed to start.
func taskFailure(ms []*member) *failure {
	for _, m := range ms {
		if !m.meta.Essential {
			continue
		}
		switch m.phase {
		case phaseExited:
			return &failure{code: StopCodeEssentialContainerExited, reason: ReasonEssentialContainerExited}
		case phaseFailed, phaseUnreachable:
			return &failure{code: StopCodeTaskFailedToStart, reason: m.why, container: name(m)}
		}
	}
	for _, m := range ms {
		if m.phase == phaseFailed {
			return &failure{code: StopCodeTaskFailedToStart, reason: m.why, container: name(m)}
		}
	}
	return nil
}

// stopRequest is a Stop the agent was asked for.
type stopRequest struct{ code, reason string }

// observe is what cs, the engine's containers of one task, say of it.
func observe(arn string, cs []docker.Container, stop *stopRequest) Observed {
	ms, pause := members(cs)
	o := Observed{TaskARN: arn, HealthStatus: HealthUnknown}
	var pending, running bool
	checked, healthy, unhealthy := 0, 0, 0
	for _, m := range ms {
		s := m.c.State
		st := ContainerState{
			Name:         name(m),
			Image:        m.meta.Image,
			Essential:    m.meta.Essential,
			RuntimeID:    m.c.ID,
			Reason:       m.why,
			HealthStatus: healthOf(s.Health),
			StartedAt:    s.StartedAt,
		}
		switch m.phase {
		case phasePending:
			st.LastStatus, pending = StatusPending, true
		case phaseRunning:
			st.LastStatus, running = StatusRunning, true
			st.NetworkBindings = bindings(m, pause)
		default:
			st.LastStatus, st.StoppedAt = StatusStopped, s.FinishedAt
			if m.phase == phaseExited {
				st.ExitCode = new(int32(s.ExitCode))
				if s.OOMKilled {
					st.Reason = "OutOfMemoryError: Container killed due to memory usage"
				}
			}
		}
		if m.meta.Essential && s.Health != "" {
			checked++
			switch st.HealthStatus {
			case HealthHealthy:
				healthy++
			case HealthUnhealthy:
				unhealthy++
			}
		}
		if !s.StartedAt.IsZero() && (o.StartedAt.IsZero() || s.StartedAt.Before(o.StartedAt)) {
			o.StartedAt = s.StartedAt
		}
		if s.FinishedAt.After(o.StoppedAt) {
			o.StoppedAt = s.FinishedAt
		}
		o.Containers = append(o.Containers, st)
	}
	switch {
	case unhealthy > 0:
		o.HealthStatus = HealthUnhealthy
	case checked > 0 && healthy == checked:
		o.HealthStatus = HealthHealthy
	}
	if pause != nil {
		o.IPv4Address = metaOf(*pause).HostIP
	}

	f := taskFailure(ms)
	if stop != nil {
		f = &failure{code: stop.code, reason: stop.reason}
	}
	switch {
	case f != nil:
		o.StopCode, o.StoppedReason = f.code, f.reason
		o.LastStatus = StatusStopped
		if running {
			o.LastStatus = StatusRunning
			break
		}
		// What never started never will.
		for i := range o.Containers {
			if o.Containers[i].LastStatus == StatusPending {
				o.Containers[i].LastStatus = StatusStopped
			}
		}
	case pending:
		o.LastStatus = StatusPending
	case running:
		o.LastStatus = StatusRunning
	default:
		o.LastStatus = StatusStopped
	}
	if o.LastStatus != StatusStopped {
		o.StoppedAt = time.Time{}
	}
	if o.LastStatus == StatusPending {
		o.StartedAt = time.Time{}
	}
	return o
}

func healthOf(docker string) string {
	switch docker {
	case "healthy":
		return HealthHealthy
	case "unhealthy":
		return HealthUnhealthy
	}
	return HealthUnknown
}

// bindings are the ports a running container publishes: its own, or in
// awsvpc mode those the pause container publishes for it.
func bindings(m *member, pause *docker.Container) []ecs.NetworkBinding {
	var out []ecs.NetworkBinding
	switch {
	case m.meta.HostNet:
		for _, p := range m.meta.Ports {
			out = append(out, binding("0.0.0.0", p.ContainerPort, p.ContainerPort, p.Protocol))
		}
	case m.meta.AWSVPC && !m.meta.OwnsNetwork:
		if pause == nil {
			return nil
		}
		for _, p := range m.meta.Ports {
			for _, pp := range pause.Ports {
				if pp.ContainerPort == p.ContainerPort && pp.Protocol == protocolOf(p.Protocol) {
					out = append(out, binding(pp.HostIP, pp.ContainerPort, pp.HostPort, pp.Protocol))
				}
			}
		}
	default:
		for _, pp := range m.c.Ports {
			out = append(out, binding(pp.HostIP, pp.ContainerPort, pp.HostPort, pp.Protocol))
		}
	}
	return out
}

func binding(ip string, containerPort, hostPort uint16, proto string) ecs.NetworkBinding {
	if ip == "" {
		ip = "0.0.0.0"
	}
	return ecs.NetworkBinding{
		BindIP:        new(ip),
		ContainerPort: new(int32(containerPort)),
		HostPort:      new(int32(hostPort)),
		Protocol:      new(protocolOf(proto)),
	}
}

func protocolOf(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

// observed is what a failure before any container was created says of a
// task: every container STOPPED, the failing one with the reason.
func (f *failure) observed(spec Spec) Observed {
	o := Observed{TaskARN: spec.TaskARN, LastStatus: StatusStopped, HealthStatus: HealthUnknown,
		StopCode: f.code, StoppedReason: f.reason, StoppedAt: time.Now().UTC()}
	for _, d := range spec.Definition.ContainerDefinitions {
		c := ContainerState{Name: deref(d.Name), Image: deref(d.Image), Essential: essential(d),
			LastStatus: StatusStopped, HealthStatus: HealthUnknown}
		if c.Name == f.container {
			c.Reason = f.reason
		}
		o.Containers = append(o.Containers, c)
	}
	return o
}

// deref is service.Deref under the short name the package's many optional
// request members read best with.
func deref[T any](p *T) T { return service.Deref(p) }

func essential(d ecs.ContainerDefinition) bool { return d.Essential == nil || *d.Essential }
