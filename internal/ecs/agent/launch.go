package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"overcast"
	"overcast/internal/docker"
)

// launch makes everything the task needs on the engine and starts the
// containers that depend on nothing; the supervisor starts the rest. A
// task-level failure comes back as a failure, an engine that cannot be
// reached as an error.
func (a *Agent) launch(ctx context.Context, t *task, spec Spec) (*failure, error) {
	if spec.Caller != nil {
		ctx = overcast.WithCaller(ctx, *spec.Caller)
	}
	p, err := a.plan(spec)
	if err != nil {
		return &failure{code: StopCodeTaskFailedToStart, reason: "CannotCreateContainerError: " + err.Error()}, nil
	}
	if f, err := a.mountEFS(ctx, p, spec.TaskARN); f != nil || err != nil {
		return f, err
	}
	for _, c := range p.containers {
		if err := a.resolveEnv(ctx, c); err != nil {
			return &failure{code: StopCodeTaskFailedToStart, container: c.name,
				reason: "ResourceInitializationError: unable to pull secrets or registry auth: " + err.Error()}, nil
		}
	}

	t.mu.Lock()
	t.pullStarted = time.Now().UTC()
	t.mu.Unlock()
	for _, c := range p.containers {
		ref, err := a.engine.EnsureImageWith(ctx, c.image, spec.PullAuth)
		if err != nil {
			if errors.Is(err, docker.ErrUnavailable) || ctx.Err() != nil {
				return nil, err
			}
			return &failure{code: StopCodeTaskFailedToStart, container: c.name,
				reason: "CannotPullContainerError: " + pullMessage(c.image, engineMessage(err))}, nil
		}
		c.spec.Image = ref
	}
	t.mu.Lock()
	t.pullStopped = time.Now().UTC()
	t.mu.Unlock()

	labels := func() map[string]string {
		l := maps.Clone(a.cfg.Labels)
		if l == nil {
			l = map[string]string{}
		}
		maps.Copy(l, spec.Labels)
		l[docker.LabelTask] = spec.TaskARN
		l[docker.LabelCluster] = spec.Cluster
		return l
	}
	if f, err := a.makeVolumes(ctx, p, labels); f != nil || err != nil {
		return f, err
	}
	if p.mode == ModeBridge || p.mode == ModeAWSVPC {
		if err := a.ensureNetwork(ctx); err != nil {
			return createFailure("", err)
		}
	}
	var pauseStarted <-chan error
	if p.mode == ModeAWSVPC {
		if len(p.containers) == 1 {
			// The network namespace of a task of one container has no one
			// else to outlive: the container holds it, as a pause container
			// would, and the task starts as fast as a plain docker run.
			c := p.containers[0]
			c.meta.OwnsNetwork = true
			c.spec.NetworkMode, c.spec.Hostname = a.cfg.Network, taskHostname(spec)
			c.spec.Ports = publish(c.meta.Ports, spec.HostIP)
		} else {
			pauseID, err := a.createPause(ctx, spec, p, labels())
			if err != nil {
				return createFailure(pauseName, err)
			}
			for _, c := range p.containers {
				c.spec.NetworkMode = "container:" + pauseID
			}
			// The pause container starts while the others are created:
			// joining a namespace needs it only when they start.
			started := make(chan error, 1)
			go func() { started <- a.engine.StartContainer(ctx, pauseID) }()
			pauseStarted = started
		}
	}
	if p.mode == ModeBridge {
		if err := choosePorts(p.containers, spec.HostIP); err != nil {
			return createFailure("", err)
		}
	}

	// Containers named by volumesFrom and links must exist first.
	created := map[string]bool{}
	for len(created) < len(p.containers) {
		progress := false
		for _, c := range p.containers {
			if created[c.name] || slices.ContainsFunc(c.after, func(n string) bool { return !created[n] }) {
				continue
			}
			c.spec.Labels[labelAgent] = c.meta.label()
			if _, err := a.engine.CreateContainer(ctx, c.spec); err != nil {
				if errors.Is(err, docker.ErrUnavailable) || ctx.Err() != nil {
					return nil, err
				}
				return createFailure(c.name, err)
			}
			created[c.name], progress = true, true
		}
		if !progress {
			return &failure{code: StopCodeTaskFailedToStart, reason: "CannotCreateContainerError: links and volumesFrom form a cycle"}, nil
		}
	}
	if pauseStarted != nil {
		if err := <-pauseStarted; err != nil {
			if errors.Is(err, docker.ErrUnavailable) || ctx.Err() != nil {
				return nil, err
			}
			return createFailure(pauseName, err)
		}
	}
	return nil, nil
}

func createFailure(container string, err error) (*failure, error) {
	return &failure{code: StopCodeTaskFailedToStart, container: container,
		reason: "CannotCreateContainerError: " + engineMessage(err)}, nil
}

// engineMessage is the engine's own words, without this side's operation.
// pullMessage is why the image could not be pulled as the ECS agent puts
// it: a registry's refusal (an execution role without ecr:BatchGetImage)
// as the agent's failed manifest resolution of the image the task
// definition names, with the registry's reason; other failures as the
// engine reported them.
func pullMessage(image, engine string) string {
	_, denial, ok := strings.Cut(engine, "denied: ")
	if !ok {
		return engine
	}
	host, tag := image, "latest"
	if i := strings.IndexByte(image, '/'); i >= 0 {
		host = image[:i]
	}
	if i := strings.LastIndexAny(image, ":@"); i > len(host) {
		tag = image[i+1:]
	}
	return fmt.Sprintf("pull image manifest has been retried 1 time(s): failed to resolve ref %s: pulling from host %s failed with status code [manifests %s]: 403 Forbidden: %s",
		image, host, tag, denial)
}

