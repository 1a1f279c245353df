package taskendpoint

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
)

// TaskInfo is what the endpoint knows of a task: the ECS service registers
// it before creating the containers and again whenever it changes.
type TaskInfo struct {
	ARN         string
	Cluster     string // the cluster's ARN, as the agent reports it
	Family      string
	Revision    string
	TaskRoleArn string // empty: the containers get no credentials
	// Principal is the service that assumes TaskRoleArn: ServicePrincipal
	// when empty; CodeBuild's builds register with its own, so a role
	// trusting only codebuild.amazonaws.com works for them and not for tasks.
	Principal        string
	Account          string
	Region           string
	AvailabilityZone string
	LaunchType       string // EC2 or FARGATE
	ServiceName      string
	DesiredStatus    string
	KnownStatus      string
	// CPU is in vCPUs, Memory in MiB (the task-level size), 0 when unset.
	CPU                float64
	Memory             int64
	PullStartedAt      *time.Time
	PullStoppedAt      *time.Time
	ExecutionStoppedAt *time.Time
	Containers         []ContainerInfo
	// Engine names the Docker engine (its --docker-host) the containers
	// run on, as Config.EngineStats does; "" is Config.Engine.
	Engine string
}

// ContainerInfo is one of a task's containers.
type ContainerInfo struct {
	Name          string
	ARN           string
	DockerID      string // empty until created
	DockerName    string
	Image         string
	ImageID       string
	DesiredStatus string
	KnownStatus   string
	ExitCode      *int
	// CPU is in CPU units, Memory in MiB.
	CPU        float64
	Memory     int64
	CreatedAt  *time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	Labels     map[string]string
	Ports      []Port
	Networks   []Network
	LogDriver  string
	LogOptions map[string]string
}

// Port is a published port, as task metadata shows it.
type Port struct {
	ContainerPort uint16 `json:"ContainerPort,omitempty"`
	Protocol      string `json:"Protocol,omitempty"`
	HostPort      uint16 `json:"HostPort,omitempty"`
	HostIP        string `json:"HostIp,omitempty"`
}

// Network is a container's network, as task metadata shows it.
type Network struct {
	NetworkMode              string   `json:"NetworkMode"`
	IPv4Addresses            []string `json:"IPv4Addresses,omitempty"`
	AttachmentIndex          *int     `json:"AttachmentIndex,omitempty"`
	MACAddress               string   `json:"MACAddress,omitempty"`
	IPv4SubnetCIDRBlock      string   `json:"IPv4SubnetCIDRBlock,omitempty"`
	PrivateDNSName           string   `json:"PrivateDNSName,omitempty"`
	SubnetGatewayIPv4Address string   `json:"SubnetGatewayIpv4Address,omitempty"`
}

// ID is the task's ID, the last part of its ARN.
func (t TaskInfo) ID() string { return t.ARN[strings.LastIndex(t.ARN, "/")+1:] }

// Register records a task (or its new state) and returns, by container
// name, the environment each container needs to find the endpoint. The
// same task always gets the same variables, across restarts too: after a
// restart the ECS service registers its running tasks again. The task's
// own environment, applied over these, wins (a task may set
// AWS_ENDPOINT_URL or AWS_REGION itself). Call it after Start, which
// decides between the relative and the full credentials URI.
func (s *Server) Register(ctx context.Context, info TaskInfo) (map[string]map[string]string, error) {
	if info.ARN == "" {
		return nil, fmt.Errorf("task endpoint: a task needs an ARN")
	}
	base := s.BaseURL()
	credsID := s.id("credentials", info.ARN)
	s.mu.Lock()
	t := s.tasks[info.ARN]
	if t == nil {
		t = &task{credsID: credsID}
		s.tasks[info.ARN] = t
	}
	t.info = info
	if info.TaskRoleArn != "" {
		s.byCreds[credsID] = t
	} else {
		delete(s.byCreds, credsID)
	}
	s.mu.Unlock()

	envs := make(map[string]map[string]string, len(info.Containers))
	for _, c := range info.Containers {
		endpoint := s.id("metadata", info.ARN, c.Name)
		s.mu.Lock()
		s.byEndpt[endpoint] = endpointRef{task: t, container: c.Name}
		s.mu.Unlock()
		env := map[string]string{
			"ECS_CONTAINER_METADATA_URI_V4": base + "/v4/" + endpoint,
			"ECS_CONTAINER_METADATA_URI":    base + "/v3/" + endpoint,
			"ECS_AGENT_URI":                 base + "/api/" + endpoint,
			"AWS_ENDPOINT_URL":              base,
		}
		if info.LaunchType != "" {
			env["AWS_EXECUTION_ENV"] = "AWS_ECS_" + info.LaunchType
		}
		if info.Region != "" {
			env["AWS_REGION"] = info.Region
			env["AWS_DEFAULT_REGION"] = info.Region
		}
		if info.TaskRoleArn != "" {
			path := "/v2/credentials/" + credsID
			if s.fullURI() {
				env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = base + path
				env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = s.token(credsID)
			} else {
				env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = path
			}
		}
		envs[c.Name] = env
	}
	return envs, nil
}

// token is the authorization token containers send with FULL_URI.
func (s *Server) token(credsID string) string { return s.id("token", credsID) }

// Deregister forgets a stopped task: its credentials and metadata are
// gone, as on ECS.
func (s *Server) Deregister(taskARN string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[taskARN]
	if t == nil {
		return
	}
	delete(s.tasks, taskARN)
	delete(s.byCreds, t.credsID)
	for id, ref := range s.byEndpt {
		if ref.task == t {
			delete(s.byEndpt, id)
		}
	}
}

// credentials returns the task's credentials, issuing new ones when none
// are left or they expire within refreshBefore.
func (s *Server) credentials(ctx context.Context, t *task) (TaskInfo, credentialsResponse, error) {
	s.mu.RLock()
	info := t.info
	s.mu.RUnlock()
	t.credsMu.Lock()
	defer t.credsMu.Unlock()
	if c := t.creds; c.Caller.AccessKeyID == "" || t.credsRole != info.TaskRoleArn ||
		!s.cfg.Clock.Now().Add(refreshBefore).Before(c.Expires) {
		c, err := s.cfg.Credentials.TaskRoleCredentials(ctx, info.Account, cmp.Or(info.Principal, ServicePrincipal), info.TaskRoleArn, info.ID())
		if err != nil {
			return info, credentialsResponse{}, err
		}
		t.creds, t.credsRole = c, info.TaskRoleArn
	}
	c := t.creds
	return info, credentialsResponse{RoleArn: info.TaskRoleArn, AccessKeyID: c.Caller.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey, Token: c.SessionToken,
		Expiration: c.Expires.UTC().Format(time.RFC3339)}, nil
}
