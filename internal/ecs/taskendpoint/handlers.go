package taskendpoint

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"time"
)

// credentialsResponse is the agent's credentials JSON, in its order.
type credentialsResponse struct {
	RoleArn         string `json:"RoleArn"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

// credentialsError is the agent's error JSON; HTTPErrorCode is in it
// because the agent marshals its whole error value.
type credentialsError struct {
	Code          string `json:"code"`
	Message       string `json:"message"`
	HTTPErrorCode int
}

const credentialsErrPrefix = "CredentialsV2Request: "

func (s *Server) serveCredentials(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		writeCredentialsError(w, http.StatusBadRequest, "NoIdInRequest", credentialsErrPrefix+"No Credential ID in the request")
		return
	}
	s.mu.RLock()
	t := s.byCreds[id]
	s.mu.RUnlock()
	// With FULL_URI the token is a second factor; a wrong one is answered
	// like a wrong ID, so that neither can be probed apart.
	if t == nil || (s.fullURI() && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(s.token(id))) != 1) {
		writeCredentialsError(w, http.StatusBadRequest, "InvalidIdInRequest", credentialsErrPrefix+"Credentials not found")
		return
	}
	info, creds, err := s.credentials(r.Context(), t)
	if err != nil {
		s.cfg.Logger.Error("issuing task role credentials", "task", info.ARN, "role", info.TaskRoleArn, "err", err)
		writeCredentialsError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error")
		return
	}
	writeJSON(w, http.StatusOK, creds)
}

func writeCredentialsError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, credentialsError{Code: code, Message: msg, HTTPErrorCode: status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// limits is the agent's LimitsResponse.
type limits struct {
	CPU    *float64 `json:"CPU,omitempty"`
	Memory *int64   `json:"Memory,omitempty"`
}

func limitsOf(cpu float64, memory int64) limits {
	var l limits
	if cpu > 0 {
		l.CPU = &cpu
	}
	if memory > 0 {
		l.Memory = &memory
	}
	return l
}

// containerResponse is task metadata v4's container, in the agent's order.
type containerResponse struct {
	DockerID      string            `json:"DockerId"`
	Name          string            `json:"Name"`
	DockerName    string            `json:"DockerName"`
	Image         string            `json:"Image"`
	ImageID       string            `json:"ImageID"`
	Ports         []Port            `json:"Ports,omitempty"`
	Labels        map[string]string `json:"Labels,omitempty"`
	DesiredStatus string            `json:"DesiredStatus"`
	KnownStatus   string            `json:"KnownStatus"`
	ExitCode      *int              `json:"ExitCode,omitempty"`
	Limits        limits            `json:"Limits"`
	CreatedAt     *time.Time        `json:"CreatedAt,omitempty"`
	StartedAt     *time.Time        `json:"StartedAt,omitempty"`
	FinishedAt    *time.Time        `json:"FinishedAt,omitempty"`
	Type          string            `json:"Type"`
	LogDriver     string            `json:"LogDriver,omitempty"`
	LogOptions    map[string]string `json:"LogOptions,omitempty"`
	ContainerARN  string            `json:"ContainerARN,omitempty"`
	Networks      []Network         `json:"Networks,omitempty"`
}

// taskResponse is task metadata v4's task, in the agent's order.
type taskResponse struct {
	Cluster               string              `json:"Cluster"`
	TaskARN               string              `json:"TaskARN"`
	Family                string              `json:"Family"`
	Revision              string              `json:"Revision"`
	DesiredStatus         string              `json:"DesiredStatus,omitempty"`
	KnownStatus           string              `json:"KnownStatus"`
	Limits                *limits             `json:"Limits,omitempty"`
	PullStartedAt         *time.Time          `json:"PullStartedAt,omitempty"`
	PullStoppedAt         *time.Time          `json:"PullStoppedAt,omitempty"`
	ExecutionStoppedAt    *time.Time          `json:"ExecutionStoppedAt,omitempty"`
	AvailabilityZone      string              `json:"AvailabilityZone,omitempty"`
	LaunchType            string              `json:"LaunchType,omitempty"`
	Containers            []containerResponse `json:"Containers,omitempty"`
	ServiceName           string              `json:"ServiceName,omitempty"`
	FaultInjectionEnabled bool                `json:"FaultInjectionEnabled"`
}

func containerResponseOf(c ContainerInfo) containerResponse {
	return containerResponse{DockerID: c.DockerID, Name: c.Name, DockerName: c.DockerName, Image: c.Image,
		ImageID: c.ImageID, Ports: c.Ports, Labels: c.Labels, DesiredStatus: c.DesiredStatus,
		KnownStatus: c.KnownStatus, ExitCode: c.ExitCode, Limits: limitsOf(c.CPU, c.Memory),
		CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, Type: "NORMAL",
		LogDriver: c.LogDriver, LogOptions: c.LogOptions, ContainerARN: c.ARN, Networks: c.Networks}
}

func taskResponseOf(t TaskInfo) taskResponse {
	out := taskResponse{Cluster: t.Cluster, TaskARN: t.ARN, Family: t.Family, Revision: t.Revision,
		DesiredStatus: t.DesiredStatus, KnownStatus: t.KnownStatus, PullStartedAt: t.PullStartedAt,
		PullStoppedAt: t.PullStoppedAt, ExecutionStoppedAt: t.ExecutionStoppedAt,
		AvailabilityZone: t.AvailabilityZone, LaunchType: t.LaunchType, ServiceName: t.ServiceName}
	if l := limitsOf(t.CPU, t.Memory); l != (limits{}) {
		out.Limits = &l
	}
	for _, c := range t.Containers {
		out.Containers = append(out.Containers, containerResponseOf(c))
	}
	return out
}

// lookup finds the task and container behind a metadata endpoint ID.
func (s *Server) lookup(r *http.Request) (TaskInfo, ContainerInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ref, ok := s.byEndpt[r.PathValue("endpoint")]
	if !ok {
		return TaskInfo{}, ContainerInfo{}, false
	}
	info := ref.task.info
	for _, c := range info.Containers {
		if c.Name == ref.container {
			return info, c, true
		}
	}
	return info, ContainerInfo{}, false
}

// The agent's answers for an endpoint ID it does not know: a JSON string.
const (
	noTask      = ": unable to get task arn from request: unable to get task Arn from v3 endpoint ID: "
	noContainer = ": unable to get container ID from request: unable to get docker ID from v3 endpoint ID: "
)

func (s *Server) serveContainerMetadata(w http.ResponseWriter, r *http.Request) {
	_, c, ok := s.lookup(r)
	if !ok || c.DockerID == "" {
		writeJSON(w, http.StatusNotFound, "V4 container metadata handler"+noContainer+r.PathValue("endpoint"))
		return
	}
	writeJSON(w, http.StatusOK, containerResponseOf(c))
}

func (s *Server) serveTaskMetadata(w http.ResponseWriter, r *http.Request) {
	info, _, ok := s.lookup(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, "V4 task metadata handler"+noTask+r.PathValue("endpoint"))
		return
	}
	writeJSON(w, http.StatusOK, taskResponseOf(info))
}

func (s *Server) serveContainerStats(w http.ResponseWriter, r *http.Request) {
	const prefix = "V4 container stats handler"
	info, c, ok := s.lookup(r)
	switch {
	case info.ARN == "":
		writeJSON(w, http.StatusNotFound, prefix+noTask+r.PathValue("endpoint"))
		return
	case !ok || c.DockerID == "":
		writeJSON(w, http.StatusNotFound, prefix+noContainer+r.PathValue("endpoint"))
		return
	}
	engine := s.statsOn(info)
	if engine == nil {
		s.cfg.Logger.Warn("container stats: the task's Docker engine is not one the endpoint knows", "container", c.DockerID, "engine", info.Engine)
		writeJSON(w, http.StatusInternalServerError, "Unable to get container stats for: "+c.DockerID)
		return
	}
	stats, err := engine.ContainerStats(r.Context(), c.DockerID)
	if err != nil {
		s.cfg.Logger.Warn("container stats", "container", c.DockerID, "err", err)
		writeJSON(w, http.StatusInternalServerError, "Unable to get container stats for: "+c.DockerID)
		return
	}
	writeJSON(w, http.StatusOK, stats.Raw)
}

// statsOn is the engine the task's containers run on; nil when the
// endpoint knows none by the name the task gives.
func (s *Server) statsOn(info TaskInfo) StatsReader {
	if engine, ok := s.cfg.EngineStats[info.Engine]; ok {
		return engine
	}
	if info.Engine == "" && s.cfg.Engine != nil {
		return s.cfg.Engine
	}
	return nil
}

// serveTaskStats answers the stats of each of the task's containers by
// Docker ID; null for one without stats (not started, or gone), as the
// agent does.
func (s *Server) serveTaskStats(w http.ResponseWriter, r *http.Request) {
	info, _, _ := s.lookup(r)
	if info.ARN == "" {
		writeJSON(w, http.StatusNotFound, "V4 task stats handler"+noTask+r.PathValue("endpoint"))
		return
	}
	engine := s.statsOn(info)
	out := map[string]json.RawMessage{}
	for _, c := range info.Containers {
		if c.DockerID == "" {
			continue
		}
		out[c.DockerID] = json.RawMessage("null")
		if engine == nil {
			continue
		}
		if stats, err := engine.ContainerStats(r.Context(), c.DockerID); err == nil && len(stats.Raw) > 0 {
			out[c.DockerID] = stats.Raw
		}
	}
	writeJSON(w, http.StatusOK, out)
}
