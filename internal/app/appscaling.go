package app

import (
	"context"
	"errors"

	"overcast"
	cwapi "overcast/internal/api/cloudwatch"
	ecsapi "overcast/internal/api/ecs"
	"overcast/internal/applicationautoscaling"
	"overcast/internal/cloudwatch"
	"overcast/internal/ecs"
	"overcast/internal/sns"
)

// alarmActions runs CloudWatch alarms' actions: Application Auto Scaling
// policies and SNS topics. It is built before the services it calls
// (CloudWatch comes first in the list), which are set before the
// controllers start.
type alarmActions struct {
	scaling *applicationautoscaling.Service
	topics  *sns.Service
}

var _ cloudwatch.AlarmActions = (*alarmActions)(nil)

func (a *alarmActions) RunAlarmAction(ctx context.Context, actionARN string, change cloudwatch.StateChange) error {
	parsed, _ := overcast.ParseARN(actionARN)
	switch {
	case parsed.Service == "autoscaling" && a.scaling != nil:
		return a.scaling.RunAlarmAction(ctx, actionARN, applicationautoscaling.AlarmChange(change))
	case parsed.Service == "sns" && a.topics != nil:
		return publishAlarm(ctx, a.topics, actionARN, change)
	}
	return nil
}

// scalingAlarms lets Application Auto Scaling create its target tracking
// alarms in CloudWatch.
type scalingAlarms struct{ cw *cloudwatch.Service }

var _ applicationautoscaling.Alarms = scalingAlarms{}

func (s scalingAlarms) PutAlarm(ctx context.Context, a applicationautoscaling.Alarm) error {
	in := &cwapi.PutMetricAlarmInput{AlarmName: &a.Name, AlarmDescription: &a.Description, AlarmActions: a.Actions,
		Namespace: &a.Namespace, MetricName: &a.MetricName, Statistic: &a.Statistic, Period: &a.Period,
		EvaluationPeriods: &a.EvaluationPeriods, Threshold: &a.Threshold, ComparisonOperator: &a.ComparisonOperator}
	if a.Unit != "" {
		in.Unit = &a.Unit
	}
	for _, d := range a.Dimensions {
		in.Dimensions = append(in.Dimensions, cwapi.Dimension{Name: &d.Name, Value: &d.Value})
	}
	return s.cw.PutMetricAlarm(ctx, in)
}

// DeleteAlarms deletes the alarms that still exist: one a user deleted
// does not keep its policy from being deleted.
func (s scalingAlarms) DeleteAlarms(ctx context.Context, names []string) error {
	for _, name := range names {
		err := s.cw.DeleteAlarms(ctx, &cwapi.DeleteAlarmsInput{AlarmNames: []string{name}})
		var gone *cwapi.ResourceNotFound
		if err != nil && !errors.As(err, &gone) {
			return err
		}
	}
	return nil
}

// scalingServices lets Application Auto Scaling read and set ECS
// services' desired counts.
type scalingServices struct{ ecs *ecs.Service }

var _ applicationautoscaling.ECSServices = scalingServices{}

func (s scalingServices) DesiredCount(ctx context.Context, cluster, service string) (int32, bool, error) {
	out, err := s.ecs.DescribeServices(ctx, &ecsapi.DescribeServicesRequest{Cluster: &cluster, Services: []string{service}})
	var noCluster *ecsapi.ClusterNotFoundException
	if errors.As(err, &noCluster) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	for _, sv := range out.Services {
		if sv.DesiredCount != nil && (sv.Status == nil || *sv.Status != "INACTIVE") {
			return *sv.DesiredCount, true, nil
		}
	}
	return 0, false, nil
}

func (s scalingServices) SetDesiredCount(ctx context.Context, cluster, service string, count int32) error {
	_, err := s.ecs.UpdateService(ctx, &ecsapi.UpdateServiceRequest{Cluster: &cluster, Service: &service, DesiredCount: &count})
	return err
}
