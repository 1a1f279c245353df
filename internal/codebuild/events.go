package codebuild

import (
	"context"
	"encoding/json"

	api "overcast/internal/api/codebuild"
	"overcast/internal/bus"
	"overcast/internal/codebuild/runner"
	"overcast/internal/service"
	"overcast/internal/store"
)

// The events CodeBuild publishes, as EventBridge shows them.
const (
	eventSource      = "aws.codebuild"
	buildStateChange = "CodeBuild Build State Change"
	buildPhaseChange = "CodeBuild Build Phase Change"
)

// eventTime is how CodeBuild's events write times ("Sep 1, 2017 4:12:29 PM").
const eventTime = "Jan 2, 2006 3:04:05 PM"

type phaseDetail struct {
	Context  []string `json:"phase-context"`
	Start    string   `json:"start-time,omitempty"`
	End      string   `json:"end-time,omitempty"`
	Duration *int64   `json:"duration-in-seconds,omitempty"`
	Type     string   `json:"phase-type"`
	Status   string   `json:"phase-status,omitempty"`
}

// additionalInformation is the build as its events describe it.
func additionalInformation(b *api.Build) map[string]any {
	env := b.Environment
	info := map[string]any{
		"timeout-in-minutes": service.Deref(b.TimeoutInMinutes),
		"build-complete":     service.Deref(b.BuildComplete),
		"initiator":          service.Deref(b.Initiator),
		"build-start-time":   b.StartTime.Format(eventTime),
		"source":             map[string]any{"type": service.Deref(b.Source.Type), "location": service.Deref(b.Source.Location)},
		"environment": map[string]any{"image": service.Deref(env.Image), "privileged-mode": service.Deref(env.PrivilegedMode),
			"compute-type": service.Deref(env.ComputeType), "type": service.Deref(env.Type),
			"environment-variables": service.Map(env.EnvironmentVariables, func(v api.EnvironmentVariable) map[string]string {
				return map[string]string{"name": *v.Name, "type": service.Deref(v.Type), "value": *v.Value}
			})},
		"phases": service.Map(b.Phases, func(p api.BuildPhase) phaseDetail {
			d := phaseDetail{Type: *p.PhaseType, Status: service.Deref(p.PhaseStatus), Duration: p.DurationInSeconds,
				Context: service.Map(p.Contexts, contextString)}
			if p.StartTime != nil {
				d.Start = p.StartTime.Format(eventTime)
			}
			if p.EndTime != nil {
				d.End = p.EndTime.Format(eventTime)
			}
			return d
		}),
		"queued-timeout-in-minutes": service.Deref(b.QueuedTimeoutInMinutes),
	}
	if b.Artifacts != nil && b.Artifacts.Location != nil {
		info["artifact"] = map[string]string{"location": *b.Artifacts.Location}
	}
	if l := b.Logs; l != nil && l.GroupName != nil {
		info["logs"] = map[string]string{"group-name": *l.GroupName, "stream-name": *l.StreamName, "deep-link": service.Deref(l.DeepLink)}
	}
	return info
}

func contextString(c api.PhaseContext) string {
	return service.Deref(c.StatusCode) + ": " + service.Deref(c.Message)
}

// currentPhaseContext is the current phase's contexts as the events write
// them: a JSON list in a string.
func currentPhaseContext(b *api.Build) string {
	var contexts []string
	for _, p := range b.Phases {
		if service.Deref(p.PhaseType) == service.Deref(b.CurrentPhase) {
			contexts = service.Map(p.Contexts, contextString)
		}
	}
	if n := len(b.Phases); n > 1 && service.Deref(b.CurrentPhase) == phaseCompleted {
		contexts = service.Map(b.Phases[n-2].Contexts, contextString)
	}
	out, _ := json.Marshal(nonNil(contexts))
	return string(out)
}

