package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"overcast"
	ecsapi "overcast/internal/api/ecs"
	"overcast/internal/ecs"
	"overcast/internal/ecs/taskendpoint"
	"overcast/internal/service"
	"overcast/internal/sts"
)

// taskEndpointKeyFile holds the key the ECS task endpoint derives its IDs
// from: running containers keep their URIs across restarts.
const taskEndpointKeyFile = "ecs-task-endpoint.key"

// taskEndpoint is the ECS task endpoint over the engine, issuing task role
// credentials through STS and forwarding API calls to the gateway.
func taskEndpoint(env *service.Env, stsSvc *sts.Service, gateway http.Handler, protection taskendpoint.TaskProtection) (*taskendpoint.Server, error) {
	key, err := endpointKey(filepath.Join(env.DataDir, taskEndpointKeyFile))
	if err != nil {
		return nil, err
	}
	var others []taskendpoint.BridgeEngine
	for _, e := range env.Engines[min(1, len(env.Engines)):] {
		others = append(others, e)
	}
	// ECS names a task's engine by its host when there are several.
	stats := map[string]taskendpoint.StatsReader{}
	for _, e := range env.Engines {
		stats[e.Host()] = e
	}
	return taskendpoint.New(taskendpoint.Config{Key: key, Credentials: taskRoles{stsSvc}, API: gateway,
		Engine: env.Docker, BridgeEngines: others, EngineStats: stats, Protection: protection, Clock: env.Clock, Logger: env.Logger.With("service", "ecs-task-endpoint")}), nil
}

// endpointKey reads the key at path, making it on first use.
func endpointKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("app: task endpoint key: %w", err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("app: task endpoint key: %w", err)
	}
	return key, nil
}

// taskRoles issues task role credentials as ECS does: STS, with the
// tasks service as the principal assuming the role.
type taskRoles struct{ sts *sts.Service }

var _ taskendpoint.RoleCredentials = taskRoles{}

func (r taskRoles) TaskRoleCredentials(ctx context.Context, account, principal, roleARN, session string) (overcast.Credentials, error) {
	ctx = overcast.WithCaller(ctx, overcast.Caller{AccountID: account})
	return r.sts.AssumeRoleAsService(ctx, principal, roleARN, session, time.Hour)
}

var _ ecs.ExecutionRoles = taskRoles{}

// AssumeExecutionRole is the session the agent pulls images and reads
// secrets in: the same service principal assumes the execution role.
func (r taskRoles) AssumeExecutionRole(ctx context.Context, roleARN, session string) (overcast.Caller, error) {
	a, _ := overcast.ParseARN(roleARN)
	creds, err := r.TaskRoleCredentials(ctx, a.AccountID, taskendpoint.ServicePrincipal, roleARN, session)
	return creds.Caller, err
}

// lateHandler is a handler set after those who forward to it are built:
// the gateway, which is made of the services.
type lateHandler struct{ h atomic.Pointer[http.Handler] }

func (l *lateHandler) set(h http.Handler) http.Handler {
	l.h.Store(&h)
	return h
}

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := l.h.Load()
	if h == nil {
		http.Error(w, "overcast is starting", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}

// taskProtection serves the task scale-in protection endpoint with ECS's
// UpdateTaskProtection and GetTaskProtection, called as the task's
// account. ECS is built after the endpoint: ecs is set once it is.
type taskProtection struct{ ecs *ecs.Service }

var _ taskendpoint.TaskProtection = (*taskProtection)(nil)

func (p *taskProtection) SetTaskProtection(ctx context.Context, account, region, cluster, taskARN string, enabled bool, minutes *int32) (taskendpoint.Protection, error) {
	out, err := p.ecs.UpdateTaskProtection(asCaller(ctx, account, region), &ecsapi.UpdateTaskProtectionRequest{Cluster: &cluster,
		Tasks: []string{taskARN}, ProtectionEnabled: &enabled, ExpiresInMinutes: minutes})
	if err != nil {
		return taskendpoint.Protection{}, err
	}
	return protectionOf(out.ProtectedTasks, out.Failures)
}

func (p *taskProtection) TaskProtection(ctx context.Context, account, region, cluster, taskARN string) (taskendpoint.Protection, error) {
	out, err := p.ecs.GetTaskProtection(asCaller(ctx, account, region), &ecsapi.GetTaskProtectionRequest{Cluster: &cluster, Tasks: []string{taskARN}})
	if err != nil {
		return taskendpoint.Protection{}, err
	}
	return protectionOf(out.ProtectedTasks, out.Failures)
}

func protectionOf(tasks ecsapi.ProtectedTasks, failures ecsapi.Failures) (taskendpoint.Protection, error) {
	if len(failures) > 0 {
		f := failures[0]
		return taskendpoint.Protection{}, &taskendpoint.ProtectionFailure{Arn: deref(f.Arn), Reason: deref(f.Reason), Detail: deref(f.Detail)}
	}
	t := tasks[0]
	return taskendpoint.Protection{ExpirationDate: t.ExpirationDate, ProtectionEnabled: deref(t.ProtectionEnabled), TaskArn: deref(t.TaskArn)}, nil
}
