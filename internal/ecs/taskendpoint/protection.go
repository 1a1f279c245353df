package taskendpoint

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// TaskProtection sets and reads a task's scale-in protection for the
// task scale-in protection endpoint (ECS_AGENT_URI/task-protection/v1/
// state), as UpdateTaskProtection and GetTaskProtection do; the app
// adapts internal/ecs to it.
type TaskProtection interface {
	SetTaskProtection(ctx context.Context, account, region, cluster, taskARN string, enabled bool, expiresInMinutes *int32) (Protection, error)
	TaskProtection(ctx context.Context, account, region, cluster, taskARN string) (Protection, error)
}

// Protection is a task's protection as the endpoint tells it.
type Protection struct {
	ExpirationDate    *time.Time `json:"ExpirationDate,omitempty"`
	ProtectionEnabled bool       `json:"ProtectionEnabled"`
	TaskArn           string     `json:"TaskArn"`
}

// ProtectionFailure is an ECS API failure (TASK_NOT_VALID, MISSING) for
// the task: the endpoint answers it as a failure, not an error.
type ProtectionFailure struct {
	Arn, Reason, Detail string
}

func (f *ProtectionFailure) Error() string { return f.Reason + ": " + f.Detail }

// serveProtection answers GET and PUT of a task's scale-in protection.
func (s *Server) serveProtection(w http.ResponseWriter, r *http.Request) {
	info, _, ok := s.lookup(r)
	if !ok || s.cfg.Protection == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"Code": "ResourceNotFoundException",
			"Message": "Task scale-in protection endpoint: unable to find the task of endpoint " + r.PathValue("endpoint")}})
		return
	}
	var p Protection
	var err error
	if r.Method == http.MethodGet {
		p, err = s.cfg.Protection.TaskProtection(r.Context(), info.Account, info.Region, info.Cluster, info.ARN)
	} else {
		var req struct {
			ProtectionEnabled *bool
			ExpiresInMinutes  *int32
		}
		if derr := json.NewDecoder(r.Body).Decode(&req); derr != nil || req.ProtectionEnabled == nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"Arn": info.ARN, "Code": "InvalidParameterException",
				"Message": "Invalid request: ProtectionEnabled is required"}})
			return
		}
		p, err = s.cfg.Protection.SetTaskProtection(r.Context(), info.Account, info.Region, info.Cluster, info.ARN, *req.ProtectionEnabled, req.ExpiresInMinutes)
	}
	var failure *ProtectionFailure
	switch {
	case errors.As(err, &failure):
		writeJSON(w, http.StatusBadRequest, map[string]any{"failure": map[string]string{"Arn": failure.Arn, "Reason": failure.Reason, "Detail": failure.Detail}})
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"Arn": info.ARN, "Code": "InvalidParameterException",
			"Message": err.Error()}})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"protection": p})
	}
}