// publishBuildState announces the build's status (IN_PROGRESS when it is
// submitted, its end status when it completes) in tx.
func (s *Service) publishBuildState(tx store.Tx, b *build) error {
	pb := &b.Build
	return s.publish(tx, b, buildStateChange, map[string]any{
		"build-status": *pb.BuildStatus, "project-name": *pb.ProjectName, "build-id": *pb.Arn,
		"additional-information": additionalInformation(pb), "current-phase": *pb.CurrentPhase,
		"current-phase-context": currentPhaseContext(pb), "version": "1",
	})
}

// publishPhaseChange announces a phase's end in tx.
func (s *Service) publishPhaseChange(tx store.Tx, b *build, p runner.Phase) error {
	pb := &b.Build
	contexts := service.Map(p.Contexts, func(c runner.PhaseContext) string { return c.StatusCode + ": " + c.Message })
	ctxJSON, _ := json.Marshal(nonNil(contexts))
	return s.publish(tx, b, buildPhaseChange, map[string]any{
		"completed-phase": p.Type, "completed-phase-status": p.Status,
		"completed-phase-duration-seconds": int64(p.End.Sub(p.Start).Seconds()),
		"completed-phase-start":            p.Start.Format(eventTime), "completed-phase-end": p.End.Format(eventTime),
		"completed-phase-context": string(ctxJSON), "project-name": *pb.ProjectName, "build-id": *pb.Arn,
		"additional-information": additionalInformation(pb), "version": "1",
	})
}

func (s *Service) publish(tx store.Tx, b *build, detailType string, detail map[string]any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	// The transaction carries the event: Publish needs no context of its own.
	return s.Bus.Publish(context.Background(), tx, bus.Event{Source: eventSource, Type: detailType,
		Account: b.Account, Region: b.Region, Resources: []string{*b.Build.Arn}, Detail: raw})
}

// phaseMetrics names the AWS/CodeBuild duration metric of each phase.
var phaseMetrics = map[string]string{
	phaseSubmitted: "SubmittedDuration", phaseQueued: "QueuedDuration", runner.PhaseProvisioning: "ProvisioningDuration",
	runner.PhaseDownloadSource: "DownloadSourceDuration", runner.PhaseInstall: "InstallDuration",
	runner.PhasePreBuild: "PreBuildDuration", runner.PhaseBuild: "BuildDuration", runner.PhasePostBuild: "PostBuildDuration",
	runner.PhaseUploadArtifacts: "UploadArtifactsDuration", runner.PhaseFinalizing: "FinalizingDuration",
}

// putBuildMetrics publishes a completed build's AWS/CodeBuild metrics, per
// project and for the account, as CodeBuild does.
func (s *Service) putBuildMetrics(ctx context.Context, b *build) {
	if s.opts.Metrics == nil {
		return
	}
	pb := &b.Build
	status := *pb.BuildStatus
	data := []Metric{
		{Name: "Builds", Value: 1, Unit: "Count"},
		{Name: "Duration", Value: pb.EndTime.Sub(*pb.StartTime).Seconds(), Unit: "Seconds"},
	}
	switch status {
	case statusSucceeded:
		data = append(data, Metric{Name: "SucceededBuilds", Value: 1, Unit: "Count"})
	case statusFailed, statusFault, statusTimedOut:
		data = append(data, Metric{Name: "FailedBuilds", Value: 1, Unit: "Count"})
	}
	for _, p := range pb.Phases {
		if name, ok := phaseMetrics[*p.PhaseType]; ok && p.DurationInSeconds != nil {
			data = append(data, Metric{Name: name, Value: float64(*p.DurationInSeconds), Unit: "Seconds"})
		}
	}
	perProject := service.Map(data, func(m Metric) Metric {
		m.Dimensions = map[string]string{"ProjectName": *pb.ProjectName}
		return m
	})
	if err := s.opts.Metrics.Put(ctx, b.Account, b.Region, append(data, perProject...)); err != nil {
		s.Logger.Warn("codebuild: publishing a build's metrics", "build", *pb.Id, "err", err)
	}
}
