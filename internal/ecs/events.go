package ecs

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"time"

	api "overcast/internal/api/ecs"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/store"
)

// instanceChange is the detail of ECS's "ECS Container Instance State
// Change" event, as EventBridge rules match it.
type instanceChange struct {
	AgentConnected       bool              `json:"agentConnected"`
	Attributes           []changeAttribute `json:"attributes"`
	ClusterArn           string            `json:"clusterArn"`
	ContainerInstanceArn string            `json:"containerInstanceArn"`
	EC2InstanceID        string            `json:"ec2InstanceId,omitempty"`
	RegisteredResources  []changeResource  `json:"registeredResources"`
	RemainingResources   []changeResource  `json:"remainingResources"`
	Status               string            `json:"status"`
	Version              int64             `json:"version"`
	VersionInfo          map[string]string `json:"versionInfo"`
	UpdatedAt            time.Time         `json:"updatedAt"`
}

type changeAttribute struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

type changeResource struct {
	Name           string   `json:"name"`
	Type           string   `json:"type"`
	IntegerValue   int32    `json:"integerValue,omitempty"`
	StringSetValue []string `json:"stringSetValue,omitempty"`
}

func changeResources(rs api.Resources) []changeResource {
	out := make([]changeResource, 0, len(rs))
	for _, r := range rs {
		out = append(out, changeResource{Name: deref(r.Name), Type: deref(r.Type), IntegerValue: deref(r.IntegerValue), StringSetValue: r.StringSetValue})
	}
	return out
}

// publishInstanceChange publishes a container instance's state, in the
// transaction that changed it.
func (s *Service) publishInstanceChange(tx store.Tx, sc scope, ci containerInstance) error {
	view, err := s.instanceView(tx, sc, ci, false)
	if err != nil {
		return err
	}
	detail := instanceChange{AgentConnected: ci.AgentConnected, ClusterArn: clusterARN(sc, ci.Cluster),
		ContainerInstanceArn: ci.ARN, EC2InstanceID: ci.EC2InstanceID, Status: ci.Status, Version: ci.Version,
		RegisteredResources: changeResources(view.RegisteredResources), RemainingResources: changeResources(view.RemainingResources),
		Attributes: make([]changeAttribute, 0, len(ci.Attributes)), UpdatedAt: s.Now().UTC()}
	for _, a := range ci.Attributes {
		detail.Attributes = append(detail.Attributes, changeAttribute{Name: a.Name, Value: a.Value})
	}
	if v := ci.VersionInfo; v != nil {
		detail.VersionInfo = map[string]string{"agentHash": deref(v.AgentHash), "agentVersion": deref(v.AgentVersion), "dockerVersion": deref(v.DockerVersion)}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	// The transaction carries the event: Publish needs no context of its own.
	return s.Bus.Publish(context.Background(), tx, bus.Event{Source: "aws.ecs", Type: "ECS Container Instance State Change",
		Account: sc.Account, Region: sc.Region, Resources: []string{ci.ARN}, Detail: b})
}

// publishTaskChange publishes an "ECS Task State Change" event whose
// detail is the task as DescribeTasks shows it, in the transaction that
// changed it.
func (s *Service) publishTaskChange(tx store.Tx, sc scope, t *task) error {
	view := t.view(sc, false)
	var detail map[string]any
	if err := json.Unmarshal(awsproto.EncodeJSON(&view), &detail); err != nil {
		return err
	}
	isoTimes(detail)
	detail["updatedAt"] = s.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return s.Bus.Publish(context.Background(), tx, bus.Event{Source: "aws.ecs", Type: "ECS Task State Change",
		Account: sc.Account, Region: sc.Region, Resources: []string{t.ARN}, Detail: b})
}

// isoTimes rewrites the API's epoch-second timestamps (the members named
// "...At") as the ISO 8601 strings events carry.
func isoTimes(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if f, ok := x.(float64); ok && strings.HasSuffix(k, "At") {
				sec, frac := math.Modf(f)
				v[k] = time.Unix(int64(sec), int64(frac*1e9)).UTC().Format("2006-01-02T15:04:05.000Z")
				continue
			}
			isoTimes(x)
		}
	case []any:
		for _, x := range v {
			isoTimes(x)
		}
	}
}