func engineMessage(err error) string {
	var de *docker.Error
	if errors.As(err, &de) {
		return de.Err.Error()
	}
	return err.Error()
}

// mountEFS binds each EFS volume's host directory where the plan holds its
// placeholder; the path comes from EFS, so no allowed root applies.
func (a *Agent) mountEFS(ctx context.Context, p *plan, taskARN string) (*failure, error) {
	account, region := arnAccountRegion(taskARN)
	for _, fs := range p.efs {
		path, err := a.cfg.FileSystems.MountSource(ctx, account, region, fs.fileSystemID, fs.accessPointID, fs.rootDirectory)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return &failure{code: StopCodeTaskFailedToStart,
				reason: "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: " + err.Error()}, nil
		}
		for _, c := range p.containers {
			for i, m := range c.spec.Mounts {
				if m.Type == docker.MountBind && m.Source == fs.source {
					c.spec.Mounts[i].Source = path
				}
			}
		}
	}
	return nil, nil
}

// resolveEnv merges the container's environment: the agent's own first,
// environment files, the environment (overrides win), then secrets.
func (a *Agent) resolveEnv(ctx context.Context, c *planned) error {
	env := maps.Clone(c.base)
	if env == nil {
		env = map[string]string{}
	}
	for _, f := range c.envFiles {
		if a.cfg.EnvironmentFiles == nil {
			return fmt.Errorf("environment file %s: no environment file reader is configured", f)
		}
		vars, err := a.cfg.EnvironmentFiles.Read(ctx, f)
		if err != nil {
			return fmt.Errorf("environment file %s: %w", f, err)
		}
		maps.Copy(env, vars)
	}
	maps.Copy(env, c.env)
	for _, s := range c.secrets {
		if a.cfg.Secrets == nil {
			return fmt.Errorf("secret %s: no secret resolver is configured", deref(s.Name))
		}
		v, err := a.cfg.Secrets.Resolve(ctx, deref(s.ValueFrom))
		if err != nil {
			return fmt.Errorf("secret %s: %w", deref(s.ValueFrom), err)
		}
		env[deref(s.Name)] = v
	}
	c.spec.Env = env
	return nil
}

// makeVolumes creates the task's volumes, and the shared ones that are
// missing and may be provisioned.
func (a *Agent) makeVolumes(ctx context.Context, p *plan, labels func() map[string]string) (*failure, error) {
	for _, v := range p.volumes {
		if v.shared {
			_, err := a.engine.InspectVolume(ctx, v.docker)
			if err == nil {
				continue
			}
			if !errors.Is(err, docker.ErrNotFound) {
				return nil, err
			}
			if !v.autoprovision {
				return &failure{code: StopCodeTaskFailedToStart,
					reason: fmt.Sprintf("CannotCreateContainerError: shared volume %s does not exist and autoprovision is off", v.docker)}, nil
			}
		}
		l := labels()
		if v.shared {
			// A shared volume belongs to no task: Stop keeps it.
			delete(l, docker.LabelTask)
		}
		maps.Copy(l, v.labels)
		_, err := a.engine.CreateVolume(ctx, docker.VolumeSpec{Name: v.docker, Owner: Owner, Labels: l, Driver: v.driver, DriverOpts: v.driverOpts})
		if err != nil {
			if errors.Is(err, docker.ErrUnavailable) || ctx.Err() != nil {
				return nil, err
			}
			return createFailure("", err)
		}
	}
	return nil, nil
}

// createPause creates the container owning an awsvpc task's network
// namespace; it publishes every port of the task on the task's own address.
func (a *Agent) createPause(ctx context.Context, spec Spec, p *plan, labels map[string]string) (string, error) {
	ref, err := a.pauseImage(ctx)
	if err != nil {
		return "", err
	}
	labels[docker.LabelContainer] = pauseName
	labels[labelAgent] = containerMeta{Order: -1, AWSVPC: true, HostIP: spec.HostIP}.label()
	s := docker.ContainerSpec{
		Name:        unsafeName.ReplaceAllString("ecs-"+spec.TaskID()+"-pause", "-"),
		Owner:       Owner,
		Labels:      labels,
		Image:       ref,
		NetworkMode: a.cfg.Network,
		Hostname:    taskHostname(spec),
	}
	for _, c := range p.containers {
		s.Ports = append(s.Ports, publish(c.meta.Ports, spec.HostIP)...)
	}
	return a.engine.CreateContainer(ctx, s)
}

// taskHostname is an awsvpc task's host name, from its address as on EC2.
func taskHostname(spec Spec) string {
	return "ip-" + unsafeName.ReplaceAllString(spec.HostIP, "-")
}

// publish binds ports on the task's own address.
func publish(ports []portMapping, hostIP string) []docker.PortBinding {
	var out []docker.PortBinding
	for _, pm := range ports {
		out = append(out, docker.PortBinding{ContainerPort: pm.ContainerPort, Protocol: pm.Protocol, HostIP: hostIP, HostPort: pm.HostPort})
	}
	return out
}

// ensureNetwork creates Config.Network when the engine lacks it.
func (a *Agent) ensureNetwork(ctx context.Context) error {
	if a.cfg.Network == "" {
		return nil
	}
	a.netMu.Lock()
	defer a.netMu.Unlock()
	_, err := a.engine.InspectNetwork(ctx, a.cfg.Network)
	if !errors.Is(err, docker.ErrNotFound) {
		return err
	}
	_, err = a.engine.CreateNetwork(ctx, docker.NetworkSpec{Name: a.cfg.Network, Owner: Owner, Labels: a.cfg.Labels})
	if errors.Is(err, docker.ErrConflict) {
		return nil // made meanwhile by another Agent
	}
	return err
}
